package panel

import (
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	good := map[string]string{
		"Example.COM":                 "example.com",
		"example.com.":                "example.com",
		" www.example.de ":            "www.example.de",
		"müller-bäckerei.de":          "xn--mller-bckerei-hfb76a.de",
		"xn--mller-bckerei-hfb76a.de": "xn--mller-bckerei-hfb76a.de",
		"a-b.c0.example":              "a-b.c0.example",
	}
	for in, want := range good {
		got, err := NormalizeDomain("domain", in)
		if err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"", "localhost", "a..b", ".a.b", "a b.com", "a\r\nb.com", "a\x00.com", "-a.com", "a-.com",
		strings.Repeat("a", 64) + ".com", strings.Repeat("abcdefghi.", 26) + "com", "a.123", "a_b.com", "a;rm -rf.com",
		"../etc/passwd", "*.example.com", "a/b.com", `a".com`, "a'.com", "$(x).com", "user@example.com"}
	for _, in := range bad {
		if got, err := NormalizeDomain("domain", in); err == nil {
			t.Errorf("NormalizeDomain(%q) = %q, want an error", in, got)
		} else if pe := AsError(err); pe.Kind != KindInvalid || pe.Field != "domain" {
			t.Errorf("NormalizeDomain(%q): %v does not name the field", in, err)
		}
	}
	if DisplayDomain("xn--mller-bckerei-hfb76a.de") != "müller-bäckerei.de" {
		t.Error("DisplayDomain does not decode punycode")
	}
}

func TestValidateLogin(t *testing.T) {
	for _, ok := range []string{"admin", "res1", "web12", "a_b-c"} {
		if err := ValidateLogin("login", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1abc", "Admin", "a b", "a\nb", "a;b", "../x", strings.Repeat("a", 33), "ä"} {
		if err := ValidateLogin("login", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCheckGrant(t *testing.T) {
	hard := ResellerLimit{Value: 100, Mode: ModeHard}
	max := ResellerLimit{Value: 100, Mode: ModeMaximum}
	unl := ResellerLimit{Value: -1, Mode: ModeMaximum, AllowUnlimited: true}
	cases := []struct {
		name  string
		r     Resource
		lim   ResellerLimit
		alloc Allocation
		ask   int64
		over  bool
		key   string
	}{
		{"fits hard", ResStorage, hard, Allocation{Sum: 50}, 50, false, ""},
		{"past hard", ResStorage, hard, Allocation{Sum: 50}, 51, false, "err.limit.hard"},
		{"unlimited under hard", ResStorage, hard, Allocation{}, -1, false, "err.limit.no_unlimited"},
		{"past maximum", ResStorage, max, Allocation{Sum: 99}, 2, true, ""},
		{"allocation already unlimited", ResStorage, max, Allocation{Unlimited: true}, 1, true, ""},
		{"zero always fine", ResStorage, ResellerLimit{Value: 0, Mode: ModeHard}, Allocation{}, 0, false, ""},
		{"not available", ResStorage, ResellerLimit{Value: 0, Mode: ModeMaximum}, Allocation{}, 1, false, "err.limit.not_available"},
		{"unlimited reseller", ResStorage, unl, Allocation{Sum: 1 << 40}, -1, false, ""},
		{"negative", ResStorage, unl, Allocation{}, -5, false, "err.limit.range"},
		{"traffic is never hard", ResTraffic, ResellerLimit{Value: 10, Mode: ModeHard}, Allocation{Sum: 10}, 5, true, ""},
	}
	for _, c := range cases {
		over, err := CheckGrant(c.r, c.lim, c.alloc, c.ask)
		if c.key == "" && err != nil || c.key != "" && (err == nil || AsError(err).Key != c.key) || over != c.over {
			t.Errorf("%s: over=%v err=%v; want over=%v key=%q", c.name, over, err, c.over, c.key)
		}
	}
	if err := (ResellerLimit{Value: 5, Mode: ModeHard}).Validate(ResTraffic); err == nil {
		t.Error("hard traffic limit accepted")
	}
	if err := (ResellerLimit{Value: 5, Mode: ModeHard, AllowUnlimited: true}).Validate(ResStorage); err == nil {
		t.Error("hard limit with unlimited grants accepted")
	}
}

func TestPasswordPolicy(t *testing.T) {
	p := DefaultPasswordPolicy()
	for _, bad := range []string{"", "12345", "1234567890123", "abc\ndef"} {
		if err := p.Check("password", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	err := p.Check("password", "12345")
	if pe := AsError(err); pe.Key != "err.password.length" || pe.Args[0] != 6 || pe.Args[1] != 12 {
		t.Errorf("length error does not state the rule: %v", err)
	}
	if err := p.Check("password", "äöüäöü"); err != nil {
		t.Errorf("6 umlauts (12 bytes) refused: %v", err)
	}
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		pw, err := p.GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if p.Check("password", pw) != nil || strings.Trim(pw, alnum) != "" || seen[pw] {
			t.Fatalf("generated %q", pw)
		}
		seen[pw] = true
	}
}

func TestProfileClean(t *testing.T) {
	p, err := Profile{Name: "  Anna  ", Email: "anna@example.com", Show: []string{"name", "name", "email"}}.Clean(true)
	if err != nil || p.Name != "Anna" || p.ShowString() != "name,email" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := (Profile{Email: "a@example.com"}).Clean(true); AsError(err).Field != "name" {
		t.Errorf("missing required name: %v", err)
	}
	if _, err := (Profile{Name: "x", Show: []string{"password"}}).Clean(false); err == nil {
		t.Error("unknown show field accepted")
	}
	for _, bad := range []string{"a@b", "a b@example.com", "<a@example.com>", "Anna <a@example.com>", "a@example.com\r\nBcc: b@example.com"} {
		if _, err := ValidateEmail("email", bad, false); err == nil {
			t.Errorf("e-mail %q accepted", bad)
		}
	}
}
