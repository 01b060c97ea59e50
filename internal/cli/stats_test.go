package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// statsHarness: a store with res1 and web1 (shop.example) and web2
// (blog.example).
func statsHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	h.must(h.dbRun("reseller", "create", "--limit", "users=5", "--limit", "traffic=1000", "--limit", "storage=1000"))
	h.must(h.dbRun("user", "create", "--reseller", "res1", "--domain", "shop.example", "--limit", "traffic=10"))
	h.must(h.dbRun("user", "create", "--reseller", "res1", "--domain", "blog.example"))
	return h
}

func writeLog(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

// thisMonth is the rest of a log date on a day of the current month.
func thisMonth() string {
	return time.Now().Format("/Jan/2006") + ":10:00:00 +0000"
}

// squeeze collapses the runs of spaces tabwriter makes, line by line.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestStatsCollect(t *testing.T) {
	h := statsHarness(t)
	dir := t.TempDir()
	access := filepath.Join(dir, "apache2", "other_vhosts_access.log")
	date := "[01" + thisMonth() + "]"
	writeLog(t, access,
		`www.shop.example:443 192.0.2.1 - - `+date+` "GET / HTTP/1.1" 200 1048576 "-" "curl/8"`+"\n",
		`shop.example:80 192.0.2.1 - - `+date+` "GET / HTTP/1.1" 200 1 "-" "curl/8"`+"\n",
		`blog.example:443 192.0.2.1 - - `+date+` "GET / HTTP/1.1" 200 500 "-" "curl/8"`+"\n",
		`stranger.example:443 192.0.2.1 - - `+date+` "GET / HTTP/1.1" 200 77 "-" "curl/8"`+"\n",
		"this is no log line\n",
		`blog.example:443 192.0.2.1 - - `+date+` "GET /half`)
	xfer := filepath.Join(dir, "xferlog")
	writeLog(t, xfer, time.Now().Format("Mon Jan _2 15:04:05 2006")+" 1 192.0.2.7 2048 /html/a.zip b _ i r web2f1 ftp 0 * c\n")
	r := h.must(h.dbRun("stats", "collect", "--log-dir", filepath.Dir(access), "--log", xfer, "--format", "xferlog"))
	for _, want := range []string{
		"read 2 logs: 6 lines",
		access + " vcombined 5 lines 1 malformed",
		xfer + " xferlog 1 lines 0 malformed",
		"web traffic: 1049077 bytes (2 MB), 3 hits",
		"ftp traffic: 2048 bytes (1 MB), 1 hits",
		"users with traffic: 2",
		"malformed lines skipped: 1",
		"unassigned: 1 hits of unknown vhosts or FTP logins; the most frequent:\nweb stranger.example 1 hits 77 bytes",
		"traffic use of this month updated for 2 users",
	} {
		if !strings.Contains(squeeze(r.out), want) {
			t.Errorf("collect output lacks %q:\n%s", want, r.out)
		}
	}
	// The overview shows the traffic: web1 2 MB (1 MiB + 1 byte), web2
	// 1 MB.
	st := h.store()
	res := resellerByLogin(t, st, "res1")
	rows, err := st.Usage(context.Background(), admin, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row.Resource == panel.ResTraffic && row.Used != 3 {
			t.Errorf("res1 traffic used %d, want 3", row.Used)
		}
	}
	// Again: nothing new but the finished half line.
	writeLog(t, access, ` HTTP/1.1" 200 9 "-" "curl/8"`+"\n")
	r = h.must(h.dbRun("stats", "collect", "--log", access, "--log", xfer, "--format", "xferlog", "--top", "0"))
	if !strings.Contains(r.out, "read 2 logs: 1 lines") || !strings.Contains(squeeze(r.out), "web traffic: 9 bytes (1 MB), 1 hits") {
		t.Errorf("second run:\n%s", r.out)
	}
	web2, err := st.UserByLogin(context.Background(), admin, "web2")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.UserTraffic(context.Background(), admin, web2.ID, store.TrafficMonthOf(time.Now()), store.TrafficMonthOf(time.Now()))
	if err != nil || ms[0].WebBytes != 509 || ms[0].WebHits != 2 || ms[0].FTPBytes != 2048 {
		t.Errorf("web2 traffic %+v %v", ms, err)
	}
}

