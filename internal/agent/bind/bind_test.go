package bind

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// day is the fixed "today" of every test, so serials are stable.
var day = time.Date(2024, time.June, 15, 9, 30, 0, 0, time.UTC)

const zoneDir = DefaultZoneDir

func baseServer() agent.Server {
	return agent.Server{
		Hostname:    "server1.example.net",
		SharedIPv4:  []string{"192.0.2.10"},
		NameServers: []string{"ns1.example.net", "ns2.example.net"},
		MailHost:    "mail.example.net",
	}
}

func user(id int64, login string, domains ...agent.Domain) agent.User {
	return agent.User{ID: id, Login: login, UID: 10000 + int(id), Home: "/home/" + login,
		Limits: panel.Limits{}, Services: panel.ServiceSet{}, Domains: domains}
}

func dns(name string) agent.Domain { return agent.Domain{Name: name, DNS: true} }

// goldenCases are the states whose complete output is kept in testdata/.
func goldenCases() map[string]agent.State {
	v6 := baseServer()
	// Unsorted, with a duplicate and a non-canonical spelling, to show the
	// output is sorted, de-duplicated and canonical.
	v6.SharedIPv4 = []string{"192.0.2.20", "192.0.2.10", "192.0.2.20"}
	v6.SharedIPv6 = []string{"2001:db8:0:0::10"}
	v6.MailHost = ""
	v6.NameServers = []string{"ns2.example.net.", "ns1.example.net"}

	excl := baseServer()
	excl.SharedIPv6 = []string{"2001:db8::10"}

	wild := user(1, "web1", dns("example.com"))
	wild.Limits = panel.Limits{panel.ResWildcard: 1}
	wildUnl := user(2, "web2", dns("example.org"))
	wildUnl.Limits = panel.Limits{panel.ResWildcard: panel.Unlimited}

	locked := user(1, "web1", dns("example.com"))
	locked.Locked = true

	return map[string]agent.State{
		"ipv4_only": {Server: baseServer(), Users: []agent.User{user(1, "web1", dns("example.com"))}},
		"ipv4_ipv6": {Server: v6, Users: []agent.User{user(1, "web1", dns("example.com"))}},
		"exclusive_ip": {Server: excl, Users: []agent.User{user(1, "web1",
			agent.Domain{Name: "example.com", DNS: true, IP: "198.51.100.7"},
			agent.Domain{Name: "example.org", DNS: true, IP: "2001:db8:0:0:0:0:0:77"},
			dns("example.info"))}},
		"wildcard": {Server: baseServer(), Users: []agent.User{wild, wildUnl, user(3, "web3", dns("example.info"))}},
		"idn":      {Server: baseServer(), Users: []agent.User{user(1, "web1", dns(mustNorm("münchen.de")), dns(mustNorm("bücher.example")))}},
		"no_dns": {Server: baseServer(), Users: []agent.User{user(1, "web1",
			dns("example.com"), agent.Domain{Name: "registered-elsewhere.com", DNS: false})}},
		"locked": {Server: baseServer(), Users: []agent.User{locked}},
	}
}

func mustNorm(s string) string {
	n, err := panel.NormalizeDomain("d", s)
	if err != nil {
		panic(err)
	}
	return n
}

// dump lays out files as "-- name --" sections in key order: one golden
// file per case shows every zone and the named.conf fragment together.
func dump(files map[string][]byte) []byte {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "-- %s --\n", k)
		b.Write(files[k])
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for name, st := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			files, next, errs := RenderAll(st, nil, day, zoneDir)
			if len(errs) != 0 {
				t.Fatalf("errs: %v", errs)
			}
			for k, body := range files {
				if k == NamedConfFile {
					checkNamedConf(t, body)
					continue
				}
				domain := strings.TrimSuffix(k, ".zone")
				checkZoneLines(t, domain, body)
				st, err := StateOf(body)
				if err != nil || st != next[domain] {
					t.Errorf("StateOf(%s) = %+v, %v; RenderAll recorded %+v", k, st, err, next[domain])
				}
			}
			if len(next) != len(files)-1 {
				t.Errorf("next has %d zones, files %d", len(next), len(files)-1)
			}
			got := dump(files)
			testenv.Golden(t, name, got)
			// Same state, same bytes: a second run from the recorded
			// state changes nothing.
			files2, next2, _ := RenderAll(st, next, day.Add(48*time.Hour), zoneDir)
			if !bytes.Equal(dump(files2), got) {
				t.Error("second run with unchanged state is not byte-identical")
			}
			for d, s := range next2 {
				if s != next[d] {
					t.Errorf("%s: state changed without content change: %+v → %+v", d, next[d], s)
				}
			}
		})
	}
}

