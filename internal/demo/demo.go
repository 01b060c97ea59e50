// Package demo fills a fresh store with a small, realistic hosting
// business (an admin, two resellers and their users) for `kontor demo`,
// so that a newcomer can log in at every tier at once. The passwords are
// fixed and printed: never use the demo store for anything real.
package demo

import (
	"context"
	"fmt"
	"slices"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// Login is one account the demo created, with its password.
type Login struct {
	Login    string
	Password string
	Role     panel.Role
	Reseller string   // the reseller of a user; "" otherwise
	Name     string   // person or company
	Domains  []string // Unicode
}

// Logins lists the demo accounts: the admin, then each reseller followed by
// its users.
type Logins []Login

// AdminLogin is the demo admin's login.
const AdminLogin = "admin"

// admin is the CLI's view of the admin for the store's admin-only methods.
var admin = panel.Actor{Role: panel.RoleAdmin, Login: "demo"}

type userSpec struct {
	password string
	lang     string
	profile  panel.Profile
	limits   panel.Limits
	services panel.ServiceSet
	domains  []string // as typed, Unicode allowed
}

type resellerSpec struct {
	login, password string
	name, company   string
	email, lang     string
	limits          panel.ResellerLimits
	services        panel.ServiceSet
	users           []userSpec
}

const adminPassword = "admin-demo"

func hard(v int64) panel.ResellerLimit { return panel.ResellerLimit{Value: v, Mode: panel.ModeHard} }
func soft(v int64) panel.ResellerLimit { return panel.ResellerLimit{Value: v, Mode: panel.ModeMaximum} }
func maxU(v int64) panel.ResellerLimit {
	return panel.ResellerLimit{Value: v, Mode: panel.ModeMaximum, AllowUnlimited: true}
}

// allServices is every service at its highest level except ColdFusion,
// which needs an engine the admin has not configured.
func allServices() panel.ServiceSet {
	ss := panel.ServiceSet{}
	for _, s := range panel.Services() {
		if s != panel.SvcColdFusion {
			ss[s] = s.MaxLevel()
		}
	}
	return ss
}

func specs() []resellerSpec {
	return []resellerSpec{{
		login: "res1", password: "res1-demo", name: "Petra Schneider", company: "Schneider Webhosting GmbH",
		email: "petra@schneider-hosting.example", lang: "de",
		limits: panel.ResellerLimits{
			panel.ResUsers:          hard(10),
			panel.ResStorage:        maxU(20480),
			panel.ResPOP3:           {Value: panel.Unlimited, Mode: panel.ModeMaximum, AllowUnlimited: true},
			panel.ResEmail:          {Value: panel.Unlimited, Mode: panel.ModeHard, AllowUnlimited: true},
			panel.ResAutoresponders: soft(50),
			panel.ResFTPUsers:       hard(20),
			panel.ResTraffic:        maxU(200000),
			panel.ResSubdomains:     hard(60),
			panel.ResMySQL:          soft(20),
			panel.ResWildcard:       hard(4),
			panel.ResAtDomains:      soft(10),
			panel.ResCron:           hard(20),
			panel.ResMailingLists:   soft(5),
		},
		services: allServices(),
		users: []userSpec{{
			password: "web-demo-1", lang: "de",
			profile: panel.Profile{Name: "Hans Müller", Company: "Bäckerei Müller GmbH", Street: "Hauptstraße 12",
				Zip: "80331", City: "München", Country: "Deutschland", Email: "hans@mueller-baeckerei.example",
				Phone: "+49 89 1234567", Show: []string{"name", "company", "city"}},
			limits: panel.Limits{panel.ResStorage: 2048, panel.ResPOP3: 20, panel.ResEmail: 50, panel.ResAutoresponders: 5,
				panel.ResFTPUsers: 2, panel.ResTraffic: 20000, panel.ResSubdomains: 10, panel.ResMySQL: 2,
				panel.ResWildcard: 1, panel.ResAtDomains: 2, panel.ResCron: 3, panel.ResMailingLists: 1},
			services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcSSI: 1, panel.SvcSSL: 1,
				panel.SvcWebalizer: 1, panel.SvcWebMail: 1, panel.SvcWebFTP: 1, panel.SvcSpamFilter: 1,
				panel.SvcBackup: panel.BackupYes, panel.SvcErrorFiles: 1},
			domains: []string{"müller-bäckerei.de", "mueller-baeckerei.de"},
		}, {
			password: "web-demo-2", lang: "en",
			profile: panel.Profile{Name: "Jane Doe", Company: "Doe Photography", City: "Hamburg", Country: "Deutschland",
				Email: "jane@janedoe-photo.example", Show: []string{"name"}},
			limits: panel.Limits{panel.ResStorage: 10240, panel.ResPOP3: 5, panel.ResEmail: -1, panel.ResFTPUsers: 1,
				panel.ResTraffic: -1, panel.ResSubdomains: 5, panel.ResMySQL: 1, panel.ResCron: 1},
			services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcPHPUpload: 1, panel.SvcSSL: 1,
				panel.SvcDirListing: 1, panel.SvcWebMail: 1, panel.SvcShell: panel.ShellSFTP, panel.SvcProtectedDirs: 1},
			domains: []string{"janedoe-photo.com"},
		}, {
			password: "web-demo-3", lang: "de",
			profile: panel.Profile{Name: "Klaus Becker", Company: "Becker Weinhandel KG", Street: "Am Markt 3",
				Zip: "55116", City: "Mainz", Country: "Deutschland", Email: "info@becker-wein.example"},
			limits: panel.Limits{panel.ResStorage: 5120, panel.ResPOP3: 10, panel.ResEmail: 30, panel.ResAutoresponders: 3,
				panel.ResFTPUsers: 3, panel.ResTraffic: 50000, panel.ResSubdomains: 20, panel.ResMySQL: 5,
				panel.ResWildcard: 1, panel.ResAtDomains: 1, panel.ResCron: 5, panel.ResMailingLists: 2},
			services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcPHPUpload: 1, panel.SvcSSI: 1,
				panel.SvcSSL: 1, panel.SvcCGI: 1, panel.SvcPython: 1, panel.SvcShell: panel.ShellFull,
				panel.SvcWebalizer: 1, panel.SvcWebMail: 1, panel.SvcWebFTP: 1, panel.SvcStdCGI: 1,
				panel.SvcSpamFilter: 1, panel.SvcBackup: panel.BackupUpload},
			domains: []string{"becker-wein.de", "becker-weinhandel.de"},
		}, {
			password: "web-demo-4", lang: "de",
			profile: panel.Profile{Name: "Sabine Wolf", Company: "TC Grün-Weiß e.V.", City: "Köln", Country: "Deutschland",
				Email: "vorstand@tc-gruen-weiss.example", Custom: [3]string{"Vereinsnummer 4711", "", ""}},
			limits: panel.Limits{panel.ResStorage: 512, panel.ResPOP3: 3, panel.ResEmail: 10, panel.ResTraffic: 5000,
				panel.ResSubdomains: 2, panel.ResMailingLists: 1},
			services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcWebMail: 1, panel.SvcSpamFilter: 1},
			domains:  []string{"tc-grün-weiß.de"},
		}},
	}, {
		login: "res2", password: "res2-demo", name: "Tom Baker", company: "Baker Digital Ltd",
		email: "tom@baker-digital.example", lang: "en",
		limits: panel.ResellerLimits{
			panel.ResUsers:          hard(3),
			panel.ResStorage:        hard(4096),
			panel.ResPOP3:           soft(20),
			panel.ResEmail:          soft(50),
			panel.ResAutoresponders: soft(5),
			panel.ResFTPUsers:       hard(2),
			panel.ResTraffic:        soft(20000),
			panel.ResSubdomains:     soft(10),
			panel.ResMySQL:          hard(3),
			panel.ResWildcard:       hard(0),
			panel.ResAtDomains:      soft(2),
			panel.ResCron:           hard(0),
			panel.ResMailingLists:   hard(0),
		},
		services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcSSI: 1, panel.SvcSSL: 1,
			panel.SvcWebalizer: 1, panel.SvcProtectedDirs: 1, panel.SvcErrorFiles: 1, panel.SvcWebFTP: 1,
			panel.SvcWebMail: 1, panel.SvcSpamFilter: 1, panel.SvcShell: panel.ShellSFTP, panel.SvcBackup: panel.BackupYes},
		users: []userSpec{{
			password: "web-demo-5", lang: "en",
			profile: panel.Profile{Name: "Alice Smith", Company: "Smith Consulting", City: "London", Country: "United Kingdom",
				Email: "alice@smith-consulting.example", Phone: "+44 20 7946 0000", Show: []string{"name", "email"}},
			limits: panel.Limits{panel.ResStorage: 2048, panel.ResPOP3: 10, panel.ResEmail: 25, panel.ResAutoresponders: 2,
				panel.ResFTPUsers: 1, panel.ResTraffic: 10000, panel.ResSubdomains: 5, panel.ResMySQL: 2, panel.ResAtDomains: 1},
			services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcSSL: 1, panel.SvcWebMail: 1,
				panel.SvcWebalizer: 1, panel.SvcBackup: panel.BackupYes},
			domains: []string{"smith-consulting.co.uk"},
		}, {
			password: "web-demo-6", lang: "en",
			profile: panel.Profile{Name: "Bob Jones", City: "Leeds", Country: "United Kingdom",
				Email: "bob@bobs-blog.example"},
			limits: panel.Limits{panel.ResStorage: 1024, panel.ResPOP3: 2, panel.ResEmail: 5,
				panel.ResTraffic: 5000, panel.ResSubdomains: 2, panel.ResMySQL: 1},
			services: panel.ServiceSet{panel.SvcFTP: 1, panel.SvcPHP: 1, panel.SvcWebMail: 1},
			domains:  []string{"bobs-blog.org", "bobsblog.net"},
		}},
	}}
}

