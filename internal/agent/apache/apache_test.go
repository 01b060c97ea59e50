package apache

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// zeroReader makes certificate creation deterministic (Ed25519 signing
// ignores it; it is only here so nothing random is ever read).
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// testCert returns a fixed self-signed Ed25519 certificate, so the golden
// files are byte-identical on every run.
func testCert(t testing.TB, seed byte, cn string) *agent.Certificate {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(seed) + 1),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(zeroReader{}, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &agent.Certificate{
		CertPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})),
		ChainPEM: "",
	}
}

// A fixed string in the shape of a bcrypt hash (cost 11, $2y$ as Apache
// writes it); the renderer checks the format, not the password.
const testHash = "$2y$11$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"

func testServer() agent.Server {
	return agent.Server{
		Hostname:   "server1.example.net",
		SharedIPv4: []string{"192.0.2.1"},
		SharedIPv6: []string{"2001:db8::1"},
	}
}

func svc(on ...panel.Service) panel.ServiceSet {
	s := panel.ServiceSet{}
	for _, x := range on {
		s[x] = 1
	}
	return s
}

func allServices() panel.ServiceSet {
	return svc(panel.SvcFTP, panel.SvcPHP, panel.SvcSSI, panel.SvcPHPUpload, panel.SvcWAP,
		panel.SvcSSL, panel.SvcDirListing, panel.SvcCGI, panel.SvcPython, panel.SvcColdFusion,
		panel.SvcWebalizer, panel.SvcProtectedDirs, panel.SvcErrorFiles)
}

func baseUser(id int64, login string) agent.User {
	return agent.User{
		ID: id, Login: login, UID: 10000 + int(id), Home: "/home/" + login,
		Services: svc(panel.SvcPHP),
		Limits:   panel.Limits{},
		Domains:  []agent.Domain{{Name: login + "-site.example", DNS: true}},
	}
}

// dump renders Files as one text: every path with its mode and group,
// then its content, in sorted order.
func dump(f Files) []byte {
	var b bytes.Buffer
	for _, p := range f.Paths() {
		group := f[p].Group
		if group == "" {
			group = "root"
		}
		fmt.Fprintf(&b, "==> %s (mode %04o, group %s)\n", p, f[p].Mode.Perm(), group)
		b.Write(f[p].Data)
		if !bytes.HasSuffix(f[p].Data, []byte("\n")) {
			b.WriteString("\n<no newline at end>\n")
		}
	}
	return b.Bytes()
}

