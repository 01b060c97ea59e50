package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/auth"
	"kontor/internal/panel"
)

// userSecrets derives valid secrets as the app does, at bcrypt's lowest cost.
func userSecrets(t testing.TB, pw string) map[string]string {
	t.Helper()
	h, err := auth.Params{}.HashHtpasswd(pw)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{SecretMySQL: auth.MySQLNativeHash(pw), SecretHtpasswd: h}
}

func secretsOf(t *testing.T, s *Store, id int64) map[string]string {
	t.Helper()
	rows, err := s.db.Query(s.q(`SELECT kind, value FROM account_secrets WHERE account_id = ?`), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	return m
}

func messagesOf(t *testing.T, s *Store, a panel.Actor, kind panel.MessageKind) []panel.Message {
	t.Helper()
	ms, _, err := s.Messages(context.Background(), a, MessageFilter{Kind: kind, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestChangesCursorPrune(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		s.now = func() time.Time { return now }
		if id, err := s.LastChangeID(ctx); err != nil || id != 0 {
			t.Fatalf("empty journal: %d %v", id, err)
		}
		if c, err := s.AgentCursor(ctx); err != nil || c != 0 {
			t.Fatalf("cursor before the agent ran: %d %v", c, err)
		}
		r, ra := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}, nil)
		var logins []string
		for i := 0; i < 3; i++ {
			res, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h"})
			if err != nil {
				t.Fatal(err)
			}
			logins = append(logins, res.User.Login)
			now = now.Add(time.Hour)
		}
		all, err := s.Changes(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		// The reseller's default account, then the three users.
		if len(all) != 4 || all[0].Login != panel.DefaultUserLogin(r.Login) {
			t.Fatalf("journal: %+v", all)
		}
		for i, c := range all[1:] {
			if c.Login != logins[i] || c.What != "create" || c.AccountID == 0 || c.ID <= all[i].ID {
				t.Errorf("change %d: %+v", i+1, c)
			}
		}
		page, err := s.Changes(ctx, all[1].ID, 2)
		if err != nil || len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
			t.Fatalf("page after %d: %+v %v", all[1].ID, page, err)
		}
		last, err := s.LastChangeID(ctx)
		if err != nil || last != all[3].ID {
			t.Fatalf("last: %d %v", last, err)
		}
		if err := s.SetAgentCursor(ctx, all[2].ID); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.AgentCursor(ctx); c != all[2].ID {
			t.Fatalf("cursor %d, want %d", c, all[2].ID)
		}
		// Up to the cursor, but only rows older than the cut: the newest
		// applied one stays.
		if err := s.PruneChanges(ctx, all[2].ID, time.Unix(all[2].CreatedAt, 0)); err != nil {
			t.Fatal(err)
		}
		left, _ := s.Changes(ctx, 0, 100)
		if len(left) != 2 || left[0].ID != all[2].ID || left[1].ID != all[3].ID {
			t.Fatalf("after prune: %+v", left)
		}
	})
}

func TestServerFacts(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f, err := s.ServerFacts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := agent.Server{Hostname: "localhost.localdomain", SharedIPv4: []string{"127.0.0.1"},
			NameServers: []string{"ns1.localhost.localdomain", "ns2.localhost.localdomain"}, MailHost: "localhost.localdomain"}
		if !reflect.DeepEqual(f, want) {
			t.Fatalf("defaults:\n got %+v\nwant %+v", f, want)
		}
		if err := s.SetSettings(ctx, admin, map[string]string{"server_name": "web01.hoster.example"}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"192.0.2.10", "2001:db8::10", "192.0.2.11"} {
			if _, err := s.AddIP(ctx, admin, a, true, 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddIP(ctx, admin, "192.0.2.99", false, 0); err != nil {
			t.Fatal(err)
		}
		f, _ = s.ServerFacts(ctx)
		want = agent.Server{Hostname: "web01.hoster.example", SharedIPv4: []string{"192.0.2.10", "192.0.2.11"},
			SharedIPv6: []string{"2001:db8::10"}, NameServers: []string{"ns1.web01.hoster.example", "ns2.web01.hoster.example"},
			MailHost: "web01.hoster.example"}
		if !reflect.DeepEqual(f, want) {
			t.Fatalf("server name and shared addresses (the exclusive one left out):\n got %+v\nwant %+v", f, want)
		}
		if err := s.SetSettings(ctx, admin, map[string]string{"dns_nameservers": "a.ns.example b.ns.example c.ns.example",
			"mail_host": "mx.hoster.example", "coldfusion": "127.0.0.1:8500"}); err != nil {
			t.Fatal(err)
		}
		f, _ = s.ServerFacts(ctx)
		if !reflect.DeepEqual(f.NameServers, []string{"a.ns.example", "b.ns.example", "c.ns.example"}) ||
			f.MailHost != "mx.hoster.example" || f.ColdFusion != "127.0.0.1:8500" {
			t.Fatalf("configured facts: %+v", f)
		}
	})
}

