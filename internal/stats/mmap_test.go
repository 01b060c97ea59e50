package stats

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The mapped reader and the buffered one it falls back to count the same
// lines the same way: lines across window boundaries, lines longer than a
// window (malformed, skipped), malformed lines, a partial last line left
// for the next run or, when the file is final, parsed.
func TestParseMappedAgreesWithParseRange(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString(string(benchLog(2000, 50)))
	b.WriteString("site3.example:443 " + strings.Repeat("x", 20000) + "\n") // longer than any window below
	b.WriteString("not a log line\n")
	b.WriteString(vline("site4.example", 0, 15, 9, "Mar", 2026, 77, rnd))
	b.WriteString("site5.example:443 " + strings.Repeat("y", 9000) + "\n")
	b.WriteString(string(benchLog(500, 50)))
	b.WriteString(`site1.example:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HT`)
	log := b.String()
	path := filepath.Join(t.TempDir(), "access.log")
	writeFile(t, path, log)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tg := benchTargets(50)
	for _, size := range []int{300, 4096, 5000, 64 << 10} {
		for _, final := range []bool{false, true} {
			for _, start := range []int64{0, int64(strings.Index(log, "not a log line"))} {
				rt := NewTally()
				rp := VCombined{}.NewParser(NewResolver(tg), rt)
				rpos, err := parseRange(context.Background(), f, start, int64(len(log)), final, rp, rt, make([]byte, size))
				if err != nil {
					t.Fatal(err)
				}
				rp.Flush()
				mt := NewTally()
				mp := VCombined{}.NewParser(NewResolver(tg), mt)
				mpos, err := parseMapped(context.Background(), f, start, int64(len(log)), final, mp, mt, size)
				if err != nil {
					t.Fatal(err)
				}
				mp.Flush()
				if mpos != rpos || mt.Lines != rt.Lines || mt.Malformed != rt.Malformed || sums(tg, mt) != sums(tg, rt) || unassigned(mt) != unassigned(rt) {
					t.Errorf("size %d final %v start %d: mapped: offset %d, %d lines, %d malformed; read: offset %d, %d lines, %d malformed",
						size, final, start, mpos, mt.Lines, mt.Malformed, rpos, rt.Lines, rt.Malformed)
				}
				wantPos, wantLines := int64(strings.LastIndexByte(log, '\n')+1), int64(2000+4+500)
				if start > 0 {
					wantLines -= 2001
				}
				if final {
					wantPos, wantLines = int64(len(log)), wantLines+1
				}
				if mpos != wantPos || mt.Lines != wantLines {
					t.Errorf("size %d final %v start %d: offset %d, %d lines; want %d, %d", size, final, start, mpos, mt.Lines, wantPos, wantLines)
				}
			}
		}
	}
}

// truncating cuts the file under the mapping before the lines are parsed,
// as copytruncate may do while the collector runs.
type truncating struct {
	Parser
	path string
	t    *testing.T
}

func (p truncating) Parse(b []byte) {
	if err := os.Truncate(p.path, 0); err != nil {
		p.t.Error(err)
	}
	p.Parser.Parse(b)
}

// A file truncated while it is mapped fails the read (the run then stores
// nothing, and the next run sees the truncation) instead of crashing on
// SIGBUS or storing an offset that does not match what was counted.
func TestParseMappedTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	log := benchLog(2000, 50)
	writeFile(t, path, string(log))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tally := NewTally()
	p := truncating{Parser: VCombined{}.NewParser(NewResolver(benchTargets(50)), tally), path: path, t: t}
	pos, err := parseMapped(context.Background(), f, 0, int64(len(log)), false, p, tally, 64<<10)
	if !errors.Is(err, errShrank) || pos != 0 {
		t.Fatalf("got offset %d, error %v; want 0, %v", pos, err, errShrank)
	}
}
