package web

import (
	"net/url"
	"strconv"
	"strings"

	"kontor/internal/panel"
)

// parseLimitValue reads a whole-number limit field; empty is 0.
func parseLimitValue(field, v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < panel.Unlimited || n > 1<<40 {
		return 0, panel.Invalid(field, "err.limit.number")
	}
	return n, nil
}

// parseResellerLimits reads limit.<res>, mode.<res> and unl.<res>.
func parseResellerLimits(f url.Values) (panel.ResellerLimits, error) {
	out := panel.ResellerLimits{}
	for _, r := range panel.ResellerResources() {
		v, err := parseLimitValue(r.Field(), f.Get(r.Field()))
		if err != nil {
			return nil, err
		}
		mode := panel.Mode(f.Get("mode." + string(r)))
		if mode == "" {
			mode = panel.ModeMaximum
		}
		l := panel.ResellerLimit{Value: v, Mode: mode, AllowUnlimited: f.Get("unl."+string(r)) != ""}
		if err := l.Validate(r); err != nil {
			return nil, err
		}
		out[r] = l
	}
	return out, nil
}

// parseServices reads service.<name> levels.
func parseServices(f url.Values) (panel.ServiceSet, error) {
	out := panel.ServiceSet{}
	for _, sv := range panel.Services() {
		v := strings.TrimSpace(f.Get(sv.Field()))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > sv.MaxLevel() {
			return nil, panel.Invalid(sv.Field(), "err.service.level", sv)
		}
		if n > 0 {
			out[sv] = n
		}
	}
	return out, nil
}

// limitsForm fills form values from reseller limits, for editing.
func limitsForm(f url.Values, l panel.ResellerLimits) {
	for r, v := range l {
		f.Set(r.Field(), strconv.FormatInt(v.Value, 10))
		f.Set("mode."+string(r), string(v.Mode))
		if v.AllowUnlimited {
			f.Set("unl."+string(r), "1")
		}
	}
}

// servicesForm fills form values from a service set.
func servicesForm(f url.Values, ss panel.ServiceSet) {
	for sv, lvl := range ss {
		f.Set(sv.Field(), strconv.Itoa(lvl))
	}
}

// Resources lists the reseller resources for forms.
func (p *Page) Resources() []panel.Resource { return panel.ResellerResources() }

// ServiceList lists the services for forms.
func (p *Page) ServiceList() []panel.Service { return panel.Services() }

// Levels lists the levels a service takes.
func (p *Page) Levels(sv panel.Service) []int {
	out := make([]int, sv.MaxLevel()+1)
	for i := range out {
		out[i] = i
	}
	return out
}

// FieldOf is the form field of a resource or service.
func (p *Page) FieldOf(x any) string {
	switch v := x.(type) {
	case panel.Resource:
		return v.Field()
	case panel.Service:
		return v.Field()
	}
	return ""
}

// Is compares a form value with a level or mode.
func (p *Page) Is(field string, v any) bool {
	switch x := v.(type) {
	case int:
		got := p.Form.Get(field)
		if got == "" {
			got = "0"
		}
		return got == strconv.Itoa(x)
	case string:
		return p.Form.Get(field) == x
	}
	return false
}