// TestSettingsJournalServer: a change of a server fact is one journal row
// for all users; saving the same values again, or another setting, none.
func TestSettingsJournalServer(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		count := func() int {
			cs, err := s.Changes(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range cs {
				if c.What == "server" {
					if c.AccountID != 0 || c.Login != "" {
						t.Fatalf("server row names an account: %+v", c)
					}
					n++
				}
			}
			return n
		}
		set := map[string]string{"server_name": "a.example", "mail_host": "", "panel_url": "https://p.example/"}
		if err := s.SetSettings(ctx, admin, set); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("first save: %d server rows, want 1", n)
		}
		if err := s.SetSettings(ctx, admin, set); err != nil {
			t.Fatal(err)
		}
		set["panel_url"] = "https://q.example/"
		if err := s.SetSettings(ctx, admin, set); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("unchanged facts: %d server rows, want 1", n)
		}
		set["mail_host"] = "mx.example"
		if err := s.SetSettings(ctx, admin, set); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("changed mail host: %d server rows, want 2", n)
		}
	})
}

func TestDesiredUsers(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		svc := panel.ServiceSet{panel.SvcPHP: 1, panel.SvcSSL: 1, panel.SvcWebalizer: 1, panel.SvcShell: 2}
		full := panel.ResellerLimits{panel.ResUsers: {Value: -1, Mode: panel.ModeMaximum}, panel.ResMySQL: {Value: -1, Mode: panel.ModeMaximum},
			panel.ResCron: {Value: -1, Mode: panel.ModeMaximum}}
		rsec := userSecrets(t, "resellerpw")
		delete(rsec, SecretMySQL)
		r, err := s.CreateReseller(ctx, admin, NewReseller{PasswordHash: "h", DefaultHash: "d", Limits: full, Services: svc, Secrets: rsec})
		if err != nil {
			t.Fatal(err)
		}
		ra := panel.Actor{ID: r.ID, Role: panel.RoleReseller, ResellerID: r.ID}
		if err := s.SetAccountSetting(ctx, ra, "index.html", "<h1>Welcome ##user##</h1>"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAccountSetting(ctx, ra, "index.name", "start.html"); err != nil {
			t.Fatal(err)
		}
		usec := userSecrets(t, "userpw")
		u1, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h", Secrets: usec,
			Limits: panel.Limits{panel.ResMySQL: 3, panel.ResCron: 2}, Services: panel.ServiceSet{panel.SvcPHP: 1, panel.SvcSSL: 1},
			Domains: []NewDomain{{Name: "beta.example", DNS: true}, {Name: "alpha.example", DNS: false}}})
		if err != nil {
			t.Fatal(err)
		}
		u2, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "müller.example", DNS: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetStatus(ctx, ra, u2.User.ID, panel.StatusLocked); err != nil {
			t.Fatal(err)
		}
		// An exclusive address on one domain of u1.
		ip, err := s.AddIP(ctx, admin, "192.0.2.50", false, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var alphaID int64
		for _, d := range u1.User.Domains {
			if d.Name == "alpha.example" {
				alphaID = d.ID
			}
		}
		if err := s.SetDomainIP(ctx, ra, alphaID, ip.ID); err != nil {
			t.Fatal(err)
		}
		fpHash, _ := auth.Params{}.HashHtpasswd("fp")
		fpLogin, err := s.SetFrontPageOn(ctx, ra, u1.User.ID, fpHash)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(s.q(`INSERT INTO ssl_certs (account_id, key_pem, cert_pem, chain_pem, subject, issuer, not_before, not_after, created_at)
			VALUES (?, 'KEY', 'CERT', 'CHAIN', 's', 'i', 0, 0, 0)`), u1.User.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(s.q(`INSERT INTO mysql_external (account_id, created_at) VALUES (?, 0)`), u1.User.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			sched, cmd string
			on         int
		}{{"*/5 * * * *", "php cron.php", 1}, {"@daily", "off.sh", 0}, {"@hourly", "backup.sh", 1}} {
			if _, err := s.db.Exec(s.q(`INSERT INTO cron_jobs (user_id, schedule, command, enabled, created_at) VALUES (?, ?, ?, ?, 0)`),
				u1.User.ID, c.sched, c.cmd, c.on); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddDatabase(ctx, ra, u1.User.ID); err != nil {
			t.Fatal(err)
		}
		opt := DesiredOptions{UIDBase: 10000, HomeBase: "/home/"}

		got, err := s.DesiredUsers(ctx, []int64{u2.User.ID, u1.User.ID, r.ID, 999999, u1.User.ID}, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != u1.User.ID || got[1].ID != u2.User.ID {
			t.Fatalf("want u1 and u2 once each, by id (the reseller and an unknown id absent): %+v", got)
		}
		g := got[0]
		l := g.Login
		if g.UID != 10000+int(u1.User.Number) || g.Home != "/home/"+l || g.Locked {
			t.Errorf("placement: uid %d home %q locked %v", g.UID, g.Home, g.Locked)
		}
		if !reflect.DeepEqual(g.Services, panel.ServiceSet{panel.SvcPHP: 1, panel.SvcSSL: 1}) {
			t.Errorf("services %v", g.Services)
		}
		if g.Limits[panel.ResMySQL] != 3 || g.Limits[panel.ResCron] != 2 || len(g.Limits) != len(panel.Resources()) {
			t.Errorf("limits %v", g.Limits)
		}
		wantDoms := []agent.Domain{{Name: "alpha.example", DNS: false, IP: "192.0.2.50"}, {Name: "beta.example", DNS: true}}
		if !reflect.DeepEqual(g.Domains, wantDoms) {
			t.Errorf("domains %+v, want %+v", g.Domains, wantDoms)
		}
		if g.SSL == nil || *g.SSL != (agent.Certificate{CertPEM: "CERT", KeyPEM: "KEY", ChainPEM: "CHAIN"}) {
			t.Errorf("ssl %+v", g.SSL)
		}
		if g.FrontPage == nil || g.FrontPage.Login != fpLogin || g.FrontPage.Hash != fpHash {
			t.Errorf("frontpage %+v", g.FrontPage)
		}
		if g.IndexHTML != "<h1>Welcome "+l+"</h1>" || g.IndexName != "start.html" {
			t.Errorf("index %q %q", g.IndexName, g.IndexHTML)
		}
		if g.ResellerID != r.ID || g.ResellerLogin != r.Login {
			t.Errorf("reseller %d %q", g.ResellerID, g.ResellerLogin)
		}
		if !reflect.DeepEqual(g.Databases, []string{l + "_db1", l + "_db2"}) || g.DBHash != auth.MySQLNativeHash("userpw") || !g.DBExternal {
			t.Errorf("mysql: %v %q %v", g.Databases, g.DBHash, g.DBExternal)
		}
		if len(g.Cron) != 2 || g.Cron[0].Schedule != "*/5 * * * *" || g.Cron[0].Command != "php cron.php" || g.Cron[1].Command != "backup.sh" {
			t.Errorf("cron (enabled only, in order): %+v", g.Cron)
		}
		wantAuth := []string{l + ":" + usec[SecretHtpasswd], r.Login + ":" + rsec[SecretHtpasswd]}
		if !reflect.DeepEqual(g.WebAuth, wantAuth) {
			t.Errorf("webauth %q, want %q", g.WebAuth, wantAuth)
		}
		g2 := got[1]
		if !g2.Locked || g2.SSL != nil || g2.FrontPage != nil || g2.Databases != nil || g2.DBHash != "" || g2.Cron != nil ||
			!reflect.DeepEqual(g2.WebAuth, []string{r.Login + ":" + rsec[SecretHtpasswd]}) ||
			!reflect.DeepEqual(g2.Domains, []agent.Domain{{Name: "xn--mller-kva.example", DNS: true}}) {
			t.Errorf("u2: %+v", g2)
		}

		// nil: every user, the reseller's default account included.
		all, err := s.DesiredUsers(ctx, nil, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || all[0].Login != panel.DefaultUserLogin(r.Login) || !reflect.DeepEqual(all[1], g) || !reflect.DeepEqual(all[2], g2) {
			t.Fatalf("all users: %+v", all)
		}
		// An empty list is nothing, not everything.
		if none, err := s.DesiredUsers(ctx, []int64{}, opt); err != nil || len(none) != 0 {
			t.Fatalf("empty ids: %v %v", none, err)
		}
		// A deleted user is absent; the journal names it by login, which
		// the agent needs to remove it from the system.
		before, _ := s.LastChangeID(ctx)
		if err := s.DeleteAccount(ctx, ra, u2.User.ID); err != nil {
			t.Fatal(err)
		}
		cs, _ := s.Changes(ctx, before, 10)
		if len(cs) != 1 || cs[0].AccountID != u2.User.ID || cs[0].Login != u2.User.Login || cs[0].What != "delete" {
			t.Fatalf("journal of the deletion: %+v", cs)
		}
		if got, _ := s.DesiredUsers(ctx, []int64{u2.User.ID}, opt); len(got) != 0 {
			t.Fatalf("deleted user still desired: %+v", got)
		}
	})
}

// TestDesiredUsersChunks: more ids than one IN list holds.
func TestDesiredUsersChunks(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "k.db"))
	seedUsers(t, s, 1200)
	ids := make([]int64, 0, 1300)
	for id := int64(1); id <= 1300; id++ {
		ids = append(ids, id)
	}
	got, err := s.DesiredUsers(context.Background(), ids, DesiredOptions{UIDBase: 5000, HomeBase: "/srv/www"})
	if err != nil {
		t.Fatal(err)
	}
	users := 0
	for i, u := range got {
		if i > 0 && got[i-1].ID >= u.ID {
			t.Fatal("not sorted by id")
		}
		if u.Login != panel.DefaultUserLogin("res1") {
			users++
			if len(u.Domains) != 1 || u.Limits[panel.ResPOP3] != 5 || u.Home != "/srv/www/"+u.Login {
				t.Fatalf("user %+v", u)
			}
		}
	}
	if users != 1200 {
		t.Fatalf("%d users, want 1200", users)
	}
}