// goldenCases are the users of the golden files; each shows one aspect.
func goldenCases(t testing.TB) []struct {
	name string
	srv  agent.Server
	user agent.User
} {
	plain := baseUser(1, "web1")
	plain.Domains = []agent.Domain{{Name: "example.com", DNS: true}, {Name: "blog.example.com"}}

	all := baseUser(2, "web2")
	all.Services = allServices()
	all.Limits = panel.Limits{panel.ResWildcard: 1}
	all.Domains = []agent.Domain{{Name: "all-on.example", IP: "192.0.2.10"}, {Name: "second.example"}}
	all.SSL = testCert(t, 2, "all-on.example")
	cfServer := testServer()
	cfServer.ColdFusion = "127.0.0.1:8500"

	off := baseUser(3, "web3")
	off.Services = panel.ServiceSet{}
	off.Domains = []agent.Domain{{Name: "all-off.example"}}

	locked := baseUser(4, "web4")
	locked.Locked = true
	locked.Services = allServices()
	locked.Limits = panel.Limits{panel.ResWildcard: -1}
	locked.Domains = []agent.Domain{{Name: "locked.example", IP: "2001:db8::10"}, {Name: "locked2.example"}}
	locked.SSL = testCert(t, 4, "locked.example")
	locked.FrontPage = &agent.FrontPage{Login: "web4fp", Hash: testHash}

	ssl := baseUser(5, "web5")
	ssl.Services = svc(panel.SvcPHP, panel.SvcSSL)
	ssl.Domains = []agent.Domain{{Name: "secure.example", IP: "192.0.2.20"}, {Name: "shared.example"}}
	ssl.SSL = testCert(t, 5, "secure.example")
	ssl.SSL.ChainPEM = testCert(t, 50, "Test CA").CertPEM

	fp := baseUser(6, "web6")
	fp.Services = svc(panel.SvcPHP, panel.SvcSSI, panel.SvcPython)
	fp.Domains = []agent.Domain{{Name: "publish.example"}}
	fp.FrontPage = &agent.FrontPage{Login: "web6fp", Hash: testHash}

	wild := baseUser(7, "web7")
	wild.Limits = panel.Limits{panel.ResWildcard: 1}
	wild.Domains = []agent.Domain{{Name: "wild.example"}, {Name: "sub.wild.example"}, {Name: "www.other.example"}}

	idn, err := panel.NormalizeDomain("d", "münchen-bäckerei.de")
	if err != nil {
		t.Fatal(err)
	}
	idnUser := baseUser(8, "web8")
	idnUser.Domains = []agent.Domain{{Name: idn}}

	cf := baseUser(9, "web9")
	cf.Services = svc(panel.SvcPHP, panel.SvcColdFusion)
	cf.Domains = []agent.Domain{{Name: "cf.example"}}

	// Webalizer with protected directories: the stats folder keeps its own
	// AllowOverride None under the html folder's AuthConfig.
	stats := baseUser(10, "web10")
	stats.Services = svc(panel.SvcPHP, panel.SvcWebalizer, panel.SvcProtectedDirs)
	stats.Domains = []agent.Domain{{Name: "stats.example"}, {Name: "second-stats.example", IP: "192.0.2.40"}}

	return []struct {
		name string
		srv  agent.Server
		user agent.User
	}{
		{"plain", testServer(), plain},
		{"everything_on", cfServer, all},
		{"everything_off", testServer(), off},
		{"locked", testServer(), locked},
		{"ssl_exclusive_ip", testServer(), ssl},
		{"frontpage", testServer(), fp},
		{"wildcard", testServer(), wild},
		{"idn", testServer(), idnUser},
		{"coldfusion_without_engine", testServer(), cf},
		{"webalizer", testServer(), stats},
	}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			f, err := RenderUser(c.srv, c.user, Options{})
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, c.name, dump(f))
		})
	}
}

