package stats

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The parsers' speed on lines as servers write them (bench/traffic.sh
// measures the whole command against cat and GoAccess).

func BenchmarkVCombinedParse(b *testing.B) {
	log := benchLog(200000, 1000)
	tg := benchTargets(1000)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := NewTally()
		p := VCombined{}.NewParser(NewResolver(tg), t)
		p.Parse(log)
		p.Flush()
		if t.Malformed != 0 {
			b.Fatal("malformed", t.Malformed)
		}
	}
}

func BenchmarkXferlogParse(b *testing.B) {
	logins := map[string]int64{}
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		logins[fmt.Sprintf("web%d", i)] = int64(i + 1)
	}
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "Sat Mar 14 09:%02d:01 2026 1 192.0.2.7 %d /html/dir/file %d.zip b _ %s r web%df%d ftp 0 * c\n",
			i%60, i*37%100000, i, []string{"o", "i"}[i%2], i%1000, i%3)
	}
	log := []byte(sb.String())
	tg := NewTargets(nil, logins)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := NewTally()
		p := Xferlog{}.NewParser(NewResolver(tg), t)
		p.Parse(log)
		p.Flush()
		if t.Malformed != 0 || len(t.Unassigned()) != 0 {
			b.Fatal("malformed", t.Malformed)
		}
	}
}

// BenchmarkReadRegion reads a log file from the page cache with one
// goroutine per CPU, as the collector does.
func BenchmarkReadRegion(b *testing.B) {
	path := filepath.Join(b.TempDir(), "access.log")
	log := benchLog(400000, 1000)
	if err := os.WriteFile(path, log, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tg := benchTargets(1000)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pos, t, err := readRegion(context.Background(), f, 0, int64(len(log)), false, VCombined{}, tg,
			readOptions{workers: runtime.GOMAXPROCS(0), minSplit: 1 << 20})
		if err != nil || pos != int64(len(log)) || t.Lines != 400000 {
			b.Fatal(pos, err)
		}
	}
}