func TestSecrets(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r, ra := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}, nil)
		sec := userSecrets(t, "one")
		u, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h", Secrets: sec})
		if err != nil {
			t.Fatal(err)
		}
		u2, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if got := secretsOf(t, s, u.User.ID); !reflect.DeepEqual(got, sec) {
			t.Fatalf("stored %v, want %v", got, sec)
		}
		// Values reach an htpasswd file and a GRANT: anything but the exact
		// formats is refused, and nothing is stored.
		bad := []map[string]string{
			{SecretMySQL: "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1"},
			{SecretMySQL: "*2470c0c06dee42fd1618bb99005adca2ec9d1e19"},
			{SecretMySQL: "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19' OR '1"},
			{SecretHtpasswd: sec[SecretHtpasswd] + "\nroot:x"},
			{SecretHtpasswd: "plain"},
			{SecretHtpasswd: sec[SecretHtpasswd][:20] + ":" + sec[SecretHtpasswd][21:]},
			{"shadow": "$6$x"},
		}
		for _, b := range bad {
			if _, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h", Secrets: b}); err == nil {
				t.Errorf("secret %q accepted", b)
			}
			if err := s.SetUserPasswordSecrets(ctx, ra, u.User.ID, "h2", b); err == nil {
				t.Errorf("secret %q accepted on a password change", b)
			}
		}
		if n := countUsers(t, s, ra); n != 3 { // the default account and two
			t.Fatalf("%d users after refused creations", n)
		}
		if got := secretsOf(t, s, u.User.ID); !reflect.DeepEqual(got, sec) {
			t.Fatalf("a refused change touched the secrets: %v", got)
		}
		// A reseller keeps no database hash.
		if _, err := s.CreateReseller(ctx, admin, NewReseller{PasswordHash: "h", DefaultHash: "d", Secrets: sec}); err == nil {
			t.Fatal("reseller with a mysql secret accepted")
		}

		// A password change replaces the secrets; one without them
		// removes the old password's ones.
		sec2 := userSecrets(t, "two")
		before, _ := s.LastChangeID(ctx)
		if err := s.SetUserPasswordSecrets(ctx, ra, u.User.ID, "h2", sec2); err != nil {
			t.Fatal(err)
		}
		if got := secretsOf(t, s, u.User.ID); !reflect.DeepEqual(got, sec2) {
			t.Fatalf("after change %v", got)
		}
		cs, _ := s.Changes(ctx, before, 10)
		if len(cs) != 1 || cs[0].AccountID != u.User.ID || cs[0].What != "password" {
			t.Fatalf("journal after password change: %+v", cs)
		}
		ua := panel.Actor{ID: u.User.ID, Role: panel.RoleUser, ResellerID: r.ID}
		sec3 := userSecrets(t, "three")
		if err := s.SetPasswordSecrets(ctx, ua, u.User.ID, "h3", sec3); err != nil {
			t.Fatal(err)
		}
		if got := secretsOf(t, s, u.User.ID); !reflect.DeepEqual(got, sec3) {
			t.Fatalf("own change %v", got)
		}
		if err := s.SetUserPassword(ctx, ra, u.User.ID, "h4"); err != nil {
			t.Fatal(err)
		}
		if got := secretsOf(t, s, u.User.ID); len(got) != 0 {
			t.Fatalf("stale secrets kept: %v", got)
		}
		// Another reseller's user: not found, nothing changed.
		_, rb := reseller(t, s, nil, nil)
		wantKind(t, s.SetUserPasswordSecrets(ctx, rb, u2.User.ID, "x", sec), panel.KindNotFound, "")
		wantKind(t, s.SetPasswordSecrets(ctx, rb, u2.User.ID, "x", sec), panel.KindNotFound, "")
		if got := secretsOf(t, s, u2.User.ID); len(got) != 0 {
			t.Fatalf("foreign change stored %v", got)
		}

		// The reseller's own htpasswd is in each of its users' Webalizer
		// protection: every user (the default one too) is journalled.
		rsec := map[string]string{SecretHtpasswd: sec2[SecretHtpasswd]}
		before, _ = s.LastChangeID(ctx)
		if err := s.SetPasswordSecrets(ctx, ra, r.ID, "rh", rsec); err != nil {
			t.Fatal(err)
		}
		cs, _ = s.Changes(ctx, before, 10)
		got := map[int64]string{}
		for _, c := range cs {
			got[c.AccountID] = c.What
		}
		want := map[int64]string{r.DefaultUserID: "webauth", u.User.ID: "webauth", u2.User.ID: "webauth"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("journal after the reseller's change: %v, want %v", got, want)
		}
		if got := secretsOf(t, s, r.ID); !reflect.DeepEqual(got, rsec) {
			t.Fatalf("reseller secrets %v", got)
		}
	})
}