func TestGoldenGlobal(t *testing.T) {
	f, err := RenderGlobal(Options{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "global", dump(f))
}

// TestGoldenNoSharedIP shows the fallback to *:80 when the admin
// configured no shared address.
func TestGoldenNoSharedIP(t *testing.T) {
	u := baseUser(1, "web1")
	f, err := RenderUser(agent.Server{}, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "no_shared_ip", dump(f))
}

// TestSwitches checks the SVC-2 contract directly on the output: a switch
// adds its directive, and turning it off removes it again.
func TestSwitches(t *testing.T) {
	srv := testServer()
	srv.ColdFusion = "127.0.0.1:8500"
	checks := []struct {
		svc  panel.Service
		text string
	}{
		{panel.SvcPHP, "proxy:unix:/run/php/kontor-web1.sock|fcgi://localhost"},
		{panel.SvcSSI, "AddOutputFilter INCLUDES .shtml"},
		{panel.SvcCGI, "ScriptAlias /cgi-bin/ /home/web1/cgi-bin/"},
		{panel.SvcPython, "AddHandler cgi-script .py"},
		{panel.SvcWAP, "AddType text/vnd.wap.wml .wml"},
		{panel.SvcDirListing, " Indexes"},
		{panel.SvcColdFusion, "ProxyPassMatch"},
		{panel.SvcErrorFiles, "AllowOverrideList ErrorDocument"},
		{panel.SvcProtectedDirs, "AllowOverride AuthConfig"},
		{panel.SvcWebalizer, "<Directory /home/web1/html/webalizer>\n\t\tOptions None\n\t\tAllowOverride None\n"},
		{panel.SvcWebalizer, "AuthUserFile /etc/kontor/webalizer-auth/web1.htpasswd\n\t\tRequire valid-user\n"},
	}
	for _, c := range checks {
		u := baseUser(1, "web1")
		u.Services = svc(c.svc)
		on, err := RenderUser(srv, u, Options{})
		if err != nil {
			t.Fatal(err)
		}
		u.Services = svc()
		off, err := RenderUser(srv, u, Options{})
		if err != nil {
			t.Fatal(err)
		}
		site := "/etc/apache2/kontor/sites/web1.conf"
		if !bytes.Contains(on[site].Data, []byte(c.text)) {
			t.Errorf("%s on: %q missing", c.svc, c.text)
		}
		if bytes.Contains(off[site].Data, []byte(c.text)) {
			t.Errorf("%s off: %q still there", c.svc, c.text)
		}
		if c.svc == panel.SvcPHP {
			if _, ok := on["/etc/php/kontor/fpm/web1.conf"]; !ok {
				t.Error("PHP on: no pool")
			}
			if _, ok := off["/etc/php/kontor/fpm/web1.conf"]; ok {
				t.Error("PHP off: pool still rendered")
			}
			if !bytes.Contains(off[site].Data, []byte(`<FilesMatch "\.(?:php[0-9]?|phtml|phar)$">`+"\n\t\tRequire all denied")) {
				t.Error("PHP off: .php not denied")
			}
		}
		if !bytes.Contains(off[site].Data, []byte("AllowOverride None")) {
			t.Errorf("%s off: AllowOverride not None", c.svc)
		}
	}
}

// TestDeterministic renders a state twice, the second time with users and
// domains in another order, and expects byte-identical files.
func TestDeterministic(t *testing.T) {
	var st agent.State
	st.Server = testServer()
	for _, c := range goldenCases(t) {
		st.Users = append(st.Users, c.user)
	}
	a, errs := RenderAll(st, Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	rev := agent.State{Server: st.Server}
	for i := len(st.Users) - 1; i >= 0; i-- {
		u := st.Users[i]
		u.Domains = append([]agent.Domain(nil), u.Domains...)
		for l, r := 0, len(u.Domains)-1; l < r; l, r = l+1, r-1 {
			u.Domains[l], u.Domains[r] = u.Domains[r], u.Domains[l]
		}
		rev.Users = append(rev.Users, u)
	}
	rev.Server.SharedIPv4 = []string{"192.0.2.1", "192.0.2.1"}
	b, errs := RenderAll(rev, Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if !bytes.Equal(dump(a), dump(b)) {
		t.Fatal("output depends on input order")
	}
}

// badCase mutates user web2 of a three-user state into something that
// must be refused; field is the field the error must name.
type badCase struct {
	name   string
	field  string
	mutate func(u *agent.User)
}

func badCases(t *testing.T) []badCase {
	long := strings.Repeat("a", 64) + ".example"
	setDomain := func(n string) func(u *agent.User) {
		return func(u *agent.User) { u.Domains = append(u.Domains, agent.Domain{Name: n}) }
	}
	setIP := func(ip string) func(u *agent.User) {
		return func(u *agent.User) { u.Domains[0].IP = ip }
	}
	setHome := func(h string) func(u *agent.User) { return func(u *agent.User) { u.Home = h } }
	otherKey := testCert(t, 9, "other.example").KeyPEM
	return []badCase{
		{"login LF injection", "login", func(u *agent.User) { u.Login = "web2\nInclude /etc/shadow" }},
		{"login CR", "login", func(u *agent.User) { u.Login = "web2\r" }},
		{"login quote", "login", func(u *agent.User) { u.Login = `web2"` }},
		{"login space", "login", func(u *agent.User) { u.Login = "web 2" }},
		{"login command substitution", "login", func(u *agent.User) { u.Login = "web2$(id)" }},
		{"login NUL", "login", func(u *agent.User) { u.Login = "web2\x00" }},
		{"login dots", "login", func(u *agent.User) { u.Login = "../web1" }},
		{"home dotdot", "home", setHome("/home/../etc")},
		{"home outside", "home", setHome("/srv/web2")},
		{"home is the base", "home", setHome("/home")},
		{"home relative", "home", setHome("home/web2")},
		{"home space", "home", setHome("/home/web 2")},
		{"home NUL", "home", setHome("/home/web2\x00")},
		{"home LF", "home", setHome("/home/web2\nInclude /etc")},
		{"home colon", "home", setHome("/home/web2:/etc")},
		{"home dollar", "home", setHome("/home/${APACHE_RUN_DIR}")},
		{"home trailing slash", "home", setHome("/home/web2/")},
		{"domain CRLF", "domains[1].name", setDomain("evil.example\r\nServerAlias bank.example")},
		{"domain LF", "domains[1].name", setDomain("evil.example\n</VirtualHost>")},
		{"domain quote", "domains[1].name", setDomain(`evil".example`)},
		{"domain space", "domains[1].name", setDomain("evil .example")},
		{"domain command substitution", "domains[1].name", setDomain("$(reboot).example")},
		{"domain backtick", "domains[1].name", setDomain("`id`.example")},
		{"domain NUL", "domains[1].name", setDomain("evil\x00.example")},
		{"domain dotdot", "domains[1].name", setDomain("evil..example")},
		{"domain over-long label", "domains[1].name", setDomain(long)},
		{"domain backslash", "domains[1].name", setDomain(`evil\.example`)},
		{"domain unicode not punycode", "domains[1].name", setDomain("münchen.de")},
		{"domain upper case", "domains[1].name", setDomain("Evil.example")},
		{"domain wildcard", "domains[1].name", setDomain("*.evil.example")},
		{"domain twice", "domains[1].name", setDomain("web2-site.example")},
		{"ip LF", "domains[0].ip", setIP("192.0.2.30\nListen 1")},
		{"ip two", "domains[0].ip", setIP("192.0.2.30 192.0.2.31")},
		{"ip zone", "domains[0].ip", setIP("fe80::1%eth0")},
		{"ip unspecified", "domains[0].ip", setIP("0.0.0.0")},
		{"ip with port", "domains[0].ip", setIP("192.0.2.30:80")},
		{"ip name", "domains[0].ip", setIP("localhost")},
		{"frontpage login LF", "frontpage_login", func(u *agent.User) {
			u.FrontPage = &agent.FrontPage{Login: "web2fp\nroot", Hash: testHash}
		}},
		{"frontpage hash colon", "frontpage_hash", func(u *agent.User) {
			u.FrontPage = &agent.FrontPage{Login: "web2fp", Hash: testHash[:59] + ":"}
		}},
		{"frontpage hash LF", "frontpage_hash", func(u *agent.User) {
			u.FrontPage = &agent.FrontPage{Login: "web2fp", Hash: testHash + "\nroot:x"}
		}},
		{"frontpage hash plain", "frontpage_hash", func(u *agent.User) {
			u.FrontPage = &agent.FrontPage{Login: "web2fp", Hash: "secret"}
		}},
		{"cert garbage", "ssl.cert", func(u *agent.User) {
			u.Services[panel.SvcSSL] = 1
			u.SSL = &agent.Certificate{CertPEM: "not a cert", KeyPEM: testCert(t, 2, "x.example").KeyPEM}
		}},
		{"cert trailing text", "ssl.cert", func(u *agent.User) {
			u.Services[panel.SvcSSL] = 1
			c := testCert(t, 2, "x.example")
			c.CertPEM += "SSLEngine off\n"
			u.SSL = c
		}},
		{"cert corrupt DER", "ssl.cert", func(u *agent.User) {
			u.Services[panel.SvcSSL] = 1
			c := testCert(t, 2, "x.example")
			c.CertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}))
			u.SSL = c
		}},
		{"key of another cert", "ssl.key", func(u *agent.User) {
			u.Services[panel.SvcSSL] = 1
			c := testCert(t, 2, "x.example")
			c.KeyPEM = otherKey
			u.SSL = c
		}},
		{"chain garbage", "ssl.chain", func(u *agent.User) {
			u.Services[panel.SvcSSL] = 1
			c := testCert(t, 2, "x.example")
			c.ChainPEM = "-----BEGIN CERTIFICATE-----\n$(id)\n"
			u.SSL = c
		}},
		{"unknown service", "service", func(u *agent.User) { u.Services["evil"] = 1 }},
	}
}

