package store

import (
	"context"
	"strings"
	"testing"

	"kontor/internal/panel"
)

func TestIndexSetup(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r1, a1 := reseller(t, s, nil, nil)
		r2, a2 := reseller(t, s, nil, nil)

		// Nothing stored yet: the default name and no page.
		got, err := s.GetIndexSetup(ctx, a1, r1.ID)
		if err != nil || got != (IndexSetup{Name: DefaultIndexName}) {
			t.Fatalf("fresh setup = %+v, %v", got, err)
		}
		page := "<html><body><h1>Welcome, ##user##!</h1>\n\t<p>##login##</p></body></html>\r\n"
		if err := s.SetIndexSetup(ctx, a1, r1.ID, IndexSetup{Name: "start.htm", HTML: page}); err != nil {
			t.Fatal(err)
		}
		if got, err = s.GetIndexSetup(ctx, a1, r1.ID); err != nil || got != (IndexSetup{Name: "start.htm", HTML: page}) {
			t.Fatalf("stored setup = %+v, %v", got, err)
		}
		// The admin reads and changes any reseller's setup.
		if got, err = s.GetIndexSetup(ctx, admin, r1.ID); err != nil || got.Name != "start.htm" {
			t.Fatalf("admin reads = %+v, %v", got, err)
		}
		if err := s.SetIndexSetup(ctx, admin, r1.ID, IndexSetup{Name: "index.html", HTML: "x"}); err != nil {
			t.Fatal(err)
		}
		// A page of exactly the limit is fine; an empty page stores "none".
		if err := s.SetIndexSetup(ctx, a1, r1.ID, IndexSetup{Name: "index.html", HTML: strings.Repeat("a", MaxIndexHTML)}); err != nil {
			t.Fatalf("page of %d bytes: %v", MaxIndexHTML, err)
		}
		if err := s.SetIndexSetup(ctx, a1, r1.ID, IndexSetup{Name: "index.html"}); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.GetIndexSetup(ctx, a1, r1.ID); got != (IndexSetup{Name: "index.html"}) {
			t.Fatalf("after clearing: %+v", got)
		}
		// Each reseller has its own.
		if err := s.SetIndexSetup(ctx, a2, r2.ID, IndexSetup{Name: "two.html", HTML: "two"}); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.GetIndexSetup(ctx, a1, r1.ID); got.HTML != "" {
			t.Fatalf("r2's page leaked into r1's: %+v", got)
		}

		// Foreign and wrong ids: another reseller's id looks like none, a
		// user may not use it at all, the admin cannot set one on a user.
		// The reseller's own web0 account is a user of its subtree.
		u := panel.User{Account: panel.Account{ID: r1.DefaultUserID}}
		if u.ID == 0 {
			t.Fatal("reseller has no default user")
		}
		ua := panel.Actor{ID: u.ID, Role: panel.RoleUser, ResellerID: r1.ID}
		acting := panel.Actor{ID: u.ID, Role: panel.RoleReseller, ResellerID: r1.ID, ActingID: r1.ID}
		for _, c := range []struct {
			actor panel.Actor
			id    int64
			kind  panel.Kind
		}{
			{a1, r2.ID, panel.KindNotFound},
			{a1, u.ID, panel.KindNotFound},
			{a1, 999999, panel.KindNotFound},
			{admin, u.ID, panel.KindNotFound},
			{admin, 999999, panel.KindNotFound},
			{ua, r1.ID, panel.KindForbidden},
			{acting, r1.ID, panel.KindNotFound},
		} {
			_, err := s.GetIndexSetup(ctx, c.actor, c.id)
			wantKind(t, err, c.kind, "")
			err = s.SetIndexSetup(ctx, c.actor, c.id, IndexSetup{Name: "evil.html", HTML: "pwned"})
			wantKind(t, err, c.kind, "")
		}
		if got, _ = s.GetIndexSetup(ctx, a2, r2.ID); got != (IndexSetup{Name: "two.html", HTML: "two"}) {
			t.Fatalf("r2's setup changed by foreign calls: %+v", got)
		}
	})
}

func TestIndexSetupBadInputStoresNothing(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r, a := reseller(t, s, nil, nil)
		good := IndexSetup{Name: "welcome.html", HTML: "<p>hi ##user##</p>"}
		if err := s.SetIndexSetup(ctx, a, r.ID, good); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			in    IndexSetup
			field string
			key   string
		}{
			{IndexSetup{Name: ""}, "name", "err.required"},
			{IndexSetup{Name: ".htaccess"}, "name", "err.index.name"},
			{IndexSetup{Name: "../index.html"}, "name", "err.index.name"},
			{IndexSetup{Name: "a..html"}, "name", "err.index.name"},
			{IndexSetup{Name: "html/index.html"}, "name", "err.index.name"},
			{IndexSetup{Name: "/etc/passwd"}, "name", "err.index.name"},
			{IndexSetup{Name: `a\b.html`}, "name", "err.index.name"},
			{IndexSetup{Name: "index.html\n"}, "name", "err.index.name"},
			{IndexSetup{Name: "index\x00.html"}, "name", "err.index.name"},
			{IndexSetup{Name: "in dex.html"}, "name", "err.index.name"},
			{IndexSetup{Name: "index.html;rm"}, "name", "err.index.name"},
			{IndexSetup{Name: `"x".html`}, "name", "err.index.name"},
			{IndexSetup{Name: "índex.html"}, "name", "err.index.name"},
			{IndexSetup{Name: strings.Repeat("a", 65)}, "name", "err.index.name"},
			{IndexSetup{Name: "index.html", HTML: strings.Repeat("a", MaxIndexHTML+1)}, "html", "err.index.html_large"},
			{IndexSetup{Name: "index.html", HTML: "a\x00b"}, "html", "err.index.html_control"},
			{IndexSetup{Name: "index.html", HTML: "a\x1bb"}, "html", "err.index.html_control"},
			{IndexSetup{Name: "index.html", HTML: "a\xffb"}, "html", "err.index.html_control"},
			{IndexSetup{Name: "index.html", HTML: "hi ##User## ##password##"}, "html", "err.index.tags"},
		}
		for _, c := range cases {
			err := s.SetIndexSetup(ctx, a, r.ID, c.in)
			if pe := wantKind(t, err, panel.KindInvalid, c.key); pe.Field != c.field {
				t.Errorf("%q: field %q, want %q", c.in.Name, pe.Field, c.field)
			}
		}
		if got, _ := s.GetIndexSetup(ctx, a, r.ID); got != good {
			t.Fatalf("bad input changed the setup: %+v", got)
		}
		// A 64-character name is the longest that passes.
		if !ValidIndexName(strings.Repeat("a", 64)) || !ValidIndexName("Index-2_b.HTM") {
			t.Error("good names refused")
		}
	})
}
