package bind

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kontor/internal/testenv"
)

// checkerCmd returns the argv to run a BIND checker without network access.
// named-checkzone -i full looks up out-of-zone NS/MX targets through the
// system resolver; the tests must not send traffic anywhere but loopback,
// so as root the checker runs in a fresh, empty network namespace
// (unshare -n), where those lookups fail at once and are only warnings.
// Without unshare (or not root) the out-of-zone checks are switched off
// with "-i local" instead.
func checkerCmd(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		testenv.Need(t, name+" (Debian package bind9-utils)")
	}
	if us, err := exec.LookPath("unshare"); err == nil && os.Geteuid() == 0 {
		return exec.Command(us, append([]string{"--net", bin}, args...)...)
	}
	for i, a := range args {
		if a == "full" && i > 0 && args[i-1] == "-i" {
			args[i] = "local"
		}
	}
	return exec.Command(bin, args...)
}

// TestRealCheckers renders every golden state into a temp dir and runs
// BIND's own checkers on the result: named-checkzone (strict: -k/-m/-M
// fail, full integrity checks) on every zone, and named-checkconf -z on a
// minimal named.conf that includes the generated fragment, which loads
// every zone from the path the fragment names.
func TestRealCheckers(t *testing.T) {
	if _, err := exec.LookPath("named-checkzone"); err != nil {
		testenv.Need(t, "named-checkzone (Debian package bind9-utils)")
	}
	if _, err := exec.LookPath("named-checkconf"); err != nil {
		testenv.Need(t, "named-checkconf (Debian package bind9-utils)")
	}
	names := make([]string, 0)
	cases := goldenCases()
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		st := cases[name]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			zdir := filepath.Join(dir, "zones")
			if err := os.Mkdir(zdir, 0o755); err != nil {
				t.Fatal(err)
			}
			files, _, errs := RenderAll(st, nil, day, zdir)
			if len(errs) != 0 {
				t.Fatalf("errs: %v", errs)
			}
			zones := 0
			for k, body := range files {
				if err := os.WriteFile(filepath.Join(zdir, k), body, 0o644); err != nil {
					t.Fatal(err)
				}
				if k == NamedConfFile {
					continue
				}
				zones++
				domain := strings.TrimSuffix(k, ".zone")
				cmd := checkerCmd(t, "named-checkzone", "-k", "fail", "-m", "fail", "-M", "fail",
					"-i", "full", domain, filepath.Join(zdir, k))
				out, err := cmd.CombinedOutput()
				if err != nil || !strings.Contains(string(out), "OK") {
					t.Errorf("named-checkzone %s: %v\n%s\n%s", domain, err, out, body)
				} else {
					t.Logf("named-checkzone %s: %s", domain, strings.TrimSpace(string(out)))
				}
			}
			if zones == 0 {
				t.Fatal("no zone rendered")
			}
			conf := filepath.Join(dir, "named.conf")
			main := "options {\n\tdirectory \"" + dir + "\";\n\tlisten-on { 127.0.0.1; };\n};\n" +
				"include \"" + filepath.Join(zdir, NamedConfFile) + "\";\n"
			if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
			// -z loads every master zone of the configuration, so this also
			// proves the fragment names the files where they are.
			cmd := checkerCmd(t, "named-checkconf", "-z", conf)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("named-checkconf -z: %v\n%s\n%s", err, out, files[NamedConfFile])
			} else if n := strings.Count(string(out), ": loaded serial "); n != zones {
				t.Errorf("named-checkconf -z loaded %d zones, want %d:\n%s", n, zones, out)
			}
		})
	}
}

