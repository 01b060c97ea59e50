package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// BenchmarkLogin is one login through the service layer with the
// production argon2id cost (19 MiB, 2 passes): the price of each login.
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b)
	f.app.Hasher = auth.DefaultParams()
	ctx := context.Background()
	if _, err := f.app.SetUserPassword(ctx, admin, f.user1.ID, "benchpw1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.app.Login(ctx, f.user1.Login, "benchpw1", "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// seed10k gives res1 10,000 more users with a domain each.
func seed10k(b *testing.B, f *fixture) {
	ctx := context.Background()
	if err := f.app.Store.SetResellerLimits(ctx, admin, f.res1.ID, panel.ResellerLimits{
		panel.ResUsers: {Value: 20000, Mode: panel.ModeHard}, panel.ResStorage: {Value: -1, Mode: panel.ModeMaximum}}); err != nil {
		b.Fatal(err)
	}
	for done := 0; done < 10000; {
		var batch []store.NewUser
		for i := 0; i < 1000; i++ {
			done++
			batch = append(batch, store.NewUser{ResellerID: f.res1.ID, PasswordHash: "h",
				Profile: panel.Profile{Name: fmt.Sprintf("Customer %05d", done)},
				Limits:  panel.Limits{panel.ResStorage: 100},
				Domains: []store.NewDomain{{Name: fmt.Sprintf("site%05d.example", done)}}})
		}
		if _, err := f.app.Store.CreateUsers(ctx, admin, f.res1.ID, batch); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGet(b *testing.B, c *client, path, want string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.http.Get(c.f.srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
}

// BenchmarkOverview10k renders General → Overview (the LIM-3 table) for a
// reseller with 10,000 users, over HTTP with a session.
func BenchmarkOverview10k(b *testing.B) {
	f := newFixture(b)
	seed10k(b, f)
	c := f.login(f.res1.Login, "/reseller/")
	benchGet(b, c, "/reseller/general/", "10001")
}

// BenchmarkUserListPage10k renders one page of the user list, plain and
// searched, for a reseller with 10,000 users.
func BenchmarkUserListPage10k(b *testing.B) {
	f := newFixture(b)
	seed10k(b, f)
	c := f.login(f.res1.Login, "/reseller/")
	b.Run("page1", func(b *testing.B) { benchGet(b, c, "/reseller/users/list", "10002 users") })
	b.Run("page200", func(b *testing.B) { benchGet(b, c, "/reseller/users/list?page=200&per=25", "site04974") })
	b.Run("search", func(b *testing.B) { benchGet(b, c, "/reseller/users/list?q=site0999", "10 users") })
}
