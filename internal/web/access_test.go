package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kontor/internal/panel"
)

// apiClient holds a bearer token.
type apiClient struct {
	f     *fixture
	token string
}

func (f *fixture) apiLogin(login string) *apiClient {
	f.t.Helper()
	code, body := (&apiClient{f: f}).do("POST", "/api/v1/session", `{"login":"`+login+`","password":"`+f.pw[login]+`"}`)
	if code != http.StatusCreated {
		f.t.Fatalf("api login %s: %d %s", login, code, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Token == "" {
		f.t.Fatalf("api login %s: %s", login, body)
	}
	return &apiClient{f: f, token: out.Token}
}

func (c *apiClient) do(method, path, body string) (int, string) {
	c.f.t.Helper()
	req, err := http.NewRequest(method, c.f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.f.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEveryRouteStaysInItsSubtree walks every registered route with every
// role and with ids of other people's objects (ROLE-4): a foreign role gets
// 403, a foreign id 404, and no page ever shows the other reseller's data.
func TestEveryRouteStaysInItsSubtree(t *testing.T) {
	f := newFixture(t)
	browsers := map[panel.Role]*client{
		panel.RoleAdmin:    f.login("admin", "/admin/"),
		panel.RoleReseller: f.login(f.res1.Login, "/reseller/"),
		panel.RoleUser:     f.login(f.user1.Login, "/user/"),
	}
	apis := map[panel.Role]*apiClient{
		panel.RoleAdmin:    f.apiLogin("admin"),
		panel.RoleReseller: f.apiLogin(f.res1.Login),
		panel.RoleUser:     f.apiLogin(f.user1.Login),
	}
	// What res1 and user1 must never see: res2's and user2's data.
	secrets := []string{"Bob Beta", "beta.example", "Reseller Two", f.user2.Login + "<", f.user2.Login + `"`}
	foreignIDs := []int64{f.user2.ID, f.res2.ID, f.domain, 999999}
	idsFor := func(role panel.Role) []string {
		var out []string
		switch role {
		case panel.RoleAdmin:
			// The admin sees every reseller; only ids that are no reseller fail.
			out = append(out, strconv.FormatInt(f.user1.ID, 10), "999999")
		default:
			for _, id := range foreignIDs {
				out = append(out, strconv.FormatInt(id, 10))
			}
		}
		return append(out, "abc", "-1")
	}
	routes := f.web.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	checked := 0
	for _, rt := range routes {
		if rt.API && rt.Method == "DELETE" && rt.Pattern == "/api/v1/session" {
			continue // logging out would end the walk; TestAPILogout covers it
		}
		for role, br := range browsers {
			path := rt.Pattern
			path = strings.ReplaceAll(path, "{$}", "")
			path = strings.ReplaceAll(path, "{menu}", "general")
			path = strings.ReplaceAll(path, "{tool}", "zzz")
			paths := []string{path}
			if strings.Contains(path, "{id}") {
				paths = nil
				for _, id := range idsFor(role) {
					paths = append(paths, strings.ReplaceAll(path, "{id}", id))
				}
			}
			for _, p := range paths {
				var code int
				var body string
				if rt.API {
					c := apis[role]
					payload := ""
					if rt.Method != "GET" && rt.Method != "DELETE" {
						payload = `{}`
						if strings.HasSuffix(rt.Pattern, "/domains") {
							payload = `{"name":"intruder.example"}`
						}
					}
					code, body = c.do(rt.Method, p, payload)
				} else if rt.Method == "GET" {
					code, body = br.get(p)
				} else {
					code, body, _ = br.post(p, url.Values{"confirm": {f.res2.Login}, "status": {"locked"}})
				}
				checked++
				roleOK := rt.Role == "" || rt.Role == role
				switch {
				case !roleOK:
					if code != http.StatusForbidden {
						t.Errorf("%s %s as %s: %d, want 403", rt.Method, p, role, code)
					}
				case strings.Contains(rt.Pattern, "{id}"):
					if code != http.StatusNotFound {
						t.Errorf("%s %s as %s (foreign id): %d, want 404", rt.Method, p, role, code)
					}
				}
				if role != panel.RoleAdmin {
					for _, s := range secrets {
						if strings.Contains(body, s) {
							t.Errorf("%s %s as %s shows %q", rt.Method, p, role, s)
						}
					}
				}
			}
		}
		// Without any session: web pages redirect to the login, the API says 401.
		p := strings.NewReplacer("{$}", "", "{menu}", "general", "{tool}", "x", "{id}", "1").Replace(rt.Pattern)
		if rt.API {
			code, _ := (&apiClient{f: f}).do(rt.Method, p, "{}")
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s without token: %d, want 401", rt.Method, p, code)
			}
		} else if rt.Method == "GET" {
			code, _ := f.client().get(p)
			if code != http.StatusSeeOther {
				t.Errorf("%s %s without session: %d, want redirect", rt.Method, p, code)
			}
		}
	}
	t.Logf("checked %d requests over %d routes", checked, len(routes))
	// Nothing foreign was changed: res2 is still enabled, user2's domain still there.
	r2, err := f.app.Store.Reseller(t.Context(), admin, f.res2.ID)
	if err != nil {
		t.Fatalf("res2 gone after the walk: %v", err)
	}
	_ = r2
	u2, err := f.app.Store.User(t.Context(), admin, f.user2.ID)
	if err != nil || u2.Status != panel.StatusEnabled || len(u2.Domains) != 1 {
		t.Fatalf("user2 changed by the walk: %+v %v", u2, err)
	}
	if _, err := f.app.Store.User(t.Context(), admin, f.user1.ID); err != nil {
		t.Fatalf("user1 gone: %v", err)
	}
}