// TestBadInput makes one of three users bad in many ways and checks: the
// error names the user and the field, nothing of that user is emitted
// (neither by RenderUser nor by RenderAll), and the other users' files are
// byte-identical to a run without the bad user.
func TestBadInput(t *testing.T) {
	good := func() []agent.User {
		u1, u2, u3 := baseUser(1, "web1"), baseUser(2, "web2"), baseUser(3, "web3")
		u2.Domains[0].IP = "192.0.2.30"
		return []agent.User{u1, u2, u3}
	}
	st := agent.State{Server: testServer(), Users: good()}
	want, errs := RenderAll(agent.State{Server: st.Server, Users: []agent.User{st.Users[0], st.Users[2]}}, Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	for _, c := range badCases(t) {
		t.Run(c.name, func(t *testing.T) {
			users := good()
			c.mutate(&users[1])
			bad := users[1]

			f, err := RenderUser(st.Server, bad, Options{})
			if err == nil || f != nil {
				t.Fatalf("RenderUser accepted it: %v, %d files", err, len(f))
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.ID != 2 || ae.Field() != c.field {
				t.Fatalf("error %v: want user id 2 and field %q, got field %q", err, c.field, ae.Field())
			}
			if !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "id 2") {
				t.Errorf("message %q does not name the field and the user", err)
			}

			got, errs := RenderAll(agent.State{Server: st.Server, Users: users}, Options{})
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %v", errs)
			}
			for k, e := range errs {
				if !errors.As(e, &ae) || ae.ID != 2 || ae.Field() != c.field {
					t.Fatalf("error %q: %v", k, e)
				}
			}
			if !bytes.Equal(dump(got), dump(want)) {
				t.Errorf("other users' output changed or the bad user leaked:\n%s", testenv.FirstDiff(dump(want), dump(got)))
			}
		})
	}
}