// Seed creates the demo accounts in a fresh, migrated store and returns
// them with their passwords. Run it once per store: a second run fails on
// the taken logins.
func Seed(ctx context.Context, a *app.App) (Logins, error) {
	if _, err := a.CreateAdmin(ctx, AdminLogin, adminPassword); err != nil {
		return nil, fmt.Errorf("demo admin: %w", err)
	}
	out := Logins{{Login: AdminLogin, Password: adminPassword, Role: panel.RoleAdmin, Name: "Administrator"}}
	for _, rs := range specs() {
		r, pw, err := a.CreateReseller(ctx, admin, app.ResellerInput{Login: rs.login, Password: rs.password,
			Name: rs.name, Company: rs.company, Email: rs.email, Language: rs.lang,
			Limits: rs.limits, Services: rs.services})
		if err != nil {
			return nil, fmt.Errorf("demo reseller %s: %w", rs.login, err)
		}
		out = append(out, Login{Login: r.Login, Password: pw, Role: panel.RoleReseller, Name: rs.company})
		// Two templates per reseller, shaped like its first and last demo
		// users, so the wizard's step 1 has something to offer.
		ra := panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
		for _, tp := range []struct {
			name string
			us   userSpec
		}{{"Starter", rs.users[0]}, {"Business", rs.users[len(rs.users)-1]}} {
			if _, err := a.Store.CreateTemplate(ctx, ra, panel.Template{Name: tp.name, Limits: tp.us.limits, Services: tp.us.services}); err != nil {
				return nil, fmt.Errorf("demo template %s of %s: %w", tp.name, rs.login, err)
			}
		}
		for i, us := range rs.users {
			doms := make([]store.NewDomain, len(us.domains))
			for j, d := range us.domains {
				doms[j] = store.NewDomain{Name: d, DNS: true}
			}
			res, pw, err := a.CreateUser(ctx, admin, app.UserInput{ResellerID: r.ID, Password: us.password,
				Language: us.lang, Profile: us.profile, Limits: us.limits, Services: us.services, Domains: doms})
			if err != nil {
				return nil, fmt.Errorf("demo user %d of %s: %w", i+1, rs.login, err)
			}
			out = append(out, userLogin(res.User, pw))
		}
	}
	return out, nil
}