func TestGoldenContents(t *testing.T) {
	files, _, _ := RenderAll(goldenCases()["no_dns"], nil, day, zoneDir)
	if _, ok := files["registered-elsewhere.com.zone"]; ok {
		t.Error("domain without DNS got a zone")
	}
	if bytes.Contains(files[NamedConfFile], []byte("registered-elsewhere")) {
		t.Error("domain without DNS is in named.conf")
	}
	files, _, _ = RenderAll(goldenCases()["wildcard"], nil, day, zoneDir)
	if !bytes.Contains(files["example.com.zone"], []byte("\n*\tIN\tA\t")) ||
		!bytes.Contains(files["example.org.zone"], []byte("\n*\tIN\tA\t")) {
		t.Error("wildcard limit 1 / -1 gave no * record")
	}
	if bytes.Contains(files["example.info.zone"], []byte("\n*\t")) {
		t.Error("wildcard limit 0 gave a * record")
	}
	files, _, _ = RenderAll(goldenCases()["locked"], nil, day, zoneDir)
	if _, ok := files["example.com.zone"]; !ok {
		t.Error("locked user lost its zone (USR-3: mail keeps arriving)")
	}
	files, _, _ = RenderAll(goldenCases()["exclusive_ip"], nil, day, zoneDir)
	if bytes.Contains(files["example.com.zone"], []byte("192.0.2.10")) || bytes.Contains(files["example.com.zone"], []byte("AAAA")) {
		t.Error("exclusive IPv4 domain also got the shared addresses")
	}
	if bytes.Contains(files["example.org.zone"], []byte("\tA\t")) || !bytes.Contains(files["example.org.zone"], []byte("AAAA\t2001:db8::77")) {
		t.Error("exclusive IPv6 domain: want only AAAA 2001:db8::77")
	}
}

