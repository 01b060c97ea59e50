package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAdminIPs(t *testing.T) {
	f := newFixture(t)
	c := f.login("admin", "/admin/")
	c.get("/admin/ips")
	code, body, _ := c.post("/admin/ips", url.Values{"address": {"192.0.2.300"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Enter a valid IPv4 or IPv6 address.") {
		t.Fatalf("bad address: %d %s", code, text(body))
	}
	if code, _, _ := c.post("/admin/ips", url.Values{"address": {"192.0.2.10"}, "shared": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("add shared: %d", code)
	}
	if code, _, _ := c.post("/admin/ips", url.Values{"address": {"2001:db8::1"}, "reseller": {itoa(f.res1.ID)}}); code != http.StatusSeeOther {
		t.Fatalf("add exclusive: %d", code)
	}
	code, body, _ = c.post("/admin/ips", url.Values{"address": {"192.0.2.10"}})
	if code != http.StatusConflict || !strings.Contains(text(body), "already registered") {
		t.Fatalf("duplicate: %d %s", code, text(body))
	}
	_, body = c.get("/admin/ips")
	tx := text(body)
	if !strings.Contains(tx, "192.0.2.10 shared") || !strings.Contains(tx, "2001:db8::1 exclusive") {
		t.Fatalf("list: %s", tx)
	}
	// The reseller's permission for MySQL external access.
	p := "/admin/resellers/" + itoa(f.res1.ID)
	c.get(p)
	if code, _, _ := c.post(p+"/mysql", url.Values{"mysql_external": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("mysql flag: %d", code)
	}
	if r, _ := f.app.Store.Reseller(t.Context(), admin, f.res1.ID); !r.MySQLExternal {
		t.Fatal("flag not stored")
	}
}