func userLogin(u panel.User, pw string) Login {
	l := Login{Login: u.Login, Password: pw, Role: panel.RoleUser, Reseller: u.ResellerLogin, Name: u.Profile.Name}
	if u.Profile.Company != "" {
		l.Name = u.Profile.Company
	}
	for _, d := range u.Domains {
		l.Domains = append(l.Domains, d.Display())
	}
	return l
}

// Seeded reports whether the store already holds the demo admin.
func Seeded(ctx context.Context, st *store.Store) (bool, error) {
	_, err := st.CredentialsByLogin(ctx, AdminLogin)
	switch {
	case err == nil:
		return true, nil
	case panel.ErrorKind(err) == panel.KindNotFound:
		return false, nil
	}
	return false, err
}

// Existing returns the demo accounts of a store Seed filled earlier, with
// the passwords Seed gave them (a password changed since is not known).
// Users are found by their first domain, which is unique on the server.
func Existing(ctx context.Context, a *app.App) (Logins, error) {
	out := Logins{{Login: AdminLogin, Password: adminPassword, Role: panel.RoleAdmin, Name: "Administrator"}}
	for _, rs := range specs() {
		cred, err := a.Store.CredentialsByLogin(ctx, rs.login)
		if err != nil {
			return nil, fmt.Errorf("demo reseller %s: %w", rs.login, err)
		}
		out = append(out, Login{Login: rs.login, Password: rs.password, Role: panel.RoleReseller, Name: rs.company})
		for _, us := range rs.users {
			dom, err := panel.NormalizeDomain("domain", us.domains[0])
			if err != nil {
				return nil, err
			}
			rows, _, err := a.Store.Users(ctx, admin, store.UserFilter{ResellerID: cred.Account.ID, Search: dom, Limit: 100})
			if err != nil {
				return nil, fmt.Errorf("demo users of %s: %w", rs.login, err)
			}
			for _, row := range rows {
				if !slices.Contains(row.Domains, dom) {
					continue
				}
				u, err := a.Store.User(ctx, admin, row.ID)
				if err != nil {
					return nil, err
				}
				out = append(out, userLogin(u, us.password))
				break
			}
		}
	}
	return out, nil
}