var (
	fqdnRe  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+$`)
	labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	txtRe   = regexp.MustCompile(`^("([^"\\]|\\["\\])*")( "([^"\\]|\\["\\])*")*$`)
)

// checkZoneLines is the small line-based stand-in for named-checkzone: every
// byte is printable ASCII, every record line has the fields its type needs,
// and the records the zone must have are there.
func checkZoneLines(t *testing.T, domain string, body []byte) {
	t.Helper()
	for i, c := range body {
		if c != '\n' && c != '\t' && (c < 0x20 || c > 0x7e) {
			t.Fatalf("%s: byte %d is %q", domain, i, c)
		}
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		t.Errorf("%s: no final newline", domain)
	}
	count := map[string]int{}
	owners := map[string]bool{}
	var mxTarget string
	for n, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		bad := func(why string) { t.Errorf("%s line %d %q: %s", domain, n+1, line, why) }
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
			continue
		case strings.HasPrefix(line, "$ORIGIN "):
			if line != "$ORIGIN "+domain+"." {
				bad("wrong origin")
			}
			continue
		case strings.HasPrefix(line, "$TTL "):
			if _, err := strconv.ParseUint(line[5:], 10, 32); err != nil {
				bad("bad TTL")
			}
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			bad("want 4 tab-separated fields")
			continue
		}
		name, class, typ, data := f[0], f[1], f[2], f[3]
		if name != "@" && name != "*" && !labelRe.MatchString(name) {
			bad("bad owner name")
		}
		if class != "IN" {
			bad("class not IN")
		}
		count[typ]++
		owners[name] = true
		switch typ {
		case "SOA":
			s := strings.Split(data, " ")
			if len(s) != 7 || !fqdnRe.MatchString(s[0]) || s[1] != "hostmaster."+domain+"." {
				bad("bad SOA names")
				continue
			}
			for _, v := range s[2:] {
				if _, err := strconv.ParseUint(v, 10, 32); err != nil {
					bad("bad SOA number " + v)
				}
			}
			if name != "@" {
				bad("SOA not at apex")
			}
		case "NS":
			if !fqdnRe.MatchString(data) || name != "@" {
				bad("bad NS")
			}
		case "MX":
			s := strings.Split(data, " ")
			if len(s) != 2 || s[0] != "10" || !(fqdnRe.MatchString(s[1]) || labelRe.MatchString(s[1])) {
				bad("bad MX")
				continue
			}
			mxTarget = s[1]
		case "TXT":
			if !txtRe.MatchString(data) {
				bad("bad TXT quoting")
			}
		case "A", "AAAA":
			a, err := netip.ParseAddr(data)
			if err != nil || (typ == "A") != a.Is4() || a.String() != data {
				bad("address does not match type or is not canonical")
			}
		default:
			bad("unexpected type")
		}
	}
	if count["SOA"] != 1 || count["NS"] < 1 || count["MX"] != 1 || count["TXT"] != 1 || count["A"]+count["AAAA"] == 0 {
		t.Errorf("%s: record counts %v", domain, count)
	}
	if !owners["www"] {
		t.Errorf("%s: no www record", domain)
	}
	if mxTarget != "" && !strings.HasSuffix(mxTarget, ".") && !owners[mxTarget] {
		t.Errorf("%s: in-zone MX target %s has no address", domain, mxTarget)
	}
}

var confLine = regexp.MustCompile(`^zone "([a-z0-9.-]+)" \{ type master; file "(/[A-Za-z0-9._/-]+)"; \}; // [a-z0-9]+$`)

func checkNamedConf(t *testing.T, body []byte) {
	t.Helper()
	var prev string
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		if strings.HasPrefix(line, "//") {
			continue
		}
		m := confLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("named.conf line %q", line)
			continue
		}
		if m[2] != zoneDir+"/"+m[1]+".zone" {
			t.Errorf("named.conf: file %s for zone %s", m[2], m[1])
		}
		if m[1] <= prev {
			t.Errorf("named.conf not sorted/unique at %s", m[1])
		}
		prev = m[1]
	}
}

func TestNextSerial(t *testing.T) {
	cases := []struct {
		old  uint32
		want uint32
	}{
		{0, 2024061500},          // new zone
		{2024061400, 2024061500}, // yesterday → today's first
		{2024061407, 2024061500},
		{2024061500, 2024061501}, // same day: nn+1
		{2024061598, 2024061599},
		{2024061599, 2024061600}, // 100th change: keeps counting past the date form
		{2024061600, 2024061601}, // still ahead of the date: +1
		{2099010100, 2099010101}, // in the future: +1, never back to today
		{12345, 2024061500},      // a small hand-set serial
		{4294967295, 0},          // wrap: RFC 1982 increase
	}
	for _, c := range cases {
		if got := NextSerial(c.old, day); got != c.want {
			t.Errorf("NextSerial(%d) = %d, want %d", c.old, got, c.want)
		}
	}
	// Local time zones do not move the date: 00:30 on the 16th in UTC+2 is
	// still the 15th in UTC.
	loc := time.FixedZone("CEST", 2*3600)
	if got := NextSerial(0, time.Date(2024, 6, 16, 0, 30, 0, 0, loc)); got != 2024061500 {
		t.Errorf("time zone: got %d", got)
	}
	// Property: many changes across days never decrease.
	s := uint32(0)
	for i := 0; i < 1000; i++ {
		n := NextSerial(s, day.Add(time.Duration(i/150)*24*time.Hour))
		if n <= s {
			t.Fatalf("step %d: %d → %d", i, s, n)
		}
		s = n
	}
}

