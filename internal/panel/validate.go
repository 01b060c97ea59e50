package panel

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits on free-text fields, in characters.
const (
	MaxTextLen  = 200
	MaxLoginLen = 32
)

// hasControl reports CR, LF, NUL and every other control character: none of
// them ever belongs in a field that may end up in a generated file.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// CleanText trims a free-text field and refuses control characters,
// invalid UTF-8 and overlong values. Empty is allowed unless required.
func CleanText(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || hasControl(s) {
		return "", Invalid(field, "err.text.control")
	}
	if utf8.RuneCountInString(s) > MaxTextLen {
		return "", Invalid(field, "err.text.long", MaxTextLen)
	}
	if required && s == "" {
		return "", Invalid(field, "err.required")
	}
	return s, nil
}

// ValidateLogin checks an account login: a lower-case letter, then lower-case
// letters, digits, '-' or '_', at most 32 characters. These names become
// Unix account names, so nothing else may pass.
func ValidateLogin(field, login string) error {
	if login == "" {
		return Invalid(field, "err.required")
	}
	if len(login) > MaxLoginLen {
		return Invalid(field, "err.login.long", MaxLoginLen)
	}
	for i := 0; i < len(login); i++ {
		c := login[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_'):
		default:
			return Invalid(field, "err.login.chars")
		}
	}
	return nil
}

// ValidateEmail checks a plain address (no display name); empty is allowed
// unless required.
func ValidateEmail(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", Invalid(field, "err.required")
		}
		return "", nil
	}
	if hasControl(s) || len(s) > 254 || strings.ContainsAny(s, " <>\"'") {
		return "", Invalid(field, "err.email")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", Invalid(field, "err.email")
	}
	return s, nil
}

// domainProfile converts to ASCII with the IDNA 2008 lookup rules and
// refuses anything that is not a host name.
var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.Transitional(false))

// NormalizeDomain turns a domain as typed (possibly Unicode, any case) into
// its stored form: lower-case punycode, no trailing dot. It refuses spaces,
// control characters, empty labels ("..", leading dot), labels over 63
// bytes, names over 253 bytes, single labels and numeric top-level labels.
func NormalizeDomain(field, in string) (string, error) {
	s := strings.TrimSpace(in)
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", Invalid(field, "err.required")
	}
	if hasControl(s) || strings.ContainsAny(s, " \t/\\@:*\"'`;$&|<>()[]{}") {
		return "", Invalid(field, "err.domain.chars")
	}
	ascii, err := domainProfile.ToASCII(s)
	if err != nil {
		return "", Invalid(field, "err.domain.invalid")
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 {
		return "", Invalid(field, "err.domain.long")
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", Invalid(field, "err.domain.tld")
	}
	for _, l := range labels {
		if l == "" {
			return "", Invalid(field, "err.domain.empty_label")
		}
		if len(l) > 63 {
			return "", Invalid(field, "err.domain.label_long")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", Invalid(field, "err.domain.hyphen")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", Invalid(field, "err.domain.chars")
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return "", Invalid(field, "err.domain.tld")
	}
	return ascii, nil
}

// DisplayDomain shows a stored (punycode) domain in Unicode.
func DisplayDomain(ascii string) string {
	u, err := idna.ToUnicode(ascii)
	if err != nil {
		return ascii
	}
	return u
}
