package stats

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kontor/internal/panel"
	"kontor/internal/store"
)

func mkfile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

// duBytes asks GNU du for the bytes the tree occupies (blocks, hard links
// once, no symlinks followed, one file system).
func duBytes(t *testing.T, dir string) int64 {
	t.Helper()
	out, err := exec.Command("du", "-s", "-x", "-B1", dir).Output()
	if err != nil {
		t.Skipf("du: %v", err)
	}
	n, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDirUsage(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "home", "web1")
	mkfile(t, filepath.Join(home, "html", "index.html"), 100000)
	mkfile(t, filepath.Join(home, "html", "a", "b", "c.txt"), 5000)
	// A hard link counts once.
	if err := os.Link(filepath.Join(home, "html", "index.html"), filepath.Join(home, "copy.html")); err != nil {
		t.Fatal(err)
	}
	// A sparse file counts the blocks it uses, not its length.
	sparse := filepath.Join(home, "sparse.img")
	if err := os.WriteFile(sparse, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 1<<30); err != nil {
		t.Fatal(err)
	}
	// Links out of the home are not followed.
	if err := os.Symlink("/usr", filepath.Join(home, "usr")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(home, "html", "root")); err != nil {
		t.Fatal(err)
	}
	got, err := DirUsage(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := duBytes(t, home); got != want {
		t.Errorf("DirUsage = %d, du says %d", got, want)
	}
	if got < 105000 || got > 1<<20 {
		t.Errorf("DirUsage = %d: not the files' blocks", got)
	}
	// Shared seen: the hard link in another tree of the same user counts
	// once across both.
	mail := filepath.Join(filepath.Dir(filepath.Dir(home)), "mail", "web1")
	mkfile(t, filepath.Join(mail, "x"), 1)
	if err := os.Link(filepath.Join(home, "html", "a", "b", "c.txt"), filepath.Join(mail, "c.txt")); err != nil {
		t.Fatal(err)
	}
	seen := map[fileID]bool{}
	h, _ := DirUsage(ctx, home, seen)
	m, _ := DirUsage(ctx, mail, seen)
	alone, _ := DirUsage(ctx, mail, nil)
	if h != got || m >= alone {
		t.Errorf("home %d (want %d), mail %d (alone %d): the shared link counted twice", h, got, m, alone)
	}
	// A home that is itself a link is not followed; a missing one is 0.
	link := filepath.Join(t.TempDir(), "web2")
	if err := os.Symlink("/usr", link); err != nil {
		t.Fatal(err)
	}
	if n, err := DirUsage(ctx, link, nil); err != nil || n > 4096 {
		t.Errorf("linked home: %d %v", n, err)
	}
	if n, err := DirUsage(ctx, filepath.Join(home, "nothing"), nil); err != nil || n != 0 {
		t.Errorf("missing: %d %v", n, err)
	}
	// A cancelled walk stops.
	for i := 0; i < 1100; i++ {
		mkfile(t, filepath.Join(home, "many", strconv.Itoa(i)), 0)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := DirUsage(cctx, home, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: %v", err)
	}
}

func TestParseRepquota(t *testing.T) {
	// As repquota -a -u -O csv prints it, for two file systems.
	out := `User,BlockStatus,FileStatus,BlockUsed,BlockSoftLimit,BlockHardLimit,BlockGrace,FileUsed,FileSoftLimit,FileHardLimit,FileGrace
root,ok,ok,13,0,0,,2,0,0,
web1,ok,ok,300,5000,6000,,1,0,0,
User,BlockStatus,FileStatus,BlockUsed,BlockSoftLimit,BlockHardLimit,BlockGrace,FileUsed,FileSoftLimit,FileHardLimit,FileGrace
web1,ok,ok,24,0,0,,3,0,0,
web2,soft,ok,7000,5000,8000,6days,3,0,0,
`
	q, err := ParseRepquota([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if q["web1"] != 324*1024 || q["web2"] != 7000*1024 || q["root"] != 13*1024 || len(q) != 3 {
		t.Errorf("quotas %v", q)
	}
	if q, err := ParseRepquota(nil); err != nil || len(q) != 0 {
		t.Errorf("empty report: %v %v", q, err)
	}
	for _, bad := range []string{
		"web1,ok,ok,300\n", // no header
		"User,Foo\nweb1,1\n",
		"User,BlockStatus,FileStatus,BlockUsed\nweb1,ok,ok,lots\n",
		"User,BlockStatus,FileStatus,BlockUsed\nweb1,ok\n",
		"User,BlockStatus,FileStatus,BlockUsed\nweb1,ok,ok,-5\n",
	} {
		if _, err := ParseRepquota([]byte(bad)); err == nil {
			t.Errorf("ParseRepquota(%q) passed", bad)
		}
	}
}

func TestCheckPattern(t *testing.T) {
	for _, ok := range []string{DefaultHome, DefaultMail, "/srv/www/{login}", "{root}/var/vmail/{login}/Maildir"} {
		if err := CheckPattern(ok); err != nil {
			t.Errorf("CheckPattern(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"{root}/home", "home/{login}", "{root}/../{login}", "/home/{login}\n", ""} {
		if err := CheckPattern(bad); err == nil {
			t.Errorf("CheckPattern(%q) passed", bad)
		}
	}
	// A login that is no login never becomes a path.
	if _, err := (Layout{Root: "/"}).path(DefaultHome, "../etc"); err == nil {
		t.Error("../etc became a path")
	}
}

func TestMeasure(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st) // web1, web2, web3 of one reseller
		root := t.TempDir()
		mkfile(t, filepath.Join(root, "home", "web1", "html", "big"), 3<<20)
		mkfile(t, filepath.Join(root, "var", "mail", "web1", "new", "1"), 1<<20)
		mkfile(t, filepath.Join(root, "home", "web2", "x"), 10)
		if err := os.Symlink("/usr", filepath.Join(root, "home", "web2", "usr")); err != nil {
			t.Fatal(err)
		}
		db := dbSizes{"web2": 5 << 20}
		m := &Measurer{Store: st, Layout: Layout{Root: root}, DB: db, Quota: QuotaAuto,
			ReadQuotas: func(context.Context) (Quotas, bool, error) { return nil, false, errors.New("no repquota") }}
		rep, err := m.Measure(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rep.QuotaNote, "homes walked") {
			t.Errorf("note %q", rep.QuotaNote)
		}
		mb := map[string]int64{}
		for _, r := range rep.Rows {
			if r.Err != nil {
				t.Errorf("%s: %v", r.Login, r.Err)
			}
			mb[r.Login] = r.MB
		}
		// web1: 3 MB home (and its directories' blocks) + 1 MB mail;
		// web2: a few KB and 5 MB of databases; web3: nothing at all.
		if mb["web1"] != 5 || mb["web2"] != 6 || mb["web3"] != 0 || mb["res1web0"] != 0 {
			t.Errorf("storage %v", mb)
		}
		used := func() int64 {
			rows, err := st.Usage(ctx, admin, w.reseller.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Resource == panel.ResStorage {
					return r.Used
				}
			}
			return -1
		}
		if u := used(); u != 11 {
			t.Errorf("reseller storage used %d, want 11", u)
		}
		// With quota reports the home's figure comes from them; mail and
		// databases are still added: 10 MB + 1 MB of mail and the blocks of
		// its folders, rounded up to 12.
		m.ReadQuotas = func(context.Context) (Quotas, bool, error) {
			return Quotas{"web1": 10 << 20}, true, nil
		}
		rep, err = m.Measure(ctx, []string{"web1"})
		if err != nil || len(rep.Rows) != 1 || !rep.Rows[0].FromQuota || rep.Rows[0].MB != 12 {
			t.Fatalf("quota: %+v %v", rep, err)
		}
		if u := used(); u != 18 {
			t.Errorf("reseller storage used %d, want 18", u)
		}
		// --quota on fails without reports; off never asks.
		m.Quota = QuotaOn
		m.ReadQuotas = func(context.Context) (Quotas, bool, error) { return nil, false, nil }
		if _, err := m.Measure(ctx, nil); err == nil {
			t.Error("quota on without reports passed")
		}
		m.Quota = QuotaOff
		m.ReadQuotas = func(context.Context) (Quotas, bool, error) { t.Error("asked for quotas"); return nil, false, nil }
		if _, err := m.Measure(ctx, []string{"web1"}); err != nil {
			t.Error(err)
		}
		// An unknown login names the field.
		_, err = m.Measure(ctx, []string{"web9"})
		var pe *panel.Error
		if !errors.As(err, &pe) || pe.Kind != panel.KindNotFound || pe.Field != "user" {
			t.Errorf("unknown login: %v", err)
		}
		// A database size that fails keeps the old figure and is reported.
		m.DB = dbSizes{"web2": -1}
		rep, err = m.Measure(ctx, []string{"web1", "web2"})
		if err != nil || rep.Rows[0].Err != nil || rep.Rows[1].Err == nil {
			t.Errorf("db failure: %+v %v", rep, err)
		}
	})
}

// dbSizes is a DBSizer with fixed sizes; -1 fails.
type dbSizes map[string]int64

func (d dbSizes) DatabaseBytes(_ context.Context, login string) (int64, error) {
	if d[login] < 0 {
		return 0, errors.New("database server away")
	}
	return d[login], nil
}
