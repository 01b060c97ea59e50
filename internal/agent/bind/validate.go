package bind

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"kontor/internal/panel"
)

// FieldError is the error every renderer returns for a value it refuses.
// It names the user (empty for server-wide facts) and the field, so the
// reconcile loop can put a message for the right reseller in GEN-4. Value
// is quoted with %q when printed, so a hostile value never reaches a log
// line or a message unescaped.
type FieldError struct {
	User  string // the user's login as given; "" for server-wide fields
	Field string // e.g. "domains[1].name", "server.name_servers[0]"
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("bind: ")
	if e.User != "" {
		b.WriteString("user ")
		b.WriteString(strconv.Quote(e.User))
		b.WriteString(": ")
	}
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Value != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(e.Value))
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(user, field, value string, format string, args ...any) *FieldError {
	return &FieldError{User: user, Field: field, Value: value, Err: fmt.Errorf(format, args...)}
}

// maxName is the longest presentation-format domain name without the
// trailing dot that still fits the 255-octet wire limit.
const maxName = 253

// checkDomain accepts only a domain already in its stored form (lower-case
// punycode, no trailing dot): the store normalises on the way in, so a value
// that differs from its normal form here was not written by the panel and is
// refused rather than silently repaired.
func checkDomain(user, field, name string) error {
	norm, err := panel.NormalizeDomain(field, name)
	if err != nil {
		return &FieldError{User: user, Field: field, Value: name, Err: err}
	}
	if norm != name {
		return fieldErr(user, field, name, "not in stored form (want %q)", norm)
	}
	return nil
}

// checkHost accepts a host name such as a name server or the mail host.
// One trailing dot is tolerated because administrators type FQDNs that way;
// the name is returned without it.
func checkHost(user, field, name string) (string, error) {
	h := strings.TrimSuffix(name, ".")
	if err := checkDomain(user, field, h); err != nil {
		fe := err.(*FieldError)
		fe.Value = name
		return "", fe
	}
	return h, nil
}

// checkLogin refuses anything that is not a Unix account name: the login is
// written into the zone's header comment.
func checkLogin(login string) error {
	if err := panel.ValidateLogin("login", login); err != nil {
		return &FieldError{User: login, Field: "login", Value: login, Err: err}
	}
	return nil
}

// checkAddr parses an address with net/netip and demands the family the
// field stands for. Zoned IPv6 addresses ("fe80::1%eth0") are refused: the
// zone would carry '%' and an interface name into the file and means nothing
// in DNS. IPv4-mapped IPv6 is refused because it would publish an AAAA for
// what is really an IPv4 host. The canonical text form is returned, so two
// spellings of one address render identically.
func checkAddr(user, field, s string, want4, want6 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fieldErr(user, field, s, "not an IP address")
	}
	switch {
	case a.Zone() != "":
		return netip.Addr{}, fieldErr(user, field, s, "zoned address not allowed")
	case a.Is4In6():
		return netip.Addr{}, fieldErr(user, field, s, "IPv4-mapped IPv6 address not allowed")
	case a.IsUnspecified(), a.IsMulticast():
		return netip.Addr{}, fieldErr(user, field, s, "not a host address")
	case a.Is4() && !want4:
		return netip.Addr{}, fieldErr(user, field, s, "IPv4 address where IPv6 is expected")
	case a.Is6() && !want6:
		return netip.Addr{}, fieldErr(user, field, s, "IPv6 address where IPv4 is expected")
	}
	return a, nil
}

// checkDir accepts the zone directory that goes into named.conf: absolute,
// already clean (so no "..", no "//", no trailing slash) and made only of
// characters that need no quoting in a named.conf string or a shell.
func checkDir(field, dir string) error {
	if dir == "" || dir[0] != '/' {
		return fieldErr("", field, dir, "not an absolute path")
	}
	if filepath.Clean(dir) != dir {
		return fieldErr("", field, dir, "not a clean path")
	}
	for _, part := range strings.Split(dir[1:], "/") {
		if part == ".." || part == "." {
			return fieldErr("", field, dir, "path contains %q", part)
		}
	}
	for i := 0; i < len(dir); i++ {
		c := dir[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '/' || c == '.' || c == '-' || c == '_') {
			return fieldErr("", field, dir, "character %q not allowed", c)
		}
	}
	return nil
}

// inZone reports whether host is the zone apex or below it.
func inZone(host, zone string) bool {
	return host == zone || strings.HasSuffix(host, "."+zone)
}
