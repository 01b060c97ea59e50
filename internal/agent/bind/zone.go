// Package bind renders the BIND 9 side of Kontor (SYS-1, issue 4 item 5):
// one master zone file per domain with the DNS flag, and the named.conf
// fragment that declares those zones. Everything here is pure: desired state
// in, bytes out. Staging, named-checkzone, the swap and rndc reload belong
// to the reconcile loop, which calls these functions.
//
// Every value that reaches a file is checked again here, even though the
// panel already validated it: the store may have been edited by hand or by
// an older version, and a zone file is parsed by a daemon running as root's
// delegate. A refused value is a *FieldError naming the user and the field,
// and no zone of that user is produced.
package bind

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// Zone timers, in seconds. Hosting zones change often and are served by our
// own secondaries, so refresh is short (3 h) with NOTIFY doing the real
// work; expire (2 weeks) rides out a long primary outage; the minimum field
// is the negative-caching TTL (RFC 2308), kept at 1 h so a newly added name
// shows up quickly.
const (
	TTL     = 3600
	Refresh = 10800
	Retry   = 3600
	Expire  = 1209600
	Minimum = 3600
)

// MXPreference is the preference of the single MX record.
const MXPreference = 10

// spf is the SPF policy every zone publishes: the domain's own addresses and
// its MX may send, everything else soft-fails.
const spf = "v=spf1 a mx ~all"

// server is srv after validation: what every zone of that server shares.
type server struct {
	primary  string   // SOA MNAME: the first name server as configured
	ns       []string // sorted, without duplicates
	mailHost string   // "" = mail.<domain> inside each zone
	v4, v6   []netip.Addr
}

// checkServer validates the server-wide facts once, so RenderAll does not
// repeat it for 30,000 zones.
func checkServer(srv agent.Server) (*server, error) {
	s := &server{}
	if len(srv.NameServers) == 0 {
		return nil, fieldErr("", "server.name_servers", "", "no name server configured")
	}
	for i, n := range srv.NameServers {
		h, err := checkHost("", fmt.Sprintf("server.name_servers[%d]", i), n)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			s.primary = h
		}
		s.ns = append(s.ns, h)
	}
	slices.Sort(s.ns)
	s.ns = slices.Compact(s.ns)
	if srv.MailHost != "" {
		h, err := checkHost("", "server.mail_host", srv.MailHost)
		if err != nil {
			return nil, err
		}
		s.mailHost = h
	}
	for i, a := range srv.SharedIPv4 {
		ip, err := checkAddr("", fmt.Sprintf("server.shared_ipv4[%d]", i), a, true, false)
		if err != nil {
			return nil, err
		}
		s.v4 = append(s.v4, ip)
	}
	for i, a := range srv.SharedIPv6 {
		ip, err := checkAddr("", fmt.Sprintf("server.shared_ipv6[%d]", i), a, false, true)
		if err != nil {
			return nil, err
		}
		s.v6 = append(s.v6, ip)
	}
	s.v4 = sortAddrs(s.v4)
	s.v6 = sortAddrs(s.v6)
	return s, nil
}

func sortAddrs(a []netip.Addr) []netip.Addr {
	slices.SortFunc(a, netip.Addr.Compare)
	return slices.Compact(a)
}

// zone is one domain's zone after validation, ready to print.
type zone struct {
	name     string // stored form, no trailing dot
	owner    string
	v4, v6   []netip.Addr
	wildcard bool
	mailHost string // "" = mail.<name> with the zone's own addresses
}

// checkZone validates one domain of u against s. field is the domain's
// position ("domains[2]"), so the message points at the exact entry even
// when the name itself is what is broken.
func checkZone(s *server, u *agent.User, field string, d agent.Domain) (*zone, error) {
	if !d.DNS {
		return nil, fieldErr(u.Login, field+".dns", "", "domain does not have the DNS flag")
	}
	if err := checkDomain(u.Login, field+".name", d.Name); err != nil {
		return nil, err
	}
	// The longest owner name the zone contains is hostmaster.<domain>
	// (SOA RNAME); a name that fits the limit alone may not with a prefix.
	if len("hostmaster.")+len(d.Name) > maxName {
		return nil, fieldErr(u.Login, field+".name", d.Name, "too long for the names the zone needs (hostmaster.<domain> over %d bytes)", maxName)
	}
	z := &zone{name: d.Name, owner: u.Login, wildcard: u.Limits.Get(panel.ResWildcard) != 0, mailHost: s.mailHost}
	if d.IP != "" {
		ip, err := checkAddr(u.Login, field+".ip", d.IP, true, true)
		if err != nil {
			return nil, err
		}
		if ip.Is4() {
			z.v4 = []netip.Addr{ip}
		} else {
			z.v6 = []netip.Addr{ip}
		}
	} else {
		z.v4, z.v6 = s.v4, s.v6
	}
	if len(z.v4)+len(z.v6) == 0 {
		return nil, fieldErr(u.Login, field+".ip", d.IP, "no exclusive IP and the server has no shared addresses")
	}
	// A name server or mail host inside the zone needs glue/address records
	// that only the provider can know; named-checkzone would refuse the zone
	// without them, so say so here with the field instead.
	for _, n := range s.ns {
		if inZone(n, z.name) {
			return nil, fieldErr(u.Login, field+".name", d.Name, "name server %s lies inside this zone (glue records are not supported)", n)
		}
	}
	if s.mailHost != "" && inZone(s.mailHost, z.name) {
		return nil, fieldErr(u.Login, field+".name", d.Name, "mail host %s lies inside this zone (address records for it are not supported)", s.mailHost)
	}
	return z, nil
}