func TestSerialOnlyOnChange(t *testing.T) {
	st := agent.State{Server: baseServer(), Users: []agent.User{
		user(1, "web1", dns("example.com"), dns("example.org")),
		user(2, "web2", dns("example.biz")),
	}}
	files1, next1, errs := RenderAll(st, nil, day, zoneDir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// Same day, one domain gets an exclusive IP: only that zone changes.
	st.Users[0].Domains[1].IP = "198.51.100.9"
	files2, next2, _ := RenderAll(st, next1, day.Add(time.Hour), zoneDir)
	if next2["example.org"].Serial != 2024061501 {
		t.Errorf("changed zone serial %d, want 2024061501", next2["example.org"].Serial)
	}
	for _, d := range []string{"example.com", "example.biz"} {
		if next2[d] != next1[d] || !bytes.Equal(files1[ZoneFile(d)], files2[ZoneFile(d)]) {
			t.Errorf("%s changed without a change", d)
		}
	}
	// Next day, another change: today's date form.
	st.Users[1].Limits = panel.Limits{panel.ResWildcard: 1}
	_, next3, _ := RenderAll(st, next2, day.Add(24*time.Hour), zoneDir)
	if next3["example.biz"].Serial != 2024061600 || next3["example.org"] != next2["example.org"] {
		t.Errorf("next day: %+v", next3)
	}
	// State rebuilt from the files on disk equals the recorded state, so a
	// lost record does not bump serials.
	fromDisk := map[string]ZoneState{}
	for k, b := range files2 {
		if k != NamedConfFile {
			s, err := StateOf(b)
			if err != nil {
				t.Fatal(err)
			}
			fromDisk[strings.TrimSuffix(k, ".zone")] = s
		}
	}
	_, next4, _ := RenderAll(agent.State{Server: baseServer(), Users: st.Users[:1]}, fromDisk, day.Add(72*time.Hour), zoneDir)
	if next4["example.org"] != next2["example.org"] || next4["example.com"] != next2["example.com"] {
		t.Errorf("state from disk bumped serials: %+v vs %+v", next4, next2)
	}
	if _, ok := next4["example.biz"]; ok {
		t.Error("zone of a removed user is still recorded")
	}
	// A server-wide change (new name server) touches every zone.
	st.Server.NameServers = append(st.Server.NameServers, "ns3.example.net")
	_, next5, _ := RenderAll(st, next3, day.Add(24*time.Hour), zoneDir)
	for d, s := range next5 {
		if s.Serial <= next3[d].Serial {
			t.Errorf("%s: serial %d not above %d after NS change", d, s.Serial, next3[d].Serial)
		}
	}
}

func TestDomainMovesToOtherUser(t *testing.T) {
	st := agent.State{Server: baseServer(), Users: []agent.User{user(1, "web1", dns("example.com"))}}
	_, next, _ := RenderAll(st, nil, day, zoneDir)
	st.Users[0].Login, st.Users[0].ID = "web9", 9
	_, next2, _ := RenderAll(st, next, day, zoneDir)
	if next2["example.com"].Owner != "web9" || next2["example.com"].Serial <= next["example.com"].Serial {
		t.Errorf("moved zone: %+v after %+v", next2["example.com"], next["example.com"])
	}
}

// three users; the middle one is the victim the bad-input cases modify.
func threeUsers() agent.State {
	return agent.State{Server: baseServer(), Users: []agent.User{
		user(1, "web1", dns("alpha.com")),
		user(2, "web2", dns("bravo.com"), dns("bravo.org")),
		user(3, "web3", dns("charlie.com")),
	}}
}

func TestBadUserInput(t *testing.T) {
	good, goodNext, errs := RenderAll(threeUsers(), nil, day, zoneDir)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".com"
	cases := []struct {
		name  string
		mut   func(u *agent.User)
		field string
	}{
		{"LF in domain", func(u *agent.User) { u.Domains[1].Name = "bravo.org\nwww\tIN\tA\t6.6.6.6" }, "domains[1].name"},
		{"CR in domain", func(u *agent.User) { u.Domains[1].Name = "bravo.org\r" }, "domains[1].name"},
		{"quote in domain", func(u *agent.User) { u.Domains[0].Name = `bravo".com` }, "domains[0].name"},
		{"dotdot in domain", func(u *agent.User) { u.Domains[0].Name = "../../etc/passwd" }, "domains[0].name"},
		{"empty label", func(u *agent.User) { u.Domains[0].Name = "bravo..com" }, "domains[0].name"},
		{"NUL in domain", func(u *agent.User) { u.Domains[0].Name = "bravo\x00.com" }, "domains[0].name"},
		{"command substitution", func(u *agent.User) { u.Domains[0].Name = "$(reboot).com" }, "domains[0].name"},
		{"space in domain", func(u *agent.User) { u.Domains[0].Name = "bravo .com" }, "domains[0].name"},
		{"backslash in domain", func(u *agent.User) { u.Domains[0].Name = `bravo\.com` }, "domains[0].name"},
		{"over-long label", func(u *agent.User) { u.Domains[0].Name = strings.Repeat("a", 64) + ".com" }, "domains[0].name"},
		{"over-long name", func(u *agent.User) { u.Domains[0].Name = long }, "domains[0].name"},
		{"not stored form", func(u *agent.User) { u.Domains[0].Name = "Bravo.COM" }, "domains[0].name"},
		{"unicode not punycode", func(u *agent.User) { u.Domains[0].Name = "münchen.de" }, "domains[0].name"},
		{"trailing dot", func(u *agent.User) { u.Domains[0].Name = "bravo.com." }, "domains[0].name"},
		{"duplicate domain", func(u *agent.User) { u.Domains[1].Name = "bravo.com" }, "domains[1].name"},
		{"LF in IP", func(u *agent.User) { u.Domains[1].IP = "198.51.100.1\nevil" }, "domains[1].ip"},
		{"shell in IP", func(u *agent.User) { u.Domains[1].IP = "198.51.100.1;$(id)" }, "domains[1].ip"},
		{"zoned IP", func(u *agent.User) { u.Domains[1].IP = "fe80::1%eth0" }, "domains[1].ip"},
		{"mapped IP", func(u *agent.User) { u.Domains[1].IP = "::ffff:198.51.100.1" }, "domains[1].ip"},
		{"LF in login", func(u *agent.User) { u.Login = "web2\n$TTL 0" }, "login"},
		{"shell in login", func(u *agent.User) { u.Login = "web$(id)" }, "login"},
		{"dotdot login", func(u *agent.User) { u.Login = "../web2" }, "login"},
		{"duplicate login", func(u *agent.User) { u.Login = "web3" }, "login"},
		{"domain of another user", func(u *agent.User) { u.Domains[1].Name = "alpha.com" }, "domains.name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := threeUsers()
			c.mut(&st.Users[1])
			victim := st.Users[1].Login
			files, next, errs := RenderAll(st, nil, day, zoneDir)
			err := errs[victim]
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("errs[%q] = %v, want a *FieldError (all errs: %v)", victim, err, errs)
			}
			if fe.Field != c.field || fe.User != victim {
				t.Errorf("error %v names user %q field %q, want %q %q", err, fe.User, fe.Field, victim, c.field)
			}
			if !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), strconv.Quote(victim)) {
				t.Errorf("message %q does not name the field and the user", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Errorf("message carries raw control characters: %q", err)
			}
			if len(errs) != 1 {
				t.Errorf("other users failed too: %v", errs)
			}
			for _, d := range []string{"bravo.com", "bravo.org"} {
				if _, ok := files[ZoneFile(d)]; ok && c.name != "duplicate login" {
					t.Errorf("victim's zone %s was produced", d)
				}
			}
			for k, b := range files {
				if bytes.Contains(b, []byte("6.6.6.6")) || bytes.Contains(b, []byte("reboot")) || bytes.Contains(b, []byte("$(id)")) {
					t.Errorf("%s carries injected text", k)
				}
			}
			// The others are untouched, byte for byte.
			for _, d := range []string{"alpha.com", "charlie.com"} {
				if c.name == "duplicate login" && d == "charlie.com" {
					continue // web3 now exists twice; the first keeps its zone
				}
				if !bytes.Equal(files[ZoneFile(d)], good[ZoneFile(d)]) || next[d] != goodNext[d] {
					t.Errorf("%s changed because of another user's bad input", d)
				}
			}
			checkNamedConf(t, files[NamedConfFile])
			if c.name != "duplicate login" && bytes.Contains(files[NamedConfFile], []byte("bravo")) {
				t.Error("victim's zones declared although never rendered")
			}
		})
	}
}

