package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginLogout(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	code, body := c.get("/reseller/general/")
	if code != 200 || !strings.Contains(text(body), "Your resources") {
		t.Fatalf("overview: %d %s", code, text(body))
	}
	if code, _, loc := c.post("/logout", nil); code != http.StatusSeeOther || loc != "/login?done=logout" {
		t.Fatalf("logout: %d %s", code, loc)
	}
	if code, _ := c.get("/reseller/general/"); code != http.StatusSeeOther {
		t.Fatalf("after logout the panel answered %d, want a redirect to login", code)
	}
}

func TestLoginWrongPasswordAndThrottle(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.get("/login")
	for i := 0; i < 4; i++ {
		code, body, _ := c.post("/login", url.Values{"login": {"admin"}, "password": {"wrong"}})
		if code != http.StatusUnauthorized || !strings.Contains(text(body), "Login or password is wrong.") {
			t.Fatalf("attempt %d: %d %s", i, code, text(body))
		}
	}
	code, _, _ := c.post("/login", url.Values{"login": {"admin"}, "password": {"wrong"}})
	if code != http.StatusUnauthorized {
		t.Fatalf("5th attempt: %d", code)
	}
	// Locked now: even the right password is refused with the rule's message.
	code, body, _ := c.post("/login", url.Values{"login": {"admin"}, "password": {"adminpw1"}})
	if code != http.StatusTooManyRequests || !strings.Contains(text(body), "Too many failed logins. Try again in 15 minutes.") {
		t.Fatalf("throttled login: %d %s", code, text(body))
	}
	// Another account from the same address still works (per-account lock).
	f.login(f.res1.Login, "/reseller/")
}

func TestLoginNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.get("/login")
	code, body, _ := c.post("/login", url.Values{"login": {"admin"}, "password": {"adminpw1"}, "csrf": {"forged"}})
	if code != http.StatusForbidden || !strings.Contains(text(body), "The form has expired") {
		t.Fatalf("forged login CSRF: %d %s", code, text(body))
	}
	// A logged-in POST without the session's token is refused too.
	a := f.login("admin", "/admin/")
	code, body, _ = a.post("/admin/settings", url.Values{"csrf": {"nope"}, "password_min": {"6"}, "password_max": {"12"}})
	if code != http.StatusForbidden || !strings.Contains(text(body), "The form has expired") {
		t.Fatalf("settings without CSRF: %d %s", code, text(body))
	}
}

func TestLockedUserCannotLogIn(t *testing.T) {
	f := newFixture(t)
	r := f.login(f.res1.Login, "/reseller/")
	_ = r
	if err := f.app.Store.SetStatus(t.Context(), admin, f.user1.ID, "locked"); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	c.get("/login")
	code, body, _ := c.post("/login", url.Values{"login": {f.user1.Login}, "password": {f.pw[f.user1.Login]}})
	if code != http.StatusForbidden || !strings.Contains(text(body), "This account is locked.") {
		t.Fatalf("locked user login: %d %s", code, text(body))
	}
}

func TestUserLoginIsNoticeForReseller(t *testing.T) {
	f := newFixture(t)
	u := f.login(f.user1.Login, "/user/")
	u.post("/logout", nil)
	r := f.login(f.res1.Login, "/reseller/")
	_, body := r.get("/reseller/general/messages?kind=notice")
	tx := text(body)
	for _, want := range []string{"User logged on.", "User logged off.", "User created.", f.user1.Login} {
		if !strings.Contains(tx, want) {
			t.Errorf("messages lack %q: %s", want, tx)
		}
	}
	// The other reseller's user never appears.
	if strings.Contains(tx, f.user2.Login) {
		t.Errorf("res1 sees a message about %s", f.user2.Login)
	}
	_, body = r.get("/reseller/general/messages?kind=error")
	if !strings.Contains(text(body), "No messages.") {
		t.Errorf("error filter shows notices: %s", text(body))
	}
}

func TestResellerPasswordOpensUserPanel(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.get("/login")
	code, _, loc := c.post("/login", url.Values{"login": {f.user1.Login}, "password": {f.pw[f.res1.Login]}})
	if code != http.StatusSeeOther || loc != "/user/" {
		t.Fatalf("reseller password on own user: %d %s", code, loc)
	}
	_, body := c.get("/user/")
	if !strings.Contains(text(body), "as reseller") {
		t.Errorf("acting session not marked: %s", text(body))
	}
	// The other reseller's password does not open it.
	c2 := f.client()
	c2.get("/login")
	code, _, _ = c2.post("/login", url.Values{"login": {f.user1.Login}, "password": {f.pw[f.res2.Login]}})
	if code != http.StatusUnauthorized {
		t.Fatalf("foreign reseller password: %d", code)
	}
	// The reseller's own web0 account opens with the reseller password (ROLE-1).
	c3 := f.client()
	c3.get("/login")
	code, _, loc = c3.post("/login", url.Values{"login": {f.res1.Login + "web0"}, "password": {f.pw[f.res1.Login]}})
	if code != http.StatusSeeOther || loc != "/user/" {
		t.Fatalf("web0 with reseller password: %d %s", code, loc)
	}
}

// TestLoginThrottlePerAddress: guessing across many accounts from one
// address locks the address, not the accounts.
func TestLoginThrottlePerAddress(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.get("/login")
	for i := 0; i < 20; i++ {
		c.post("/login", url.Values{"login": {"nobody" + itoa(int64(i))}, "password": {"guess"}})
	}
	code, body, _ := c.post("/login", url.Values{"login": {"admin"}, "password": {"adminpw1"}})
	if code != http.StatusTooManyRequests || !strings.Contains(text(body), "Too many failed logins") {
		t.Fatalf("address not throttled: %d %s", code, text(body))
	}
	// The account itself is not locked: through the API from the same
	// address it is refused too, as the lock is per address.
	code, _ = (&apiClient{f: f}).do("POST", "/api/v1/session", `{"login":"admin","password":"adminpw1"}`)
	if code != http.StatusTooManyRequests {
		t.Fatalf("API from the locked address: %d", code)
	}
}