func TestRecordAgentResults(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ad, err := s.CreateAdmin(ctx, "root1", "h")
		if err != nil {
			t.Fatal(err)
		}
		adm := panel.Actor{ID: ad.ID, Role: panel.RoleAdmin}
		r, ra := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}, nil)
		u, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		id, login := u.User.ID, u.User.Login
		if st, _, at, err := s.AgentStatus(ctx, ra, id); err != nil || st != "" || !at.IsZero() {
			t.Fatalf("before the agent: %q %v %v", st, at, err)
		}
		rec := func(res ...AgentResult) {
			t.Helper()
			if err := s.RecordAgentResults(ctx, res); err != nil {
				t.Fatal(err)
			}
		}
		fail := AgentResult{AccountID: id, Login: login, ResellerID: r.ID, Failed: true, Detail: "AH00526: Syntax error on line 3", ChangeID: 7}
		rec(AgentResult{AccountID: id, Login: login, ResellerID: r.ID, ChangeID: 5})
		if n := len(messagesOf(t, s, ra, panel.MsgError)); n != 0 {
			t.Fatalf("success made %d errors", n)
		}
		rec(fail)
		rec(fail) // the periodic reconcile fails the same way
		errs := messagesOf(t, s, ra, panel.MsgError)
		if len(errs) != 1 || errs[0].Subject != login || errs[0].Key != "msg.agent.failed" || !reflect.DeepEqual(errs[0].Args, []string{fail.Detail}) {
			t.Fatalf("errors after a repeated failure: %+v", errs)
		}
		st, detail, at, err := s.AgentStatus(ctx, ra, id)
		if err != nil || st != AgentFailed || detail != fail.Detail || at.IsZero() {
			t.Fatalf("status %q %q %v %v", st, detail, at, err)
		}
		fail.Detail = "AH00526: Syntax error on line 9"
		rec(fail)
		if n := len(messagesOf(t, s, ra, panel.MsgError)); n != 2 {
			t.Fatalf("another cause: %d errors, want 2", n)
		}
		before := len(messagesOf(t, s, ra, panel.MsgNotice))
		rec(AgentResult{AccountID: id, Login: login, ResellerID: r.ID, ChangeID: 8})
		rec(AgentResult{AccountID: id, Login: login, ResellerID: r.ID, ChangeID: 9})
		notes := messagesOf(t, s, ra, panel.MsgNotice)
		if len(notes) != before+1 || notes[0].Key != "msg.agent.recovered" || notes[0].Subject != login {
			t.Fatalf("recovery notices: %+v", notes[:len(notes)-before])
		}
		if st, _, _, _ := s.AgentStatus(ctx, ra, id); st != AgentApplied {
			t.Fatalf("status after recovery %q", st)
		}
		// Another reseller sees nothing of it.
		_, rb := reseller(t, s, nil, nil)
		if _, _, _, err := s.AgentStatus(ctx, rb, id); err == nil {
			t.Fatal("foreign reseller read the status")
		}
		if _, _, _, err := s.AgentStatus(ctx, ra, r.ID); err == nil {
			t.Fatal("status of a reseller id")
		}
		// The reseller and its users are deleted; the agent fails to remove
		// a user: the admins hear of it. Several results in one call.
		if err := s.DeleteAccount(ctx, admin, r.ID); err != nil {
			t.Fatal(err)
		}
		rec(AgentResult{AccountID: id, Login: login, ResellerID: r.ID, Failed: true, Detail: "userdel: user is logged in"},
			AgentResult{AccountID: r.DefaultUserID, Login: "x", ResellerID: r.ID, Removed: true})
		errs = messagesOf(t, s, adm, panel.MsgError)
		if len(errs) != 1 || errs[0].Subject != login || errs[0].Args[0] != "userdel: user is logged in" {
			t.Fatalf("admin errors: %+v", errs)
		}
		var state string
		if err := s.db.QueryRow(s.q(`SELECT state FROM agent_status WHERE account_id = ?`), r.DefaultUserID).Scan(&state); err != nil || state != AgentRemoved {
			t.Fatalf("removed: %q %v", state, err)
		}
	})
}