func TestStatsCollectMistakes(t *testing.T) {
	h := statsHarness(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLog(t, log, "")
	link := filepath.Join(dir, "link_access.log")
	if err := os.Symlink(log, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		substr string
	}{
		{[]string{"--format", "xferlog"}, 2, "flag -format: must follow the --log it applies to"},
		{[]string{"--log-dir", dir, "--format", "xferlog"}, 2, "must follow the --log"},
		{[]string{"--log", log, "--format", "apache"}, 2, `unknown log format "apache" (known: vcombined, xferlog)`},
		{[]string{"--log", log, "--format", "xferlog", "--format", "vcombined"}, 2, "must follow the --log"},
		{[]string{"--log", filepath.Join(dir, "nope.log")}, 1, "no such file"},
		{[]string{"--log-dir", filepath.Join(dir, "nope")}, 1, "no such file"},
		{[]string{"--log", link}, 1, "is a symbolic link"},
		{[]string{"--top", "-1", "--log", log}, 2, "--top must be 0 or more"},
		{[]string{"extra", "--log", log}, 2, `unexpected argument "extra"`},
	} {
		r := h.dbRun(append([]string{"stats", "collect"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.errOut, tc.code, tc.substr)
		}
	}
	// Without flags: the logs under the configured root, and a clear
	// message when there are none.
	root := t.TempDir()
	h.env["KONTOR_ROOT"] = root
	r := h.dbRun("stats", "collect")
	if r.code != 2 || !strings.Contains(r.errOut, filepath.Join(root, "var/log/apache2")) || !strings.Contains(r.errOut, "give --log or --log-dir") {
		t.Errorf("no logs: exit %d, %q", r.code, r.errOut)
	}
	writeLog(t, filepath.Join(root, "var/log/apache2/access.log"), "")
	writeLog(t, filepath.Join(root, "var/log/xferlog"), "")
	r = h.must(h.dbRun("stats", "collect"))
	if !strings.Contains(r.out, "read 2 logs: 0 lines") {
		t.Errorf("default logs: %s", r.out)
	}
}

func TestStatsDu(t *testing.T) {
	h := statsHarness(t)
	root := t.TempDir()
	h.env["KONTOR_ROOT"] = root
	if err := os.MkdirAll(filepath.Join(root, "home", "web1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "home", "web1", "big"), make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr", filepath.Join(root, "home", "web1", "usr")); err != nil {
		t.Fatal(err)
	}
	r := h.must(h.dbRun("stats", "du", "--quota", "off"))
	if !strings.Contains(r.out, "quota reports off: homes walked") || !strings.Contains(r.out, "3 users measured") {
		t.Errorf("du output:\n%s", r.out)
	}
	var web1 string
	for _, l := range strings.Split(r.out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "web1 ") {
			web1 = strings.Join(strings.Fields(l), " ")
		}
	}
	if !strings.HasPrefix(web1, "web1 30") || !strings.HasSuffix(web1, " 0 0 4") {
		t.Errorf("web1 row %q, want about 3 MB of home, stored as 4 MB", web1)
	}
	st := h.store()
	rows, err := st.Usage(context.Background(), admin, resellerByLogin(t, st, "res1").ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row.Resource == panel.ResStorage && row.Used != 4 {
			t.Errorf("res1 storage used %d, want 4", row.Used)
		}
	}
	// One user; mistakes.
	r = h.must(h.dbRun("stats", "du", "web2", "--quota", "off", "--home", "{root}/srv/{login}"))
	if !strings.Contains(r.out, "1 user measured") {
		t.Errorf("du web2:\n%s", r.out)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		substr string
	}{
		{[]string{"--quota", "maybe"}, 2, "--quota must be auto, on or off"},
		{[]string{"--home", "{root}/home"}, 2, "--home: path pattern \"{root}/home\": must contain {login}"},
		{[]string{"--mail", "{root}/../{login}"}, 2, `must not contain ".."`},
		{[]string{"web9", "--quota", "off"}, 1, "user: Not found: user web9."},
	} {
		r := h.dbRun(append([]string{"stats", "du"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.errOut, tc.code, tc.substr)
		}
	}
}
