package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type apiError struct {
	Error struct {
		Kind, Field, Message string
	}
}

func decodeErr(t *testing.T, body string) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not a JSON error: %s", body)
	}
	return e
}

func TestAPIUsersAndLimits(t *testing.T) {
	f := newFixture(t)
	r := f.apiLogin(f.res1.Login)
	code, body := r.do("POST", "/api/v1/users", `{"name":"Carla","email":"carla@example.com","limits":{"storage":100,"pop3":2},"services":{"php":1},"domains":[{"name":"Café.example","dns":true}]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var u struct {
		Login, Password string
		Domains         []struct{ Name, Display string }
		Limits          map[string]int64
	}
	json.Unmarshal([]byte(body), &u)
	if u.Login != "web3" || len(u.Password) < 6 || u.Domains[0].Name != "xn--caf-dma.example" || u.Domains[0].Display != "café.example" || u.Limits["storage"] != 100 {
		t.Fatalf("created %+v", u)
	}
	// The hard POP3 limit (5, 2 given to user1, 2 to Carla) refuses 2 more.
	code, body = r.do("POST", "/api/v1/users", `{"limits":{"pop3":2}}`)
	e := decodeErr(t, body)
	if code != http.StatusForbidden || e.Error.Field != "limit.pop3" || e.Error.Message != "POP3 boxes: the hard limit is 5; 4 is already allocated, so 2 more cannot be granted." {
		t.Fatalf("hard limit: %d %+v", code, e)
	}
	bad := []struct {
		body, field, kind string
		code              int
	}{
		{`{"limits":{"storage":"ten"}}`, "limits", "invalid", 422},
		{`{"limits":{"storage":-7}}`, "limit.storage", "invalid", 422},
		{`{"limits":{"storage":-1}}`, "limit.storage", "forbidden", 403},
		{`{"limits":{"nonsense":1}}`, "limit", "invalid", 422},
		{`{"services":{"cgi":1}}`, "service.cgi", "forbidden", 403},
		{`{"bogus":1}`, "bogus", "invalid", 422},
		{`{"name":`, "body", "invalid", 422},
		{`{} {}`, "body", "invalid", 422},
		{`{"domains":[{"name":"a\r\nb.example"}]}`, "domains.0", "invalid", 422},
		{`{"domains":[{"name":"alpha.example"}]}`, "domains.0", "conflict", 409},
		{`{"domains":[{"name":"beta.example"}]}`, "domains.0", "conflict", 409},
		{`{"email":"x@example.com\r\nBcc: y@example.com"}`, "email", "invalid", 422},
		{`{"password":"123"}`, "password", "invalid", 422},
		{`{"name":"` + strings.Repeat("x", 2<<20) + `"}`, "body", "invalid", 422},
	}
	for _, b := range bad {
		code, body := r.do("POST", "/api/v1/users", b.body)
		e := decodeErr(t, body)
		if code != b.code || e.Error.Field != b.field || e.Error.Kind != b.kind {
			short := b.body
			if len(short) > 60 {
				short = short[:60]
			}
			t.Errorf("%s: %d %+v; want %d %s %s", short, code, e.Error, b.code, b.kind, b.field)
		}
	}
	// None of the bad requests created anything.
	code, body = r.do("GET", "/api/v1/users?per=100", "")
	var list struct{ Total int }
	json.Unmarshal([]byte(body), &list)
	if code != 200 || list.Total != 3 { // web0, user1, Carla
		t.Fatalf("users after bad requests: %d %s", code, body)
	}
	// Usage through the API matches the page.
	code, body = r.do("GET", "/api/v1/usage", "")
	if code != 200 || !strings.Contains(body, `"resource": "pop3"`) {
		t.Fatalf("usage: %d %s", code, body)
	}
}

func TestAPILogout(t *testing.T) {
	f := newFixture(t)
	r := f.apiLogin("admin")
	if code, _ := r.do("GET", "/api/v1/me", ""); code != 200 {
		t.Fatalf("me: %d", code)
	}
	if code, _ := r.do("DELETE", "/api/v1/session", ""); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	code, body := r.do("GET", "/api/v1/me", "")
	if code != http.StatusUnauthorized || decodeErr(t, body).Error.Kind != "unauthorized" {
		t.Fatalf("after logout: %d %s", code, body)
	}
	// Wrong credentials: a JSON error, in the requested language.
	c := &apiClient{f: f}
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/session", strings.NewReader(`{"login":"admin","password":"nope"}`))
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e apiError
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(e.Error.Message, "Passwort") {
		t.Fatalf("german login error: %d %+v", resp.StatusCode, e)
	}
	_ = c
}

func TestAPIResellerAdmin(t *testing.T) {
	f := newFixture(t)
	a := f.apiLogin("admin")
	code, body := a.do("POST", "/api/v1/resellers", `{"name":"API Reseller","limits":{"users":{"value":2,"mode":"hard"},"traffic":{"value":5,"mode":"hard"}}}`)
	if e := decodeErr(t, body); code != 422 || e.Error.Field != "limit.traffic" {
		t.Fatalf("hard traffic: %d %+v", code, e)
	}
	code, body = a.do("POST", "/api/v1/resellers", `{"name":"API Reseller","limits":{"users":{"value":2,"mode":"hard"}},"services":{"php":1}}`)
	if code != 201 || !strings.Contains(body, `"login": "res3"`) || !strings.Contains(body, `"password":`) {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body = a.do("PUT", "/api/v1/resellers/"+itoa(f.res1.ID)+"/limits", `{"storage":{"value":-1,"mode":"maximum","allow_unlimited":true}}`)
	if code != 200 || !strings.Contains(body, `"allow_unlimited": true`) {
		t.Fatalf("set limits: %d %s", code, body)
	}
}
