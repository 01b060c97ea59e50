package i18n

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func load(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoad(t *testing.T) {
	c := load(t)
	if len(c.Keys()) == 0 {
		t.Fatal("catalogue is empty")
	}
	for _, lang := range []string{"en", "de"} {
		if _, ok := c.msgs[lang]; !ok {
			t.Errorf("language %s not loaded", lang)
		}
	}
}

// verbRE matches fmt verbs such as %[1]v, %v, %d, %5.2f; "%%" is a literal
// percent sign and is skipped by the caller.
var verbRE = regexp.MustCompile(`%%|%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z]`)

func verbs(s string) []string {
	set := map[string]bool{}
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func TestSameVerbs(t *testing.T) {
	c := load(t)
	for _, k := range c.Keys() {
		en, de := verbs(c.msgs["en"][k]), verbs(c.msgs["de"][k])
		if !reflect.DeepEqual(en, de) {
			t.Errorf("%s: en uses %v, de uses %v", k, en, de)
		}
	}
}

func TestGermanArgs(t *testing.T) {
	c := load(t)
	got := c.T("de", "err.password.length", 6, 12)
	if !strings.Contains(got, "6") || !strings.Contains(got, "12") {
		t.Errorf("T(de, err.password.length, 6, 12) = %q, want both 6 and 12", got)
	}
	if got == c.T("en", "err.password.length", 6, 12) {
		t.Errorf("German text equals English: %q", got)
	}
}

func TestUnknownLanguageFallsBack(t *testing.T) {
	c := load(t)
	if got, want := c.T("xx", "action.save"), c.T("en", "action.save"); got != want {
		t.Errorf("T(xx, action.save) = %q, want English %q", got, want)
	}
	if got, want := c.T("xx", "err.password.length", 6, 12), c.T("en", "err.password.length", 6, 12); got != want {
		t.Errorf("T(xx, err.password.length) = %q, want English %q", got, want)
	}
}
