package panel

import (
	"strings"
	"unicode/utf8"
)

// Template is a reseller's named set of limits and services (TPL-2). Users
// created from it get a copy; changing or deleting it changes no user.
type Template struct {
	ID         int64
	ResellerID int64
	Name       string
	Limits     Limits
	Services   ServiceSet
}

// MailTemplate is a registration e-mail (TPL-3): one per template, and one
// default (TemplateID 0) for users with no template.
type MailTemplate struct {
	TemplateID int64
	FromName   string
	From       string
	Subject    string
	Body       string
}

// MaxTemplateNameLen is the longest template name, in characters. The name
// only identifies the template in lists and the wizard's drop-down.
const MaxTemplateNameLen = 64

// CleanTemplateName trims a template name and refuses an empty or overlong
// one, invalid UTF-8 and control characters (CR/LF, NUL, …).
func CleanTemplateName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || hasControl(name) {
		return "", Invalid(field, "err.text.control")
	}
	if name == "" {
		return "", Invalid(field, "err.required")
	}
	if utf8.RuneCountInString(name) > MaxTemplateNameLen {
		return "", Invalid(field, "err.text.long", MaxTemplateNameLen)
	}
	return name, nil
}

// TemplateNameKey is the form of a name that must be unique per reseller:
// "Paket 1" and "paket 1" would be indistinguishable in a drop-down.
func TemplateNameKey(name string) string { return strings.ToLower(name) }

// Clean checks a template against what its reseller may grant at all (the
// admin's limits and offered services, ROLE-5) and returns it with every
// user resource present (missing ones are 0, "not available"). A template
// may not ask for:
//   - a resource that is not one of the twelve user resources,
//   - -1 (unlimited) where the reseller may not grant unlimited,
//   - anything but 0 where the reseller's limit is 0,
//   - more than a hard limit allows one user in total,
//   - a service, or a level of it, the reseller does not offer.
//
// How much of a maximum is already allocated is not checked here: that
// changes with every user and is decided when a user is created from the
// template.
func (t Template) Clean(limits ResellerLimits, offered ServiceSet) (Template, error) {
	var err error
	if t.Name, err = CleanTemplateName("name", t.Name); err != nil {
		return t, err
	}
	for r := range t.Limits {
		if !r.Valid() || r == ResUsers {
			return t, Invalid("limit", "err.limit.unknown", string(r))
		}
	}
	out := Limits{}
	for _, r := range Resources() {
		v := t.Limits[r]
		lim := limits[r]
		switch {
		case v < Unlimited:
			return t, Invalid(r.Field(), "err.limit.range", r)
		case v == 0:
		case v == Unlimited && !lim.AllowUnlimited:
			return t, Invalid(r.Field(), "err.limit.no_unlimited", r)
		case lim.Value == 0:
			return t, Invalid(r.Field(), "err.limit.not_available", r)
		case v != Unlimited && lim.Mode == ModeHard && lim.Value != Unlimited && v > lim.Value:
			return t, Invalid(r.Field(), "err.template.over_hard", r, lim.Value)
		}
		out[r] = v
	}
	if err := t.Services.Validate(); err != nil {
		return t, err
	}
	svc := ServiceSet{}
	for _, s := range Services() {
		lvl := t.Services[s]
		if lvl > offered[s] {
			return t, Invalid(s.Field(), "err.service.not_offered", s)
		}
		if lvl > 0 {
			svc[s] = lvl
		}
	}
	t.Limits, t.Services = out, svc
	return t, nil
}

// UserLimits returns a copy of the template's limits for a new user, so
// that nothing a user gets shares memory with the template.
func (t Template) UserLimits() Limits {
	out := Limits{}
	for _, r := range Resources() {
		out[r] = t.Limits[r]
	}
	return out
}

// UserServices returns a copy of the template's services for a new user.
func (t Template) UserServices() ServiceSet {
	out := ServiceSet{}
	for s, lvl := range t.Services {
		if lvl > 0 {
			out[s] = lvl
		}
	}
	return out
}

// Limits on the registration mail's fields, in characters.
const (
	MaxMailSubjectLen = 200
	MaxMailBodyLen    = 20000
)

// Clean checks a registration mail before it is stored (TPL-3). Sender
// name, sender address and subject become mail headers, so a line break or
// any other control character in them is refused (header injection); the
// sender name also refuses the characters that would break out of a quoted
// display name. Subject and body must use known tags only; a misspelt tag
// would otherwise reach the customer unreplaced. An empty sender name or
// address means "the reseller's", filled in when the mail is generated.
func (m MailTemplate) Clean() (MailTemplate, error) {
	if m.TemplateID < 0 {
		return m, NotFound("template")
	}
	for _, f := range []struct {
		field string
		v     string
	}{{"from_name", m.FromName}, {"from", m.From}, {"subject", m.Subject}} {
		if !utf8.ValidString(f.v) || hasControl(f.v) {
			return m, Invalid(f.field, "err.tplmail.header")
		}
	}
	var err error
	if m.FromName, err = CleanText("from_name", m.FromName, false); err != nil {
		return m, err
	}
	if strings.ContainsAny(m.FromName, "\"<>\\") {
		return m, Invalid("from_name", "err.tplmail.from_name")
	}
	if m.From, err = ValidateEmail("from", m.From, false); err != nil {
		return m, err
	}
	m.Subject = strings.TrimSpace(m.Subject)
	if m.Subject == "" {
		return m, Invalid("subject", "err.required")
	}
	if utf8.RuneCountInString(m.Subject) > MaxMailSubjectLen {
		return m, Invalid("subject", "err.text.long", MaxMailSubjectLen)
	}
	if u := UnknownTags(m.Subject); len(u) > 0 {
		return m, Invalid("subject", "err.tplmail.unknown_tags", formatTags(u))
	}
	// Bodies arrive with CRLF from browsers; store plain LF lines.
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\r", "\n")
	body = strings.TrimRight(body, " \t\n")
	if !utf8.ValidString(body) {
		return m, Invalid("body", "err.text.control")
	}
	for _, r := range body {
		if r != '\n' && r != '\t' && isControl(r) {
			return m, Invalid("body", "err.tplmail.body_control")
		}
	}
	if strings.TrimSpace(body) == "" {
		return m, Invalid("body", "err.required")
	}
	if utf8.RuneCountInString(body) > MaxMailBodyLen {
		return m, Invalid("body", "err.text.long", MaxMailBodyLen)
	}
	if u := UnknownTags(body); len(u) > 0 {
		return m, Invalid("body", "err.tplmail.unknown_tags", formatTags(u))
	}
	m.Body = body
	return m, nil
}
