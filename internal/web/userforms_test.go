package web

import (
	"net/url"
	"testing"

	"kontor/internal/panel"
)

func TestParseUserLimits(t *testing.T) {
	f := url.Values{}
	f.Set("limit.storage", " 500 ")
	f.Set("limit.pop3", "-1")
	f.Set("limit.users", "7") // not a user resource: ignored
	l, err := parseUserLimits(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != len(panel.Resources()) {
		t.Fatalf("got %d resources, want all %d", len(l), len(panel.Resources()))
	}
	if l[panel.ResStorage] != 500 || l[panel.ResPOP3] != -1 || l[panel.ResEmail] != 0 {
		t.Errorf("limits = %v", l)
	}
	if _, ok := l[panel.ResUsers]; ok {
		t.Error("users is a reseller resource, not a user limit")
	}

	for _, bad := range []string{"abc", "1.5", "-2", "1e3", "5 MB", "99999999999999999999"} {
		f := url.Values{}
		f.Set("limit.mysql_dbs", bad)
		_, err := parseUserLimits(f)
		pe := panel.AsError(err)
		if err == nil || pe.Kind != panel.KindInvalid || pe.Field != "limit.mysql_dbs" || pe.Key != "err.limit.number" {
			t.Errorf("%q: err = %v, want invalid limit.mysql_dbs", bad, err)
		}
	}
}
