package panel

import (
	"fmt"
	"strings"
	"time"
)

// Role is an account's tier (ROLE-1).
type Role string

// The three tiers.
const (
	RoleAdmin    Role = "admin"
	RoleReseller Role = "reseller"
	RoleUser     Role = "user"
)

// Status of an account.
type Status string

// Account states.
const (
	StatusEnabled Status = "enabled"
	StatusLocked  Status = "locked"
)

// Languages the panel speaks (GEN-3).
func Languages() []string { return []string{"en", "de"} }

// ValidLanguage reports whether lang is offered.
func ValidLanguage(lang string) bool {
	for _, l := range Languages() {
		if l == lang {
			return true
		}
	}
	return false
}

// Designs offered before the skin editor exists; "classic" is only offered
// when the admin enables classic skins (GEN-3).
func Designs() []string { return []string{"default", "ocean", "classic"} }

// ValidDesign reports whether design is known.
func ValidDesign(design string) bool {
	for _, d := range Designs() {
		if d == design {
			return true
		}
	}
	return false
}

// Actor is whoever makes a request: the account logged in and, when a
// reseller opened one of its users' panels with its own password (ROLE-3),
// the reseller acting.
type Actor struct {
	ID         int64
	Role       Role
	Login      string
	ResellerID int64 // a user's reseller; a reseller's own id; 0 for admin
	ActingID   int64 // reseller acting in a user's panel, 0 otherwise
}

// IsAdmin reports whether the actor is an admin.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

// Account is the part every role shares.
type Account struct {
	ID        int64
	Login     string
	Role      Role
	ParentID  int64 // reseller of a user, 0 otherwise
	Status    Status
	Language  string
	Design    string
	CreatedAt time.Time
}

// Reseller is a reseller account with its limits and offered services.
type Reseller struct {
	Account
	Name     string
	Company  string
	Email    string
	Limits   ResellerLimits
	Services ServiceSet
	// DefaultUserID is the reseller's own web0-style account (ROLE-1).
	DefaultUserID int64
	// MySQLExternal: the admin lets this reseller open its users'
	// databases to external hosts (ROLE-5).
	MySQLExternal bool
}

// DefaultUserLogin is the login of a reseller's own user account: the
// guide's "web0", made unique per reseller.
func DefaultUserLogin(resellerLogin string) string { return resellerLogin + "web0" }

// ResellerLogin is the login of the n-th reseller.
func ResellerLogin(n int64) string { return fmt.Sprintf("res%d", n) }

// UserLogin is the login of the n-th user on the server.
func UserLogin(n int64) string { return fmt.Sprintf("web%d", n) }

// Profile is a user's personal data (USR-2 step 3).
type Profile struct {
	Name    string
	Company string
	Street  string
	Zip     string
	City    string
	Country string
	Email   string
	Phone   string
	Custom  [3]string // values of the reseller-labelled fields
	// Show lists the fields shown on the user's home page.
	Show []string
}

// ProfileFields are the field names of Profile as used in forms and Show.
func ProfileFields() []string {
	return []string{"name", "company", "street", "zip", "city", "country", "email", "phone", "custom1", "custom2", "custom3"}
}

// Clean trims and validates every field; name and e-mail are required when
// required is set (the wizard marks them).
func (p Profile) Clean(required bool) (Profile, error) {
	var err error
	fields := []struct {
		name string
		v    *string
		req  bool
	}{
		{"name", &p.Name, required}, {"company", &p.Company, false}, {"street", &p.Street, false},
		{"zip", &p.Zip, false}, {"city", &p.City, false}, {"country", &p.Country, false},
		{"phone", &p.Phone, false},
		{"custom1", &p.Custom[0], false}, {"custom2", &p.Custom[1], false}, {"custom3", &p.Custom[2], false},
	}
	for _, f := range fields {
		if *f.v, err = CleanText(f.name, *f.v, f.req); err != nil {
			return p, err
		}
	}
	if p.Email, err = ValidateEmail("email", p.Email, required); err != nil {
		return p, err
	}
	known := ProfileFields()
	seen := map[string]bool{}
	var show []string
	for _, s := range p.Show {
		ok := false
		for _, k := range known {
			ok = ok || k == s
		}
		if !ok {
			return p, Invalid("show", "err.profile.show", s)
		}
		if !seen[s] {
			seen[s] = true
			show = append(show, s)
		}
	}
	p.Show = show
	return p, nil
}

// ShowsField reports whether field is shown on the user's home page.
func (p Profile) ShowsField(field string) bool {
	for _, s := range p.Show {
		if s == field {
			return true
		}
	}
	return false
}

// ShowString is the stored form of Show.
func (p Profile) ShowString() string { return strings.Join(p.Show, ",") }

// User is an end-user account (webN) with its limits and services.
type User struct {
	Account
	Number        int64 // N of webN; 0 for a reseller's default account
	ResellerLogin string
	Profile       Profile
	Limits        Limits
	Services      ServiceSet
	Domains       []Domain
	IsDefault     bool // the reseller's own web0 account
}

// Domain belongs to a user (ROLE-1). Name is stored in punycode.
type Domain struct {
	ID     int64
	UserID int64
	Name   string
	DNS    bool // our name servers serve the zone
	DNR    bool // the provider handles the registration
	IPID   int64
}

// Display is the domain in Unicode.
func (d Domain) Display() string { return DisplayDomain(d.Name) }

// MessageKind separates errors from notices (GEN-4).
type MessageKind string

// Message kinds.
const (
	MsgError  MessageKind = "error"
	MsgNotice MessageKind = "notice"
)

// Message is an entry in a reseller's (or the admin's) Messages page. Key
// and Args are rendered in the reader's language.
type Message struct {
	ID        int64
	OwnerID   int64
	Kind      MessageKind
	Subject   string // login the message is about
	Key       string
	Args      []string
	CreatedAt time.Time
}

// UsageRow is one line of the LIM-3 resource table.
type UsageRow struct {
	Resource  Resource
	Used      int64
	Allocated Allocation
	Limit     ResellerLimit
}

// OverMaximum reports whether the row is highlighted: allocation or use
// beyond a finite limit.
func (u UsageRow) OverMaximum() bool {
	if u.Limit.Value == Unlimited {
		return false
	}
	return u.Allocated.Exceeds(u.Limit.Value) || u.Used > u.Limit.Value
}
