package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// seedUsers gives a new reseller n users with a domain each, in batches.
func seedUsers(tb testing.TB, s *Store, n int) panel.Actor {
	tb.Helper()
	ctx := context.Background()
	r, err := s.CreateReseller(ctx, admin, NewReseller{PasswordHash: "h", DefaultHash: "d",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: -1, Mode: panel.ModeMaximum},
			panel.ResStorage: {Value: -1, Mode: panel.ModeMaximum}, panel.ResPOP3: {Value: 100000, Mode: panel.ModeMaximum}}})
	if err != nil {
		tb.Fatal(err)
	}
	a := panel.Actor{ID: r.ID, Role: panel.RoleReseller, ResellerID: r.ID}
	for done := 0; done < n; {
		var batch []NewUser
		for i := 0; i < 1000 && done < n; i++ {
			done++
			batch = append(batch, NewUser{ResellerID: r.ID, PasswordHash: "h",
				Profile: panel.Profile{Name: fmt.Sprintf("Customer %05d", done), Email: fmt.Sprintf("c%05d@example.com", done)},
				Limits:  panel.Limits{panel.ResStorage: 500, panel.ResPOP3: 5},
				Domains: []NewDomain{{Name: fmt.Sprintf("r%d-site%05d.example", r.ID, done), DNS: true}}})
		}
		if _, err := s.CreateUsers(ctx, admin, r.ID, batch); err != nil {
			tb.Fatal(err)
		}
	}
	// A running server's autovacuum analyzes a table after such a bulk
	// insert; without it PostgreSQL plans as if the table were empty.
	if s.d == postgres {
		if _, err := s.db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			tb.Fatal(err)
		}
	}
	return a
}

func benchEngines(b *testing.B, fn func(b *testing.B, s *Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, openB(b, filepath.Join(b.TempDir(), "k.db"))) })
	b.Run("postgres", func(b *testing.B) { fn(b, openB(b, testenv.PostgresDSN(b))) })
}

func openB(b *testing.B, dsn string) *Store {
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkUserList10k is one page of the user list of a reseller with
// 10,000 users: plain, deep in the list, and searched (USR-1).
func BenchmarkUserList10k(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		a := seedUsers(b, s, 10000)
		ctx := context.Background()
		for _, c := range []struct {
			name string
			f    UserFilter
		}{
			{"page1", UserFilter{Limit: 25}},
			{"page300", UserFilter{Limit: 25, Offset: 7475}},
			{"search", UserFilter{Limit: 25, Search: "customer 0999"}},
			{"search-domain", UserFilter{Limit: 25, Search: "site0424"}},
		} {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					rows, total, err := s.Users(ctx, a, c.f)
					if err != nil || total == 0 || len(rows) == 0 {
						b.Fatal(total, err)
					}
				}
			})
		}
	})
}

// BenchmarkUsage10k is the General overview's resource table (LIM-3) of a
// reseller with 10,000 users, aggregated in SQL.
func BenchmarkUsage10k(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		a := seedUsers(b, s, 10000)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			rows, err := s.Usage(ctx, a, a.ID)
			if err != nil || rows[0].Used != 10000 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateUserAt10k is one user creation with its limit checks when
// the reseller already has 10,000 users.
func BenchmarkCreateUserAt10k(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		a := seedUsers(b, s, 10000)
		ctx := context.Background()
		for b.Loop() {
			if _, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResStorage: 1}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