// A user that goes bad after a good run keeps its last good zones declared,
// so BIND goes on serving the files on disk (SYS-2).
func TestBadUserKeepsLastGood(t *testing.T) {
	_, next, _ := RenderAll(threeUsers(), nil, day, zoneDir)
	st := threeUsers()
	st.Users[1].Domains[0].IP = "not-an-ip"
	files, next2, errs := RenderAll(st, next, day, zoneDir)
	if errs["web2"] == nil {
		t.Fatal("no error for web2")
	}
	if _, ok := files["bravo.com.zone"]; ok {
		t.Error("bad user's zone rendered")
	}
	for _, d := range []string{"bravo.com", "bravo.org"} {
		if next2[d] != next[d] {
			t.Errorf("%s: state not kept: %+v", d, next2[d])
		}
		if !bytes.Contains(files[NamedConfFile], []byte(`zone "`+d+`"`)) {
			t.Errorf("%s: last good zone no longer declared", d)
		}
	}
}

func TestBadServer(t *testing.T) {
	cases := []struct {
		name  string
		mut   func(s *agent.Server)
		field string
	}{
		{"no name servers", func(s *agent.Server) { s.NameServers = nil }, "server.name_servers"},
		{"LF in name server", func(s *agent.Server) { s.NameServers[1] = "ns2.example.net\n@ IN NS evil." }, "server.name_servers[1]"},
		{"single-label name server", func(s *agent.Server) { s.NameServers[0] = "localhost" }, "server.name_servers[0]"},
		{"quote in mail host", func(s *agent.Server) { s.MailHost = `mail".example.net` }, "server.mail_host"},
		{"v6 in v4 list", func(s *agent.Server) { s.SharedIPv4 = []string{"2001:db8::1"} }, "server.shared_ipv4[0]"},
		{"v4 in v6 list", func(s *agent.Server) { s.SharedIPv6 = []string{"192.0.2.1"} }, "server.shared_ipv6[0]"},
		{"unspecified", func(s *agent.Server) { s.SharedIPv4 = []string{"0.0.0.0"} }, "server.shared_ipv4[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := threeUsers()
			c.mut(&st.Server)
			prev := map[string]ZoneState{"alpha.com": {Owner: "web1", Serial: 7, Hash: "x"}}
			files, next, errs := RenderAll(st, prev, day, zoneDir)
			var fe *FieldError
			if !errors.As(errs[ServerKey], &fe) || fe.Field != c.field {
				t.Fatalf("errs = %v, want field %s", errs, c.field)
			}
			if files != nil || len(next) != 1 || next["alpha.com"] != prev["alpha.com"] {
				t.Errorf("server error must change nothing: files %d, next %v", len(files), next)
			}
			if _, err := RenderZone(st.Server, dns("alpha.com"), st.Users[0], 1); err == nil {
				t.Error("RenderZone accepted the bad server")
			}
		})
	}
	for _, dir := range []string{"", "relative/dir", "/var/lib/../etc", "/var/lib/kontor/bind/", "/var/lib/kontor bind", `/var/"x`, "/var/lib/x\n", "/var/$(id)"} {
		_, _, errs := RenderAll(threeUsers(), nil, day, dir)
		var fe *FieldError
		if !errors.As(errs[ServerKey], &fe) || fe.Field != "zone_dir" {
			t.Errorf("zone dir %q: errs %v", dir, errs)
		}
		if _, err := RenderNamedConf(nil, dir); err == nil {
			t.Errorf("RenderNamedConf accepted zone dir %q", dir)
		}
	}
}

