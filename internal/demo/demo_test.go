package demo

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

func newApp(t *testing.T) *app.App {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := app.New(st, nil)
	a.Hasher = auth.Params{Memory: 1024, Time: 1, Threads: 1}
	return a
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	if ok, err := Seeded(ctx, a.Store); err != nil || ok {
		t.Fatalf("Seeded before seeding = %v, %v", ok, err)
	}
	logins, err := Seed(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Seeded(ctx, a.Store); err != nil || !ok {
		t.Fatalf("Seeded after seeding = %v, %v", ok, err)
	}
	count := map[panel.Role]int{}
	perReseller := map[string]int{}
	var idn bool
	for _, l := range logins {
		count[l.Role]++
		if l.Role == panel.RoleUser {
			perReseller[l.Reseller]++
			if len(l.Domains) == 0 || len(l.Domains) > 2 {
				t.Errorf("%s has %d domains", l.Login, len(l.Domains))
			}
			if slices.Contains(l.Domains, "müller-bäckerei.de") {
				idn = true
			}
		}
		if err := panel.DefaultPasswordPolicy().Check("password", l.Password); err != nil {
			t.Errorf("%s: password %q breaks the default policy: %v", l.Login, l.Password, err)
		}
		// Every printed password opens its account.
		if _, err := a.Login(ctx, l.Login, l.Password, "127.0.0.1"); err != nil {
			t.Errorf("login %s with %q: %v", l.Login, l.Password, err)
		}
	}
	if count[panel.RoleAdmin] != 1 || count[panel.RoleReseller] != 2 {
		t.Errorf("roles = %v", count)
	}
	if n := perReseller["res1"]; n < 3 || n > 4 {
		t.Errorf("res1 has %d users", n)
	}
	if perReseller["res2"] != 2 {
		t.Errorf("res2 has %d users", perReseller["res2"])
	}
	if !idn {
		t.Error("no user has the IDN domain müller-bäckerei.de")
	}

	// res1 mixes hard and maximum limits, with unlimited on some resources.
	cred, err := a.Store.CredentialsByLogin(ctx, "res1")
	if err != nil {
		t.Fatal(err)
	}
	r1, err := a.Store.Reseller(ctx, admin, cred.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[panel.Mode]int{}
	unl := 0
	for _, l := range r1.Limits {
		modes[l.Mode]++
		if l.AllowUnlimited {
			unl++
		}
	}
	if modes[panel.ModeHard] == 0 || modes[panel.ModeMaximum] == 0 || unl == 0 {
		t.Errorf("res1 limits: modes %v, %d allow unlimited", modes, unl)
	}
	if len(r1.Services) < len(panel.Services())/2 {
		t.Errorf("res1 offers only %d services", len(r1.Services))
	}

	// Existing finds the same accounts again.
	again, err := Existing(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(logins) {
		t.Fatalf("Existing returned %d logins, Seed %d", len(again), len(logins))
	}
	for i := range logins {
		if again[i].Login != logins[i].Login || again[i].Password != logins[i].Password || !slices.Equal(again[i].Domains, logins[i].Domains) {
			t.Errorf("Existing[%d] = %+v, Seed gave %+v", i, again[i], logins[i])
		}
	}

	// A second seed refuses rather than duplicating.
	if _, err := Seed(ctx, a); err == nil {
		t.Error("second Seed succeeded")
	}
}

// TestSeedTemplates: every demo reseller offers two templates.
func TestSeedTemplates(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := app.New(st, nil)
	a.Hasher = auth.Params{Memory: 1024, Time: 1, Threads: 1}
	logins, err := Seed(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logins {
		if l.Role != panel.RoleReseller {
			continue
		}
		cred, err := st.CredentialsByLogin(ctx, l.Login)
		if err != nil {
			t.Fatal(err)
		}
		ra := panel.Actor{ID: cred.Account.ID, Role: panel.RoleReseller, ResellerID: cred.Account.ID}
		ts, err := st.Templates(ctx, ra)
		if err != nil || len(ts) != 2 {
			t.Fatalf("%s templates: %+v %v", l.Login, ts, err)
		}
	}
}