// TestConflicts: of two users claiming a login or a domain, the older one
// (lower id) keeps it, whatever the order in the state.
func TestConflicts(t *testing.T) {
	a, b := baseUser(1, "web1"), baseUser(2, "web2")
	b.Domains = append(b.Domains, agent.Domain{Name: "web1-site.example"})
	files, errs := RenderAll(agent.State{Server: testServer(), Users: []agent.User{b, a}}, Options{})
	var ae *Error
	if len(errs) != 1 || !errors.As(errs["web2"], &ae) || ae.Field() != "domains[1].name" {
		t.Fatalf("domain conflict: %v", errs)
	}
	if _, ok := files["/etc/apache2/kontor/sites/web1.conf"]; !ok {
		t.Error("the older user lost its site")
	}
	if _, ok := files["/etc/apache2/kontor/sites/web2.conf"]; ok {
		t.Error("the conflicting user was rendered")
	}

	c := baseUser(3, "web1")
	c.Domains = []agent.Domain{{Name: "third.example"}}
	_, errs = RenderAll(agent.State{Server: testServer(), Users: []agent.User{c, a}}, Options{})
	if len(errs) != 1 || !errors.As(errs["web1"], &ae) || ae.ID != 3 || ae.Field() != "login" {
		t.Fatalf("login conflict: %v", errs)
	}
}

// TestBadServer: a bad server-wide value fails every user and is reported
// under ServerErrorKey; nothing is rendered.
func TestBadServer(t *testing.T) {
	for _, srv := range []agent.Server{
		{SharedIPv4: []string{"192.0.2.1\nListen 80"}},
		{SharedIPv4: []string{"2001:db8::1"}},
		{SharedIPv6: []string{"192.0.2.1"}},
		{ColdFusion: "127.0.0.1:8500/evil"},
		{ColdFusion: "http://127.0.0.1:8500"},
		{ColdFusion: "cf host:8500"},
		{ColdFusion: "127.0.0.1:0"},
		{ColdFusion: "127.0.0.1"},
	} {
		files, errs := RenderAll(agent.State{Server: srv, Users: []agent.User{baseUser(1, "web1")}}, Options{})
		if len(files) != 0 || errs[ServerErrorKey] == nil || errs["web1"] == nil {
			t.Errorf("%+v: files %d, errs %v", srv, len(files), errs)
		}
	}
	for _, cf := range []string{"127.0.0.1:8500", "[::1]:8500", "cf.internal.example:8500", "localhost:8888"} {
		if _, err := RenderUser(agent.Server{ColdFusion: cf}, baseUser(1, "web1"), Options{}); err != nil {
			t.Errorf("%s refused: %v", cf, err)
		}
	}
}