// TestNamedServes starts named on the rendered zones (127.0.0.1, a free
// high port, config in a temp dir) and queries it over UDP with a DNS
// message built here: the A record and the SOA serial, then again after a
// change of the address, reloaded with SIGHUP.
func TestNamedServes(t *testing.T) {
	bin, err := exec.LookPath("named")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/named"); err != nil {
			testenv.Need(t, "named (Debian package bind9)")
		}
	}
	dir := t.TempDir()
	zdir := filepath.Join(dir, "zones")
	if err := os.Mkdir(zdir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(files map[string][]byte) {
		t.Helper()
		for k, body := range files {
			if err := os.WriteFile(filepath.Join(zdir, k), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := goldenCases()["ipv4_only"]
	files, next, errs := RenderAll(st, nil, day, zdir)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	write(files)

	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "named.conf")
	main := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
};
controls { };
include "%[3]s";
`, dir, port, filepath.Join(zdir, NamedConfFile))
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := checkerCmd(t, "named-checkconf", "-z", conf).CombinedOutput(); err != nil {
		t.Fatalf("named-checkconf: %v\n%s", err, out)
	}

	var log bytes.Buffer
	cmd := exec.Command(bin, "-g", "-c", conf, "-p", strconv.Itoa(port), "-n", "1")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("named output:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	// Poll until named answers with the wanted serial (readiness and reload).
	waitSerial := func(want uint32) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		var last string
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				t.Fatal("named exited")
			default:
			}
			rr, err := dnsQuery(addr, "example.com", 6)
			if err == nil && len(rr) == 1 && rr[0].serial == want {
				return
			}
			last = fmt.Sprintf("%v %+v", err, rr)
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("SOA serial %d not served: %s", want, last)
	}
	wantA := func(name, ip string) {
		t.Helper()
		rr, err := dnsQuery(addr, name, 1)
		if err != nil || len(rr) != 1 || rr[0].a != ip {
			t.Errorf("%s A: want %s, got %+v, %v", name, ip, rr, err)
		}
	}
	waitSerial(next["example.com"].Serial)
	wantA("example.com", "192.0.2.10")
	wantA("www.example.com", "192.0.2.10")

	// A change: a new address gives a new serial; SIGHUP reloads.
	st.Server.SharedIPv4 = []string{"192.0.2.99"}
	files2, next2, errs := RenderAll(st, next, day.Add(24*time.Hour), zdir)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if next2["example.com"].Serial <= next["example.com"].Serial {
		t.Fatalf("serial did not increase: %d → %d", next["example.com"].Serial, next2["example.com"].Serial)
	}
	write(files2)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitSerial(next2["example.com"].Serial)
	wantA("example.com", "192.0.2.99")
	t.Logf("serial %d → %d served, A 192.0.2.10 → 192.0.2.99", next["example.com"].Serial, next2["example.com"].Serial)
}

// rr is the part of an answer record the test looks at.
type rr struct {
	typ    uint16
	a      string // type A
	serial uint32 // type SOA
}

// dnsQuery sends one non-recursive query over UDP and returns the answer
// section. A minimal DNS client, enough for A and SOA.
func dnsQuery(addr, name string, qtype uint16) ([]rr, error) {
	var id [2]byte
	crand.Read(id[:])
	msg := []byte{id[0], id[1], 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		msg = append(msg, byte(len(label)))
		msg = append(msg, label...)
	}
	msg = append(msg, 0, byte(qtype>>8), byte(qtype), 0, 1)
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return nil, err
	}
	p := buf[:n]
	if n < 12 || p[0] != id[0] || p[1] != id[1] || p[2]&0x80 == 0 {
		return nil, fmt.Errorf("bad response header % x", p[:min(n, 12)])
	}
	if rcode := p[3] & 0x0f; rcode != 0 {
		return nil, fmt.Errorf("rcode %d", rcode)
	}
	qd, an := int(p[4])<<8|int(p[5]), int(p[6])<<8|int(p[7])
	off := 12
	skipName := func() error {
		for {
			if off >= len(p) {
				return fmt.Errorf("truncated name")
			}
			l := int(p[off])
			switch {
			case l == 0:
				off++
				return nil
			case l&0xc0 == 0xc0:
				off += 2
				return nil
			default:
				off += 1 + l
			}
		}
	}
	for i := 0; i < qd; i++ {
		if err := skipName(); err != nil {
			return nil, err
		}
		off += 4
	}
	var out []rr
	for i := 0; i < an; i++ {
		if err := skipName(); err != nil {
			return nil, err
		}
		if off+10 > len(p) {
			return nil, fmt.Errorf("truncated record")
		}
		typ := uint16(p[off])<<8 | uint16(p[off+1])
		rdlen := int(p[off+8])<<8 | int(p[off+9])
		off += 10
		if off+rdlen > len(p) {
			return nil, fmt.Errorf("truncated rdata")
		}
		r := rr{typ: typ}
		switch typ {
		case 1:
			if rdlen == 4 {
				r.a = netip.AddrFrom4([4]byte(p[off : off+4])).String()
			}
		case 6:
			end := off + rdlen
			if err := skipName(); err != nil { // MNAME
				return nil, err
			}
			if err := skipName(); err != nil { // RNAME
				return nil, err
			}
			if off+4 > end {
				return nil, fmt.Errorf("short SOA")
			}
			r.serial = uint32(p[off])<<24 | uint32(p[off+1])<<16 | uint32(p[off+2])<<8 | uint32(p[off+3])
			off = end - rdlen // the off += rdlen below lands on end
		}
		off += rdlen
		out = append(out, r)
	}
	return out, nil
}
