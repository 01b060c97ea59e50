package panel

import "fmt"

// Resource is one of the countable or measurable things a user gets (LIM-2).
type Resource string

// The resources of LIM-2, plus Users, which only resellers have.
const (
	ResStorage        Resource = "storage" // MB, 1 MB = 1024 KB
	ResPOP3           Resource = "pop3"
	ResEmail          Resource = "email"
	ResAutoresponders Resource = "autoresponders"
	ResFTPUsers       Resource = "ftp_users"
	ResTraffic        Resource = "traffic" // MB per month; never hard
	ResSubdomains     Resource = "subdomains"
	ResMySQL          Resource = "mysql_dbs"
	ResWildcard       Resource = "wildcard_subdomain"
	ResAtDomains      Resource = "at_domains"
	ResCron           Resource = "cron_jobs"
	ResMailingLists   Resource = "mailing_lists"
	ResUsers          Resource = "users" // resellers only: number of users
)

// Unlimited is the limit value that means "no cap" (LIM-1).
const Unlimited int64 = -1

// Resources returns the twelve user resources of LIM-2 in display order.
func Resources() []Resource {
	return []Resource{ResStorage, ResPOP3, ResEmail, ResAutoresponders, ResFTPUsers,
		ResTraffic, ResSubdomains, ResMySQL, ResWildcard, ResAtDomains, ResCron, ResMailingLists}
}

// ResellerResources returns the resources a reseller is limited in: the
// number of users first, then the twelve of LIM-2.
func ResellerResources() []Resource {
	return append([]Resource{ResUsers}, Resources()...)
}

// Measured reports whether use of r is measured on the system (storage,
// traffic) rather than counted as existing objects.
func (r Resource) Measured() bool { return r == ResStorage || r == ResTraffic }

// Valid reports whether r is a known resource.
func (r Resource) Valid() bool {
	for _, x := range ResellerResources() {
		if x == r {
			return true
		}
	}
	return false
}

// Field is the form field name of the resource's limit.
func (r Resource) Field() string { return "limit." + string(r) }

// Limits maps resources to limit values: -1 unlimited, 0 not available, n a cap.
type Limits map[Resource]int64

// Get returns the limit for r, 0 when unset.
func (l Limits) Get(r Resource) int64 { return l[r] }

// Validate checks that every value is a whole number ≥ -1 for a known resource.
func (l Limits) Validate() error {
	for r, v := range l {
		if !r.Valid() {
			return Invalid("limit", "err.limit.unknown", string(r))
		}
		if v < Unlimited {
			return Invalid(r.Field(), "err.limit.range", r)
		}
	}
	return nil
}

// Mode says how a reseller's limit binds (ROLE-5).
type Mode string

// The two limit modes.
const (
	ModeMaximum Mode = "maximum" // soft: may be exceeded, highlighted
	ModeHard    Mode = "hard"    // allocation beyond it is refused
)

// ResellerLimit is the admin's limit on one resource of a reseller.
type ResellerLimit struct {
	Value          int64
	Mode           Mode
	AllowUnlimited bool // the reseller may hand out -1 to its users
}

// ResellerLimits maps each resource to the reseller's limit.
type ResellerLimits map[Resource]ResellerLimit

// Validate checks the admin's input for one reseller limit.
func (l ResellerLimit) Validate(r Resource) error {
	if l.Value < Unlimited {
		return Invalid(r.Field(), "err.limit.range", r)
	}
	switch l.Mode {
	case ModeMaximum:
	case ModeHard:
		if r == ResTraffic {
			return Invalid(r.Field(), "err.limit.traffic_hard")
		}
		if l.AllowUnlimited && l.Value != Unlimited {
			return Invalid(r.Field(), "err.limit.hard_unlimited", r)
		}
	default:
		return Invalid(r.Field(), "err.limit.mode", string(l.Mode))
	}
	return nil
}

// Allocation is what a reseller has already handed out of one resource: the
// sum of the finite limits of its users, and whether any user is unlimited.
type Allocation struct {
	Sum       int64
	Unlimited bool
}

// Add returns the allocation after granting v more.
func (a Allocation) Add(v int64) Allocation {
	if v == Unlimited {
		a.Unlimited = true
	} else {
		a.Sum += v
	}
	return a
}

// Exceeds reports whether the allocation is beyond the value of a limit.
func (a Allocation) Exceeds(limit int64) bool {
	if limit == Unlimited {
		return false
	}
	return a.Unlimited || a.Sum > limit
}

// String shows the allocation the way the overview does.
func (a Allocation) String() string {
	if a.Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(a.Sum)
}

// CheckGrant decides whether a reseller with limit lim, having allocated
// alloc of r, may give a user the limit asked (LIM-1, ROLE-5). It returns
// over=true when the grant passes a maximum (allowed, but highlighted), and
// an error naming the resource, the limit and the amount when a hard limit,
// a 0 or the unlimited authorisation refuses it.
func CheckGrant(r Resource, lim ResellerLimit, alloc Allocation, asked int64) (over bool, err error) {
	if asked < Unlimited {
		return false, Invalid(r.Field(), "err.limit.range", r)
	}
	if asked == Unlimited && !lim.AllowUnlimited {
		return false, Forbidden(r.Field(), "err.limit.no_unlimited", r)
	}
	if asked == 0 {
		return false, nil
	}
	if lim.Value == 0 {
		return false, Forbidden(r.Field(), "err.limit.not_available", r)
	}
	if lim.Value == Unlimited {
		return false, nil
	}
	after := alloc.Add(asked)
	if !after.Exceeds(lim.Value) {
		return false, nil
	}
	if lim.Mode == ModeHard && r != ResTraffic {
		return false, Forbidden(r.Field(), "err.limit.hard", r, lim.Value, alloc.String(), asked)
	}
	return true, nil
}