func TestInZoneHosts(t *testing.T) {
	st := threeUsers()
	st.Users[0].Domains = []agent.Domain{dns("example.net")} // where our name servers live
	_, _, errs := RenderAll(st, nil, day, zoneDir)
	if errs["web1"] == nil || !strings.Contains(errs["web1"].Error(), "glue") {
		t.Errorf("in-zone name server: %v", errs)
	}
}

func TestRenderZone(t *testing.T) {
	srv := baseServer()
	u := user(1, "web1", dns("example.com"))
	b, err := RenderZone(srv, u.Domains[0], u, 2024061503)
	if err != nil {
		t.Fatal(err)
	}
	checkZoneLines(t, "example.com", b)
	if st, _ := StateOf(b); st.Serial != 2024061503 || st.Owner != "web1" {
		t.Errorf("StateOf: %+v", st)
	}
	if _, err := RenderZone(srv, agent.Domain{Name: "example.com"}, u, 1); err == nil {
		t.Error("zone for a domain without DNS")
	}
	_, err = RenderZone(srv, agent.Domain{Name: "evil.com\n", DNS: true}, u, 1)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "domain.name" || fe.User != "web1" {
		t.Errorf("bad domain: %v", err)
	}
	// The same state gives the same bytes as RenderAll.
	files, _, _ := RenderAll(agent.State{Server: srv, Users: []agent.User{u}}, nil, day, zoneDir)
	b2, _ := RenderZone(srv, u.Domains[0], u, 2024061500)
	if !bytes.Equal(files["example.com.zone"], b2) {
		t.Error("RenderZone and RenderAll differ")
	}
}