// TestBadOptions: the configured paths are checked like any other value.
func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{SitesDir: "relative/sites"},
		{LogDir: "/var/log/../../etc"},
		{LockedRoot: "/var/www/locked page"},
		{FPMDir: "/etc/php/\nfpm"},
		{WebalizerAuthDir: "/etc/kontor/webalizer auth"},
		{WebalizerAuthDir: "relative/auth"},
		{WebUser: "www data"},
		{PHPMaxChildren: -1},
	} {
		if _, err := RenderGlobal(o); err == nil {
			t.Errorf("RenderGlobal accepted %+v", o)
		}
		if _, err := RenderUser(testServer(), baseUser(1, "web1"), o); err == nil {
			t.Errorf("RenderUser accepted %+v", o)
		}
	}
}

// TestNoForbiddenBytes scans every golden output for bytes that must never
// reach a file.
func TestNoForbiddenBytes(t *testing.T) {
	for _, c := range goldenCases(t) {
		f, err := RenderUser(c.srv, c.user, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for p, file := range f {
			if bytes.ContainsAny(file.Data, "\r\x00`") {
				t.Errorf("%s: %s contains CR, NUL or a backtick", c.name, p)
			}
		}
	}
}

// benchState builds 10,000 users with 30,000 domains: a mix of services,
// every tenth user with an exclusive IP and a certificate, every
// twentieth locked, every fifteenth with FrontPage.
func benchState(b *testing.B) agent.State {
	cert := testCert(b, 1, "bench.example")
	st := agent.State{Server: testServer()}
	st.Server.ColdFusion = "127.0.0.1:8500"
	st.Users = make([]agent.User, 0, 10000)
	for i := 1; i <= 10000; i++ {
		login := fmt.Sprintf("web%d", i)
		u := agent.User{ID: int64(i), Login: login, UID: 10000 + i, Home: "/home/" + login,
			Services: svc(panel.SvcPHP), Limits: panel.Limits{}}
		switch i % 4 {
		case 1:
			u.Services = allServices()
			u.Services[panel.SvcErrorFiles] = 0
			u.Services[panel.SvcProtectedDirs] = 0
		case 2:
			u.Services = svc()
		case 3:
			u.Limits[panel.ResWildcard] = 1
		}
		for d := 0; d < 3; d++ {
			dom := agent.Domain{Name: fmt.Sprintf("site%d-%s.example", d, login), DNS: true}
			if d == 0 && i%10 == 0 {
				dom.IP = fmt.Sprintf("10.%d.%d.%d", i/65536, (i/256)%256, i%256)
			}
			u.Domains = append(u.Domains, dom)
		}
		if i%10 == 0 {
			u.Services[panel.SvcSSL] = 1
			u.SSL = cert
		}
		if i%20 == 0 {
			u.Locked = true
		}
		if i%15 == 0 {
			u.FrontPage = &agent.FrontPage{Login: login + "fp", Hash: testHash}
		}
		st.Users = append(st.Users, u)
	}
	return st
}

func BenchmarkRenderAll10kUsers30kDomains(b *testing.B) {
	st := benchState(b)
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		files, errs := RenderAll(st, Options{})
		if len(errs) != 0 {
			b.Fatal(errs)
		}
		size = 0
		for _, f := range files {
			size += len(f.Data)
		}
	}
	b.ReportMetric(float64(size)/1e6, "MB-output")
}

// BenchmarkRenderUser is the incremental path: one user's change renders
// only that user.
func BenchmarkRenderUser(b *testing.B) {
	st := benchState(b)
	u := st.Users[9] // all services, exclusive IP, certificate
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderUser(st.Server, u, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
