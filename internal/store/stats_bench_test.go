package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// commitBenchMonth is the month of the benchmark's traffic.
const commitBenchMonth = 202603

// commitBenchBatch is one collector run the shape of bench/traffic.sh's
// 2,000,000-line log: every user on every one of 30 days (web only), in
// the collector's order (user, day, source), 50 unknown names on each of
// the days, one offset row, UsageMonth set.
func commitBenchBatch(users []int64) TrafficBatch {
	b := TrafficBatch{UsageMonth: commitBenchMonth, Lines: 2000000, Bytes: 400 << 20}
	for i, u := range users {
		for d := 1; d <= 30; d++ {
			b.Cells = append(b.Cells, TrafficCell{UserID: u, Day: commitBenchMonth*100 + d, Source: "web",
				Bytes: int64(1000 + i*37 + d*4099), Hits: int64(1 + (i+d)%60)})
		}
	}
	for n := 0; n < 50; n++ {
		for d := 1; d <= 30; d++ {
			b.Unassigned = append(b.Unassigned, UnassignedCell{Day: commitBenchMonth*100 + d, Source: "web",
				Name: fmt.Sprintf("unknown%02d.example", n), Bytes: int64(500 + n*d), Hits: int64(1 + d%7)})
		}
	}
	off := LogOffset{Path: "/var/log/apache2/access.log", Dev: 2049, Inode: 1234, Pos: 400 << 20, Size: 400 << 20,
		FPLen: 4096, FP: "0123456789abcdef0123456789abcdef", Current: true}
	b.Offsets = map[string][]LogOffset{off.Path: {off}}
	return b
}

// commitBenchStore makes a migrated SQLite store with 2 resellers of 500
// users each (a domain each) in dir, closes it and returns its path and
// 1000 user ids.
func commitBenchStore(b *testing.B, dir string) (string, []int64) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(dir, "seed.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	seedUsers(b, s, 500)
	seedUsers(b, s, 500)
	// The users with a domain: those the collector attributes lines to.
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT user_id FROM domains ORDER BY user_id`)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 1000 {
		b.Fatalf("%d users", len(ids))
	}
	// Close checkpoints the WAL: the file alone is the store.
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path, ids
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCommitTraffic is CommitTraffic of one collector run of a month
// of 1000 sites (STA-3, issue 5) on SQLite: cold stores it into a fresh
// store (and reports what closing that store costs: the WAL checkpoint),
// warm adds the same run again on top, so every user's month is read and
// merged.
func BenchmarkCommitTraffic(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	seed, users := commitBenchStore(b, dir)
	batch := commitBenchBatch(users)

	b.Run("cold", func(b *testing.B) {
		var closing time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			path := filepath.Join(dir, fmt.Sprintf("cold%d.db", i))
			copyFile(b, seed, path)
			s, err := Open(ctx, path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			_, gen, err := s.LogOffsets(ctx)
			if err != nil {
				b.Fatal(err)
			}
			batch.Generation = gen
			b.StartTimer()
			n, err := s.CommitTraffic(ctx, batch)
			b.StopTimer()
			if err != nil || n != len(users) {
				b.Fatal(n, err)
			}
			t0 := time.Now()
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			closing += time.Since(t0)
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(closing.Nanoseconds())/float64(b.N), "close-ns/op")
	})

	b.Run("warm", func(b *testing.B) {
		path := filepath.Join(dir, "warm.db")
		copyFile(b, seed, path)
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		_, gen, err := s.LogOffsets(ctx)
		if err != nil {
			b.Fatal(err)
		}
		batch.Generation = gen
		if _, err := s.CommitTraffic(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			batch.Generation++
			if _, err := s.CommitTraffic(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
