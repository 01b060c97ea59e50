package stats

import (
	"bytes"
	"testing"
)

// No line, however broken, may crash a run; every line is counted once,
// as good or malformed.

func FuzzVCombined(f *testing.F) {
	f.Add([]byte(`www.example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1000 "-" "curl"`))
	f.Add([]byte(`example.com 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET /\"x\\\" HTTP/1.1" 200 -`))
	f.Add([]byte(`EXAMPLE.com.:8 a b c [29/Feb/2024:10:00:00 +0100] "" 999 1`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParser(t, VCombined{}, line)
	})
}

func FuzzXferlog(f *testing.F) {
	f.Add([]byte(`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /html/a b.txt b _ o r web1f2 ftp 0 * c`))
	f.Add([]byte(`Mon Mar  2 08:00:00 2026 0 192.0.2.8 7 /x.txt b _ o r web2 ftp 0 *`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParser(t, Xferlog{}, line)
	})
}

func checkParser(t *testing.T, f Format, line []byte) {
	line = bytes.ReplaceAll(line, []byte{'\n'}, nil)
	tally := NewTally()
	p := f.NewParser(NewResolver(testTargets()), tally)
	p.Parse(append(line, '\n'))
	p.Flush()
	if tally.Lines != 1 || tally.Malformed > 1 {
		t.Fatalf("%q: %d lines, %d malformed", line, tally.Lines, tally.Malformed)
	}
	var hits int64
	for _, c := range tally.Cells() {
		hits += c.Hits
		if c.Bytes < 0 {
			t.Fatalf("%q: negative bytes", line)
		}
	}
	for _, u := range tally.Unassigned() {
		hits += u.Hits
		if len(u.Name) > 255 || !cleanName([]byte(u.Name[:min(len(u.Name), 64)])) && u.Name != OtherName {
			t.Fatalf("%q: unassigned name %q would not be stored", line, u.Name)
		}
	}
	if hits+tally.Malformed > 1 {
		t.Fatalf("%q counted %d times", line, hits+tally.Malformed)
	}
}
