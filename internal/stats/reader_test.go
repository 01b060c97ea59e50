package stats

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func region(t *testing.T, path string, start int64, final bool, opt readOptions) (int64, *Tally) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pos, tally, err := readRegion(context.Background(), f, start, fi.Size(), final, VCombined{}, benchTargets(50), opt)
	if err != nil {
		t.Fatal(err)
	}
	return pos, tally
}

// Whatever the buffer size and the number of workers, the same lines give
// the same sums, and the offset ends after the last complete line.
func TestReadRegionSplitsAnywhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	log := string(benchLog(3000, 50))
	partial := `site1.example:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HT`
	writeFile(t, path, log+partial)
	_, want := region(t, path, 0, false, readOptions{workers: 1})
	wantSums := sums(benchTargets(50), want)
	for _, opt := range []readOptions{
		{workers: 1, bufSize: 300}, {workers: 1, bufSize: 4096}, {workers: 2, bufSize: 512, minSplit: 1},
		{workers: 3, bufSize: 1000, minSplit: 1}, {workers: 8, bufSize: 64 << 10, minSplit: 1},
	} {
		pos, got := region(t, path, 0, false, opt)
		if pos != int64(len(log)) {
			t.Errorf("%+v: offset %d, want %d (before the partial line)", opt, pos, len(log))
		}
		if got.Lines != 3000 || got.Malformed != 0 || sums(benchTargets(50), got) != wantSums {
			t.Errorf("%+v: %d lines, %d malformed, sums differ: %v", opt, got.Lines, got.Malformed, sums(benchTargets(50), got) != wantSums)
		}
	}
	// A file that will not grow any more (a copytruncate copy): the
	// unterminated line is read too; cut off as it is, it is malformed.
	pos, got := region(t, path, 0, true, readOptions{workers: 1, bufSize: 300})
	if pos != int64(len(log)+len(partial)) || got.Lines != 3001 || got.Malformed != 1 {
		t.Errorf("final: offset %d lines %d malformed %d", pos, got.Lines, got.Malformed)
	}
}

// A line longer than the buffer is counted once as malformed and
// skipped; the lines around it count.
func TestReadRegionLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	rnd := rand.New(rand.NewPCG(1, 1))
	good := vline("site3.example", 443, 14, 10, "Mar", 2026, 100, rnd)
	long := "site3.example:443 " + strings.Repeat("x", 5000) + "\n"
	writeFile(t, path, good+long+good+long+good)
	pos, got := region(t, path, 0, false, readOptions{workers: 1, bufSize: 1024})
	if pos != int64(3*len(good)+2*len(long)) || got.Lines != 5 || got.Malformed != 2 {
		t.Errorf("offset %d lines %d malformed %d", pos, got.Lines, got.Malformed)
	}
	if s := sums(benchTargets(50), got); s != "4 20260314 web 300 3\n" {
		t.Errorf("sums %q", s)
	}
}

func TestSplitPoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeFile(t, path, "aaaa\nbbbb\ncccc\ndddd\n")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for n, want := range map[int]string{1: "[0 20]", 2: "[0 15 20]", 4: "[0 10 20]", 20: "[0 5 10 15 20]"} {
		p, err := splitPoints(f, 0, 20, n)
		if err != nil || fmt.Sprint(p) != want {
			t.Errorf("splitPoints(%d) = %v %v, want %s", n, p, err, want)
		}
	}
}