// render prints the zone with the given serial and reports where the serial
// sits in the output, so the caller can hash "everything but the serial"
// without rendering twice.
//
// Layout, one record per line with the fields name, class, type, data:
//
//	; Kontor zone example.com - generated, edits are overwritten
//	; owner web1
//	$ORIGIN example.com.
//	$TTL 3600
//	@	IN	SOA	ns1.example.net. hostmaster.example.com. 2024061500 10800 3600 1209600 3600
//	@	IN	NS	ns1.example.net.
//	@	IN	MX	10 mail.example.net.
//	@	IN	TXT	"v=spf1 a mx ~all"
//	@	IN	A	192.0.2.10
//	www	IN	A	192.0.2.10
//	*	IN	A	192.0.2.10        (only with the wildcard resource)
//	mail	IN	A	192.0.2.10        (only when the server has no MailHost)
//
// The SOA stays on one line (no parentheses) so that a line-based reader,
// StateOf included, finds the serial without a zone-file parser.
func (z *zone) render(s *server, serial uint32, buf *bytes.Buffer) (serialOff, serialLen int) {
	buf.Grow(512)
	buf.WriteString("; Kontor zone ")
	buf.WriteString(z.name)
	buf.WriteString(" - generated, edits are overwritten\n; owner ")
	buf.WriteString(z.owner)
	buf.WriteString("\n$ORIGIN ")
	buf.WriteString(z.name)
	buf.WriteString(".\n$TTL ")
	buf.WriteString(strconv.Itoa(TTL))
	buf.WriteString("\n@\tIN\tSOA\t")
	buf.WriteString(s.primary)
	buf.WriteString(". hostmaster.")
	buf.WriteString(z.name)
	buf.WriteString(". ")
	serialOff = buf.Len()
	var num [10]byte
	b := strconv.AppendUint(num[:0], uint64(serial), 10)
	buf.Write(b)
	serialLen = len(b)
	fmt.Fprintf(buf, " %d %d %d %d\n", Refresh, Retry, Expire, Minimum)
	for _, n := range s.ns {
		buf.WriteString("@\tIN\tNS\t")
		buf.WriteString(n)
		buf.WriteString(".\n")
	}
	buf.WriteString("@\tIN\tMX\t")
	buf.WriteString(strconv.Itoa(MXPreference))
	if z.mailHost != "" {
		buf.WriteString(" ")
		buf.WriteString(z.mailHost)
		buf.WriteString(".\n")
	} else {
		buf.WriteString(" mail\n")
	}
	buf.WriteString("@\tIN\tTXT\t")
	buf.WriteString(quoteTXT(spf))
	buf.WriteString("\n")
	z.addrs(buf, "@")
	z.addrs(buf, "www")
	if z.wildcard {
		z.addrs(buf, "*")
	}
	if z.mailHost == "" {
		z.addrs(buf, "mail")
	}
	return serialOff, serialLen
}

// addrs writes the A records, then the AAAA records, of one owner name.
func (z *zone) addrs(buf *bytes.Buffer, owner string) {
	var tmp [64]byte
	for _, a := range z.v4 {
		buf.WriteString(owner)
		buf.WriteString("\tIN\tA\t")
		buf.Write(a.AppendTo(tmp[:0]))
		buf.WriteByte('\n')
	}
	for _, a := range z.v6 {
		buf.WriteString(owner)
		buf.WriteString("\tIN\tAAAA\t")
		buf.Write(a.AppendTo(tmp[:0]))
		buf.WriteByte('\n')
	}
}

// quoteTXT turns s into TXT character-strings: each at most 255 bytes,
// quoted, with '"' and '\' escaped. Only printable ASCII is accepted; the
// renderer passes constants, and a panic here would mean a programming
// error, not bad input.
func quoteTXT(s string) string {
	var b bytes.Buffer
	for len(s) > 0 || b.Len() == 0 {
		n := min(len(s), 255)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for i := 0; i < n; i++ {
			c := s[i]
			if c < 0x20 || c > 0x7e {
				panic("bind: non-printable byte in TXT constant")
			}
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
		s = s[n:]
	}
	return b.String()
}

// RenderZone renders the zone file of domain d of user u with the given
// SOA serial. d must have the DNS flag. The login, the domain, its address
// and every server value used are validated first; on any error no output
// is returned.
//
// The MX record points at srv.MailHost when set. When it is empty the zone
// gets "MX 10 mail.<domain>" plus A/AAAA records for mail.<domain> with the
// domain's own addresses, because then the mail server is this hosting
// server. Locked users are rendered like any other: USR-3 says mail keeps
// arriving while locked, so their zones must stay.
func RenderZone(srv agent.Server, d agent.Domain, u agent.User, serial uint32) ([]byte, error) {
	s, err := checkServer(srv)
	if err != nil {
		return nil, err
	}
	if err := checkLogin(u.Login); err != nil {
		return nil, err
	}
	field := "domain"
	if i := slices.Index(u.Domains, d); i >= 0 {
		field = fmt.Sprintf("domains[%d]", i)
	}
	z, err := checkZone(s, &u, field, d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	z.render(s, serial, &buf)
	return buf.Bytes(), nil
}