func TestNoticeOnce(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var admins []panel.Actor
		for _, l := range []string{"root1", "root2"} {
			a, err := s.CreateAdmin(ctx, l, "h")
			if err != nil {
				t.Fatal(err)
			}
			admins = append(admins, panel.Actor{ID: a.ID, Role: panel.RoleAdmin})
		}
		var wg sync.WaitGroup
		added := make(chan bool, 5)
		for i := 0; i < 5; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.NoticeOnce(ctx, "mysql.missing", "msg.agent.recovered", "mariadb")
				if err != nil {
					t.Error(err)
				}
				added <- ok
			}()
		}
		wg.Wait()
		close(added)
		n := 0
		for ok := range added {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d calls added the notice, want 1", n)
		}
		for _, a := range admins {
			ms := messagesOf(t, s, a, panel.MsgNotice)
			if len(ms) != 1 || ms[0].Key != "msg.agent.recovered" || ms[0].Args[0] != "mariadb" {
				t.Fatalf("admin %d: %+v", a.ID, ms)
			}
		}
		if ok, err := s.NoticeOnce(ctx, "other", "msg.agent.recovered"); err != nil || !ok {
			t.Fatalf("another key: %v %v", ok, err)
		}
	})
}

// BenchmarkDesiredUsers is the agent's full reconcile read: 10,000 users
// with three domains each, and one chunked read of 500 of them.
func BenchmarkDesiredUsers(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		a := seedUsers(b, s, 10000)
		// Two more domains per user: 30,000 in all.
		tx, err := s.db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for id := int64(1); id <= 10002; id++ {
			for k := 0; k < 2; k++ {
				if _, err := tx.Exec(s.q(`INSERT INTO domains (user_id, name, display, created_at)
					SELECT id, ?, '', 0 FROM accounts WHERE id = ? AND role = 'user' AND is_default = 0`), fmt.Sprintf("extra%d-%d.example", id, k), id); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		opt := DesiredOptions{UIDBase: 10000, HomeBase: "/home"}
		b.Run("all", func(b *testing.B) {
			for b.Loop() {
				us, err := s.DesiredUsers(ctx, nil, opt)
				if err != nil || len(us) != 10001 {
					b.Fatal(len(us), err)
				}
				if n := len(us[len(us)-1].Domains); n != 3 {
					b.Fatalf("%d domains", n)
				}
			}
		})
		ids := make([]int64, 0, 500)
		for id := int64(a.ID); len(ids) < 500; id += 7 {
			ids = append(ids, id)
		}
		b.Run("500", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.DesiredUsers(ctx, ids, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