func TestRenderNamedConf(t *testing.T) {
	b, err := RenderNamedConf([]ZoneRef{{"example.org", "web2"}, {"example.com", "web1"}}, "/srv/sandbox/var/lib/kontor/bind")
	if err != nil {
		t.Fatal(err)
	}
	want := "// Kontor zones - generated, edits are overwritten.\n" +
		`zone "example.com" { type master; file "/srv/sandbox/var/lib/kontor/bind/example.com.zone"; }; // web1` + "\n" +
		`zone "example.org" { type master; file "/srv/sandbox/var/lib/kontor/bind/example.org.zone"; }; // web2` + "\n"
	if string(b) != want {
		t.Errorf("got\n%s", b)
	}
	refs := ParseNamedConf(b)
	if len(refs) != 2 || refs[0] != (ZoneRef{"example.com", "web1"}) || refs[1] != (ZoneRef{"example.org", "web2"}) {
		t.Errorf("ParseNamedConf = %v", refs)
	}
	if _, err := RenderNamedConf([]ZoneRef{{"example.com", "web1"}, {"example.com", "web2"}}, zoneDir); err == nil {
		t.Error("duplicate zone accepted")
	}
	if _, err := RenderNamedConf([]ZoneRef{{`x.com"; }; include "/etc/shadow`, "web1"}}, zoneDir); err == nil {
		t.Error("injected zone name accepted")
	}
	if b, err := RenderNamedConf(nil, zoneDir); err != nil || bytes.Contains(b, []byte(`zone "`)) {
		t.Errorf("empty: %q %v", b, err)
	}
}

func TestStateOfRejects(t *testing.T) {
	for _, b := range []string{"", "; owner web1\n", "; owner web1\n@\tIN\tSOA\tns. hm. notanumber 1 1 1 1\n", "@\tIN\tSOA\tns. hm. 5 1 1 1 1\n"} {
		if _, err := StateOf([]byte(b)); err == nil {
			t.Errorf("StateOf(%q) accepted", b)
		}
	}
}

// benchState builds 10,000 users with 30,000 domains: a mix of shared and
// exclusive addresses and wildcard limits, as on a full hosting server.
func benchState() agent.State {
	srv := baseServer()
	srv.SharedIPv6 = []string{"2001:db8::10"}
	st := agent.State{Server: srv, Users: make([]agent.User, 10000)}
	for i := range st.Users {
		u := user(int64(i+1), "web"+strconv.Itoa(i+1))
		if i%3 == 0 {
			u.Limits = panel.Limits{panel.ResWildcard: 1}
		}
		for j := 0; j < 3; j++ {
			d := dns(fmt.Sprintf("customer%d-site%d.example", i+1, j))
			if j == 2 && i%10 == 0 {
				d.IP = fmt.Sprintf("198.51.%d.%d", i/250%256, i%250+1)
			}
			u.Domains = append(u.Domains, d)
		}
		st.Users[i] = u
	}
	return st
}

func BenchmarkRenderAll(b *testing.B) {
	st := benchState()
	_, prev, errs := RenderAll(st, nil, day, zoneDir)
	if len(errs) != 0 || len(prev) != 30000 {
		b.Fatalf("errs %v, zones %d", errs, len(prev))
	}
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			RenderAll(st, nil, day, zoneDir)
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			RenderAll(st, prev, day, zoneDir)
		}
	})
	b.Run("one_user", func(b *testing.B) {
		b.ReportAllocs()
		u := st.Users[4711]
		for b.Loop() {
			if _, err := RenderUser(st.Server, u, prev, day); err != nil {
				b.Fatal(err)
			}
		}
	})
}
