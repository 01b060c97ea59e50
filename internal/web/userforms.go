package web

import (
	"net/url"
	"strconv"

	"kontor/internal/panel"
)

// parseUserLimits reads the twelve limit.<resource> fields of a user's (or
// a template's) limits form (USR-2 step 2, TPL-2). Every resource is in the
// result: an empty field means 0, "not available". A value that is not a
// whole number ≥ -1 is refused naming its field; whether the reseller may
// grant it is decided later, where the reseller's limits are known.
func parseUserLimits(f url.Values) (panel.Limits, error) {
	out := panel.Limits{}
	for _, r := range panel.Resources() {
		v, err := parseLimitValue(r.Field(), f.Get(r.Field()))
		if err != nil {
			return nil, err
		}
		out[r] = v
	}
	return out, nil
}

// userLimitsForm fills form values from a user's (or template's) limits,
// every resource included, so that the form shows 0 rather than empty.
func userLimitsForm(f url.Values, l panel.Limits) {
	for _, r := range panel.Resources() {
		f.Set(r.Field(), strconv.FormatInt(l[r], 10))
	}
}

// resellerGrants is implemented by page data that knows the reseller a
// limits form grants from. The "userlimitsform" partial then shows the
// reseller's own limit beside each field and offers only the service
// levels the reseller has. Data without it gets the plain form; the store
// refuses what the reseller may not grant either way.
type resellerGrants interface {
	Grants() *panel.Reseller
}

func (p *Page) grants() *panel.Reseller {
	if g, ok := p.Data.(resellerGrants); ok {
		return g.Grants()
	}
	return nil
}

// UserResources lists the twelve user resources for the limits form.
func (p *Page) UserResources() []panel.Resource { return panel.Resources() }

// HasGrants reports whether the form knows the granting reseller.
func (p *Page) HasGrants() bool { return p.grants() != nil }

// GrantHint describes the reseller's own limit of r beside its field: not
// available, a maximum or hard limit, and whether -1 may be granted.
func (p *Page) GrantHint(r panel.Resource) string {
	res := p.grants()
	if res == nil {
		return ""
	}
	l := res.Limits[r]
	var s string
	switch {
	case l.Value == 0:
		return p.T("limitsform.none")
	case l.Value == panel.Unlimited:
		s = p.T("limitsform.unlimited")
	case l.Mode == panel.ModeHard:
		s = p.T("limitsform.hard", l.Value)
	default:
		s = p.T("limitsform.max", l.Value)
	}
	if l.AllowUnlimited {
		s += " · " + p.T("limitsform.may_unlimited")
	}
	return s
}

// GrantLevels lists the levels of sv the form offers: up to the level the
// reseller has (only "off" for a service it does not offer), or all.
func (p *Page) GrantLevels(sv panel.Service) []int {
	max := sv.MaxLevel()
	if res := p.grants(); res != nil {
		max = res.Services[sv]
	}
	out := make([]int, max+1)
	for i := range out {
		out[i] = i
	}
	return out
}

// Offered reports whether the reseller offers sv at all (true when the
// form does not know the reseller).
func (p *Page) Offered(sv panel.Service) bool {
	res := p.grants()
	return res == nil || res.Services[sv] > 0
}
