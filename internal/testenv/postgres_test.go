package testenv_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"kontor/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("sql.Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ping %q: %v", dsn, err)
	}
	return db
}

func currentDatabase(t *testing.T, db *sql.DB) string {
	t.Helper()
	var name string
	if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestIntegration(t *testing.T) {
	for _, v := range []struct {
		env  string
		want bool
	}{{"", false}, {"0", false}, {"true", false}, {"1", true}} {
		t.Setenv(testenv.EnvVar, v.env)
		if got := testenv.Integration(); got != v.want {
			t.Errorf("%s=%q: Integration() = %v, want %v", testenv.EnvVar, v.env, got, v.want)
		}
	}
}

func TestNeedSkipsWithoutIntegration(t *testing.T) {
	reached := false
	t.Run("sub", func(t *testing.T) {
		t.Setenv(testenv.EnvVar, "")
		testenv.Need(t, "some daemon")
		reached = true
	})
	if reached {
		t.Fatal("Need returned instead of skipping")
	}
}

func TestPostgresDSN(t *testing.T) {
	dsnA := testenv.PostgresDSN(t)
	dsnB := testenv.PostgresDSN(t)
	if dsnA == dsnB {
		t.Fatalf("two calls returned the same DSN %q", dsnA)
	}
	if !strings.HasPrefix(dsnA, "postgres://") || !strings.Contains(dsnA, "@127.0.0.1:") {
		t.Errorf("unexpected DSN form %q", dsnA)
	}
	a, b := openDB(t, dsnA), openDB(t, dsnB)

	var version string
	if err := a.QueryRow("SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(version, "PostgreSQL") {
		t.Errorf("version() = %q, does not mention PostgreSQL", version)
	}
	t.Logf("server: %s", version)

	if na, nb := currentDatabase(t, a), currentDatabase(t, b); na == nb {
		t.Fatalf("both DSNs point to database %q", na)
	}

	// Fresh databases have no user tables.
	for name, db := range map[string]*sql.DB{"A": a, "B": b} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s is not empty: %d user tables", name, n)
		}
	}

	if _, err := a.Exec(`CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(`INSERT INTO things (name) VALUES ('x'), ('y')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.QueryRow(`SELECT count(*) FROM things`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("count in A = %d, %v; want 2", n, err)
	}
	var reg sql.NullString
	if err := b.QueryRow(`SELECT to_regclass('public.things')::text`).Scan(&reg); err != nil {
		t.Fatal(err)
	}
	if reg.Valid {
		t.Errorf("table created in A is visible in B as %q", reg.String)
	}
	// B can create its own table of the same name, independently.
	if _, err := b.Exec(`CREATE TABLE things (other int)`); err != nil {
		t.Fatalf("creating same-named table in B: %v", err)
	}
	if err := b.QueryRow(`SELECT count(*) FROM things`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("count in B = %d, %v; want 0", n, err)
	}
}

// TestPostgresDSNDropped checks that databases are dropped when their test
// ends, even with connections left open, and that concurrent callers work.
func TestPostgresDSNDropped(t *testing.T) {
	outer := openDB(t, testenv.PostgresDSN(t))

	var mu sync.Mutex
	var names []string
	t.Run("group", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				db, err := sql.Open("pgx", testenv.PostgresDSN(t))
				if err != nil {
					t.Fatal(err)
				}
				// Deliberately not closed: the drop must still work.
				name := currentDatabase(t, db)
				if _, err := db.Exec(`CREATE TABLE t (x int)`); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				names = append(names, name)
				mu.Unlock()
			})
		}
	})
	if len(names) != 4 {
		t.Fatalf("got %d databases, want 4", len(names))
	}
	for _, name := range names {
		var exists bool
		if err := outer.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s still exists after its test ended", name)
		}
	}
}
