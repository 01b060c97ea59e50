package stats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"kontor/internal/panel"
	"kontor/internal/store"
	"kontor/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var admin = panel.Actor{Role: panel.RoleAdmin, Login: "test"}

// engines runs fn on SQLite and on PostgreSQL.
func engines(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openStore(t, filepath.Join(t.TempDir(), "k.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, openStore(t, testenv.PostgresDSN(t))) })
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// world is a reseller with users and domains, log files, and the totals
// the lines written to them must add up to.
type world struct {
	t        *testing.T
	st       *store.Store
	dir      string
	reseller panel.Reseller
	users    map[string]int64 // login → id
	domains  map[string]int64 // domain → user id
	rnd      *rand.Rand

	want       map[cellKeyT]Sum // user, day, source
	unassigned map[string]Sum   // source/name
	malformed  int64            // lines
	// the rest of a half-written line
	rest      string
	restVhost string
	restDay   Day
}

type cellKeyT struct {
	user int64
	day  Day
	src  Source
}

func newWorld(t *testing.T, st *store.Store) *world {
	ctx := context.Background()
	w := &world{t: t, st: st, dir: t.TempDir(), users: map[string]int64{}, domains: map[string]int64{},
		rnd: rand.New(rand.NewPCG(7, 7)), want: map[cellKeyT]Sum{}, unassigned: map[string]Sum{}}
	var err error
	w.reseller, err = st.CreateReseller(ctx, admin, store.NewReseller{PasswordHash: "-", DefaultHash: "-", Name: "R",
		Limits: panel.ResellerLimits{
			panel.ResUsers:   {Value: 10, Mode: panel.ModeHard},
			panel.ResTraffic: {Value: panel.Unlimited, Mode: panel.ModeMaximum, AllowUnlimited: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	doms := [][]string{{"alpha.example"}, {"beta.example", "beta-shop.example"}, {"shop.beta.example"}}
	for _, d := range doms {
		nu := store.NewUser{ResellerID: w.reseller.ID, PasswordHash: "-", Limits: panel.Limits{panel.ResTraffic: 1}}
		for _, n := range d {
			nu.Domains = append(nu.Domains, store.NewDomain{Name: n})
		}
		res, err := st.CreateUser(ctx, admin, nu)
		if err != nil {
			t.Fatal(err)
		}
		w.users[res.User.Login] = res.User.ID
		for _, n := range d {
			w.domains[n] = res.User.ID
		}
	}
	return w
}

func (w *world) path(name string) string { return filepath.Join(w.dir, name) }

var months = []string{"", "Jan", "Feb", "Mar"}

// web writes count lines for vhost (a domain or a name under it) on day
// (yyyymmdd) to the log, and adds them to the expected totals.
func (w *world) web(log, vhost string, day Day, count int) {
	w.t.Helper()
	var b strings.Builder
	for i := 0; i < count; i++ {
		bytes := int64(w.rnd.IntN(900000))
		port := []int{0, 80, 443}[w.rnd.IntN(3)]
		b.WriteString(vline(vhost, port, int(day)%100, w.rnd.IntN(24), months[int(day)/100%100], int(day)/10000, bytes, w.rnd))
		w.count(vhost, day, SourceWeb, bytes)
	}
	appendFile(w.t, log, b.String())
}

// count adds traffic of a name to the expected totals.
func (w *world) count(name string, day Day, src Source, bytes int64) {
	user := int64(0)
	if src == SourceWeb {
		// The owner of the longest matching domain.
		for h := strings.TrimPrefix(strings.ToLower(name), "www."); h != ""; {
			if id, ok := w.domains[h]; ok {
				user = id
				break
			}
			_, rest, ok := strings.Cut(h, ".")
			if !ok {
				break
			}
			h = rest
		}
		if id, ok := w.domains[strings.ToLower(name)]; ok {
			user = id
		}
	} else {
		login := name
		if i := strings.LastIndex(name, "f"); i > 0 {
			if _, ok := w.users[name[:i]]; ok {
				login = name[:i]
			}
		}
		user = w.users[login]
	}
	if user == 0 {
		k := src.String() + "/" + strings.ToLower(name)
		s := w.unassigned[k]
		s.add(Sum{Bytes: bytes, Hits: 1})
		w.unassigned[k] = s
		return
	}
	k := cellKeyT{user, day, src}
	s := w.want[k]
	s.add(Sum{Bytes: bytes, Hits: 1})
	w.want[k] = s
}

// ftp writes count xferlog lines of login on day.
func (w *world) ftp(log, login string, day Day, count int) {
	w.t.Helper()
	var b strings.Builder
	for i := 0; i < count; i++ {
		bytes := int64(w.rnd.IntN(3000000))
		dir := []string{"o", "i"}[w.rnd.IntN(2)]
		t := time.Date(int(day)/10000, time.Month(int(day)/100%100), int(day)%100, w.rnd.IntN(24), 3, 4, 0, time.UTC)
		fmt.Fprintf(&b, "%s 2 192.0.2.%d %d /html/file %d.bin b _ %s r %s ftp 0 * c\n",
			t.Format("Mon Jan _2 15:04:05 2006"), w.rnd.IntN(250), bytes, i, dir, login)
		w.count(login, day, SourceFTP, bytes)
	}
	appendFile(w.t, log, b.String())
}

func (w *world) garbage(log string, lines ...string) {
	w.t.Helper()
	appendFile(w.t, log, strings.Join(lines, "\n")+"\n")
	w.malformed += int64(len(lines))
}

// halfLine writes the first part of a line for vhost; finish writes the
// rest to log (the same file, perhaps under its rotated name). The line
// counts once it is complete.
func (w *world) halfLine(log, vhost string, day Day) {
	line := vline(vhost, 443, int(day)%100, 12, months[int(day)/100%100], int(day)/10000, 4242, w.rnd)
	appendFile(w.t, log, line[:len(line)/2])
	w.rest, w.restVhost, w.restDay = line[len(line)/2:], vhost, day
}

func (w *world) finish(log string) {
	appendFile(w.t, log, w.rest)
	w.count(w.restVhost, w.restDay, SourceWeb, 4242)
}

// collect runs the collector on the access log and the xferlog.
func (w *world) collect(c *Collector) *Report {
	w.t.Helper()
	rep, err := c.Collect(context.Background(), []LogFile{
		{Path: w.path("access.log"), Format: VCombined{}},
		{Path: w.path("xferlog"), Format: Xferlog{}},
	})
	if err != nil {
		w.t.Fatalf("collect: %v", err)
	}
	return rep
}

// check compares everything stored with the expected totals, through the
// store's read side, as the pages will see it.
func (w *world) check(stage string) {
	w.t.Helper()
	ctx := context.Background()
	want := w.want
	got := map[cellKeyT]Sum{}
	monthTotals := map[int64]map[int]store.Traffic{}
	for _, id := range w.users {
		ms, err := w.st.UserTraffic(ctx, admin, id, 202602, 202603)
		if err != nil {
			w.t.Fatal(err)
		}
		monthTotals[id] = map[int]store.Traffic{}
		for _, m := range ms {
			monthTotals[id][m.Month] = m.Traffic
			days, err := w.st.TrafficDays(ctx, admin, id, m.Month)
			if err != nil {
				w.t.Fatal(err)
			}
			var sum store.Traffic
			for _, d := range days {
				if d.WebHits > 0 || d.WebBytes > 0 {
					got[cellKeyT{id, Day(d.Day), SourceWeb}] = Sum{Bytes: d.WebBytes, Hits: d.WebHits}
				}
				if d.FTPHits > 0 || d.FTPBytes > 0 {
					got[cellKeyT{id, Day(d.Day), SourceFTP}] = Sum{Bytes: d.FTPBytes, Hits: d.FTPHits}
				}
				sum.WebBytes += d.WebBytes
				sum.WebHits += d.WebHits
				sum.FTPBytes += d.FTPBytes
				sum.FTPHits += d.FTPHits
			}
			if sum != m.Traffic {
				w.t.Errorf("%s: user %d month %d: days add up to %+v, the month says %+v", stage, id, m.Month, sum, m.Traffic)
			}
		}
	}
	if d := diffCells(want, got); d != "" {
		w.t.Errorf("%s: stored traffic differs from the lines written:\n%s", stage, d)
	}
	// The reseller's summary and day chart add up to the same.
	for _, month := range []int{202602, 202603} {
		var users store.Traffic
		for _, m := range monthTotals {
			t := m[month]
			users.WebBytes += t.WebBytes
			users.WebHits += t.WebHits
			users.FTPBytes += t.FTPBytes
			users.FTPHits += t.FTPHits
		}
		sum, err := w.st.TrafficSummary(ctx, admin, w.reseller.ID, month, month)
		if err != nil {
			w.t.Fatal(err)
		}
		if sum[0].Traffic != users {
			w.t.Errorf("%s: reseller summary %d = %+v, users add up to %+v", stage, month, sum[0].Traffic, users)
		}
	}
	// Unassigned per name.
	un, err := w.st.UnassignedTraffic(ctx, admin, 202603, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	un2, err := w.st.UnassignedTraffic(ctx, admin, 202602, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	gotU := map[string]Sum{}
	for _, u := range append(un, un2...) {
		s := gotU[u.Source+"/"+u.Name]
		s.add(Sum{Bytes: u.Bytes, Hits: u.Hits})
		gotU[u.Source+"/"+u.Name] = s
	}
	if fmt.Sprint(sortedSums(gotU)) != fmt.Sprint(sortedSums(w.unassigned)) {
		w.t.Errorf("%s: unassigned\n got %v\nwant %v", stage, sortedSums(gotU), sortedSums(w.unassigned))
	}
	// Malformed lines.
	cs, err := w.st.Collector(ctx, admin, store.TrafficMonthOf(time.Now()))
	if err != nil {
		w.t.Fatal(err)
	}
	var mal int64
	for _, n := range cs.Malformed {
		mal += n
	}
	if mal != w.malformed {
		w.t.Errorf("%s: %d malformed lines stored, %d written", stage, mal, w.malformed)
	}
}

func diffCells(want, got map[cellKeyT]Sum) string {
	var out []string
	for k, v := range want {
		if got[k] != v {
			out = append(out, fmt.Sprintf("user %d %d %s: got %+v, want %+v", k.user, k.day, k.src, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("user %d %d %s: got %+v, want nothing", k.user, k.day, k.src, v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func sortedSums(m map[string]Sum) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d/%d", k, v.Bytes, v.Hits))
	}
	sort.Strings(out)
	return out
}

// failingStore fails CommitTraffic while fail is set: a run that dies
// after reading everything, before it stored anything.
type failingStore struct {
	*store.Store
	fail bool
}

func (f *failingStore) CommitTraffic(ctx context.Context, b store.TrafficBatch) (int, error) {
	if f.fail {
		return 0, errors.New("crash")
	}
	return f.Store.CommitTraffic(ctx, b)
}

// The correctness test of STA-3: logs over several vhosts and days,
// rotated by renaming and by copytruncate between runs, with half-written
// lines, malformed lines, unknown vhosts and an FTP xferlog; after every
// run the stored sums equal the sums of the lines written, exactly.
func TestCollectorKnownTotals(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		fs := &failingStore{Store: st}
		// Small buffers and files split between workers, so that lines
		// cross every kind of boundary.
		c := &Collector{Store: fs, Workers: 3, BufferSize: 4096, minSplit: 1,
			Now: func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.Local) }}
		access, xfer := w.path("access.log"), w.path("xferlog")

		// Run 1: a fresh log; a half-written last line is left for later.
		w.web(access, "alpha.example", 20260227, 40)
		w.web(access, "www.beta.example", 20260228, 30)
		w.web(access, "shop.beta.example", 20260301, 25) // longest match: the third user
		w.web(access, "img.beta.example", 20260301, 5)   // subdomain of beta.example
		w.web(access, "unknown.example", 20260301, 7)
		w.garbage(access, "garbage", `alpha.example:443 - - [99/Mar/2026:10:00:00 +0100] "GET /" 200 1`)
		w.ftp(xfer, "web1", 20260301, 10)
		w.ftp(xfer, "web2f1", 20260301, 4) // extra FTP user of web2
		w.ftp(xfer, "anonymous", 20260301, 2)
		w.halfLine(access, "alpha.example", 20260301)
		rep := w.collect(c)
		if rep.Files[0].Bytes == 0 || rep.Malformed != 2 || rep.UnassignedHits != 9 {
			t.Fatalf("run 1: %+v", rep)
		}
		w.check("run 1") // without the half-written line

		// Run 2: the line is completed, more lines come.
		w.finish(access)
		w.web(access, "beta-shop.example", 20260302, 12)
		w.garbage(access, strings.Repeat("x", 9000)) // longer than the buffer
		rep = w.collect(c)
		if rep.Malformed != 1 {
			t.Errorf("run 2: %d malformed", rep.Malformed)
		}
		w.check("run 2")

		// Run 3: nothing new; nothing changes.
		rep = w.collect(c)
		if rep.Lines != 0 || rep.Bytes != 0 {
			t.Errorf("run 3 read %d lines, %d bytes", rep.Lines, rep.Bytes)
		}
		w.check("run 3")

		// Run 4: rename rotation. Lines written before the rotation are
		// still unread in access.log.1; the server writes a few more to
		// it before it reopens its log; the new access.log has its own.
		// The xferlog rotates too.
		w.web(access, "alpha.example", 20260303, 9)
		w.halfLine(access, "beta.example", 20260303)
		if err := os.Rename(access, access+".1"); err != nil {
			t.Fatal(err)
		}
		w.finish(access + ".1")
		w.web(access+".1", "beta.example", 20260303, 3)
		w.web(access, "alpha.example", 20260304, 11)
		w.ftp(xfer, "web3", 20260303, 3)
		if err := os.Rename(xfer, xfer+".1"); err != nil {
			t.Fatal(err)
		}
		w.ftp(xfer, "web1", 20260304, 6)
		rep = w.collect(c)
		w.check("run 4 (rename)")
		if !hasNote(rep, "rotated: finished") {
			t.Errorf("run 4: no rotation note: %+v", rep.Files)
		}

		// Run 5: late lines still reach the renamed file; they count.
		w.web(access+".1", "beta.example", 20260304, 2)
		w.web(access, "ALPHA.example", 20260304, 4)
		w.collect(c)
		w.check("run 5 (late lines)")

		// Run 6: a run that dies before it stores anything stores
		// nothing; the next one reads the same lines, once.
		w.web(access, "alpha.example", 20260305, 8)
		w.ftp(xfer, "web2", 20260305, 2)
		fs.fail = true
		if _, err := c.Collect(context.Background(), []LogFile{{Path: access, Format: VCombined{}}, {Path: xfer, Format: Xferlog{}}}); err == nil {
			t.Fatal("run 6: the crash was not reported")
		}
		fs.fail = false
		w.collect(c)
		w.check("run 6 (after a crash)")

		// Run 7: copytruncate. logrotate shifts .1 to .2, copies the log
		// to .1 (with lines not yet read) and truncates the log, which
		// then gets new lines, more bytes than were read before.
		w.web(access, "alpha.example", 20260306, 6)
		w.web(access, "nobody.example", 20260306, 2)
		if err := os.Rename(access+".1", access+".2"); err != nil {
			t.Fatal(err)
		}
		copyFile(t, access, access+".1")
		if err := os.Truncate(access, 0); err != nil {
			t.Fatal(err)
		}
		w.web(access, "beta.example", 20260306, 60)
		rep = w.collect(c)
		if !hasNote(rep, "copytruncate") {
			t.Errorf("run 7: no copytruncate note: %+v", rep.Files)
		}
		w.check("run 7 (copytruncate)")

		// Run 8: copytruncate again, this time the log is shorter than
		// the offset when the run comes.
		w.web(access, "alpha.example", 20260307, 5)
		if err := os.Rename(access+".1", access+".2"); err != nil {
			t.Fatal(err)
		}
		copyFile(t, access, access+".1")
		if err := os.Truncate(access, 0); err != nil {
			t.Fatal(err)
		}
		w.web(access, "alpha.example", 20260307, 1)
		w.collect(c)
		w.check("run 8 (copytruncate, shorter)")

		// The traffic of March is every user's traffic use (LIM-3), and
		// the reseller's overview adds it up.
		var total int64
		for _, id := range w.users {
			var bytes int64
			for k, s := range w.want {
				if k.user == id && k.day/100 == 202603 {
					bytes += s.Bytes
				}
			}
			total += store.BytesToMB(bytes)
		}
		rows, err := st.Usage(context.Background(), admin, w.reseller.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Resource == panel.ResTraffic && r.Used != total {
				t.Errorf("reseller traffic used %d MB, users' March traffic adds up to %d MB", r.Used, total)
			}
		}
	})
}

func hasNote(rep *Report, s string) bool {
	for _, f := range rep.Files {
		for _, n := range f.Notes {
			if strings.Contains(n, s) {
				return true
			}
		}
	}
	return false
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
