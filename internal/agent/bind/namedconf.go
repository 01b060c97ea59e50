package bind

import (
	"bytes"
	"slices"
	"strings"
)

// DefaultZoneDir is where the zone files live on a production server; the
// demo and the tests pass a directory under their sandbox root instead.
// Below /var/lib/bind because Debian's AppArmor profile for named lets it
// read there and not in a directory of ours.
const DefaultZoneDir = "/var/lib/bind/kontor"

// NamedConfFile is the key of the named.conf fragment in RenderAll's files.
// The server's named.conf includes it.
const NamedConfFile = "named.conf.kontor"

// ZoneRef names one zone for the named.conf fragment. Owner does not reach
// the file; it only makes an error point at the user.
type ZoneRef struct {
	Domain string
	Owner  string
}

// ZoneFile is the file name of domain's zone inside the zone directory. The
// domain is validated before this is ever used, so it has no '/' or "..".
func ZoneFile(domain string) string { return domain + ".zone" }

// RenderNamedConf renders the named.conf fragment declaring every zone as
// master with its file in zoneDir, one line per zone, sorted by domain.
// A bad or duplicate domain, or a bad zoneDir, fails the whole fragment:
// BIND loads named.conf all or nothing, so a partial one would silently
// drop zones. RenderAll only passes zones it has already checked.
func RenderNamedConf(zones []ZoneRef, zoneDir string) ([]byte, error) {
	if err := checkDir("zone_dir", zoneDir); err != nil {
		return nil, err
	}
	sorted := slices.Clone(zones)
	slices.SortFunc(sorted, func(a, b ZoneRef) int { return strings.Compare(a.Domain, b.Domain) })
	var buf bytes.Buffer
	buf.Grow(64 + len(sorted)*(80+len(zoneDir)))
	buf.WriteString("// Kontor zones - generated, edits are overwritten.\n")
	for i, z := range sorted {
		if err := checkDomain(z.Owner, "zone.domain", z.Domain); err != nil {
			return nil, err
		}
		if i > 0 && sorted[i-1].Domain == z.Domain {
			return nil, fieldErr(z.Owner, "zone.domain", z.Domain, "zone declared twice (also for %q)", sorted[i-1].Owner)
		}
		buf.WriteString(`zone "`)
		buf.WriteString(z.Domain)
		buf.WriteString(`" { type master; file "`)
		buf.WriteString(zoneDir)
		buf.WriteByte('/')
		buf.WriteString(ZoneFile(z.Domain))
		buf.WriteString("\"; };")
		// The owner, as a comment, makes the fragment the agent's index of
		// which user serves which zone (ParseNamedConf), so a change to one
		// user never has to open every zone file.
		if checkLogin(z.Owner) == nil {
			buf.WriteString(" // ")
			buf.WriteString(z.Owner)
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// ParseNamedConf reads a fragment RenderNamedConf wrote back into its
// zones (domain and owner). Lines it does not recognise are skipped: the
// fragment is regenerated from the result anyway.
func ParseNamedConf(b []byte) []ZoneRef {
	var refs []ZoneRef
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, `zone "`)
		if !ok {
			continue
		}
		q := strings.IndexByte(rest, '"')
		if q < 0 {
			continue
		}
		ref := ZoneRef{Domain: rest[:q]}
		if i := strings.LastIndex(rest, " // "); i >= 0 {
			ref.Owner = rest[i+4:]
		}
		if checkDomain(ref.Owner, "zone.domain", ref.Domain) != nil || checkLogin(ref.Owner) != nil {
			continue
		}
		refs = append(refs, ref)
	}
	return refs
}
