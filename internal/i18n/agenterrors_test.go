package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// errorSources are the packages whose panel.Error keys must have a text:
// the panel's rules and the agent, whose errors the reconcile loop turns
// into the reseller's messages (GEN-4). Relative to this package's folder,
// where go test runs.
var errorSources = []string{filepath.Join("..", "agent"), filepath.Join("..", "panel")}

// errKeyRE finds error keys written as string literals.
var errKeyRE = regexp.MustCompile(`"(err\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)"`)

// dynamicKeyRE finds the beginnings of keys put together at run time
// ("err.cron." + name, Sprintf("err.%s", …)): the scan cannot see the
// finished key, so such code would slip past it.
var dynamicKeyRE = regexp.MustCompile(`"err\.[a-z0-9_.]*(%|\.")`)

// sourceFile is one non-test Go file of errorSources.
type sourceFile struct {
	path string
	body []byte
}

func errorSourceFiles(t *testing.T) []sourceFile {
	t.Helper()
	var files []sourceFile
	for _, root := range errorSources {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files = append(files, sourceFile{path: p, body: body})
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no Go files found under %v; the scan would prove nothing", errorSources)
	}
	return files
}

// TestAgentErrorKeysHaveTexts fails when an error key used in the agent or
// the panel has no text: the reseller would see the bare key.
func TestAgentErrorKeysHaveTexts(t *testing.T) {
	c := load(t)
	used := map[string][]string{} // key → files using it
	for _, f := range errorSourceFiles(t) {
		for _, m := range errKeyRE.FindAllSubmatch(f.body, -1) {
			k := string(m[1])
			used[k] = append(used[k], f.path)
		}
		for _, m := range dynamicKeyRE.FindAll(f.body, -1) {
			t.Errorf("%s: error key built at run time from %s; write each key out in full so this test can check it", f.path, m)
		}
	}
	// The agent's checks alone use a few dozen keys; far fewer means the
	// scan went wrong, not that the keys went away.
	if len(used) < 50 {
		t.Fatalf("found only %d error keys in %v; the scan is broken", len(used), errorSources)
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !c.Has(k) {
			t.Errorf("%s (used in %s) has no text; add it to a *.en.txt and *.de.txt catalogue", k, strings.Join(dedupStrings(used[k]), ", "))
		}
	}
}

// probe stands in for any argument: it prints under every verb, so only a
// wrong count of arguments shows up as fmt's "%!" marks.
type probe int

func (p probe) Format(s fmt.State, verb rune) { fmt.Fprintf(s, "‹%d›", int(p)) }

// errorCall is one place that builds a panel.Error with a literal key and
// a known number of arguments.
type errorCall struct {
	pos  string
	key  string
	args int
}

// errorCalls finds Invalid/Forbidden/Conflict(field, "err.…", args…) calls
// and panel.Error{Key: "err.…", Args: []any{…}} literals. Calls that pass
// a slice with "args..." have no count to check and are left out.
func errorCalls(t *testing.T, files []sourceFile) []errorCall {
	t.Helper()
	fset := token.NewFileSet()
	var out []errorCall
	for _, f := range files {
		af, err := parser.ParseFile(fset, f.path, f.body, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f.path, err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if !isErrorConstructor(n.Fun) || len(n.Args) < 2 || n.Ellipsis.IsValid() {
					return true
				}
				if k, ok := errKeyLit(n.Args[1]); ok {
					out = append(out, errorCall{fset.Position(n.Pos()).String(), k, len(n.Args) - 2})
				}
			case *ast.CompositeLit:
				if !isPanelError(n.Type) {
					return true
				}
				var key string
				args := 0
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch id, _ := kv.Key.(*ast.Ident); {
					case id == nil:
					case id.Name == "Key":
						key, _ = errKeyLit(kv.Value)
					case id.Name == "Args":
						if cl, ok := kv.Value.(*ast.CompositeLit); ok {
							args = len(cl.Elts)
						} else {
							key = "" // a slice from elsewhere: no count to check
						}
					}
				}
				if key != "" {
					out = append(out, errorCall{fset.Position(n.Pos()).String(), key, args})
				}
			}
			return true
		})
	}
	return out
}

func isErrorConstructor(fun ast.Expr) bool {
	var name string
	switch f := fun.(type) {
	case *ast.Ident:
		name = f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); !ok || x.Name != "panel" {
			return false
		}
		name = f.Sel.Name
	}
	return name == "Invalid" || name == "Forbidden" || name == "Conflict"
}

func isPanelError(typ ast.Expr) bool {
	switch t := typ.(type) {
	case *ast.Ident:
		return t.Name == "Error"
	case *ast.SelectorExpr:
		x, ok := t.X.(*ast.Ident)
		return ok && x.Name == "panel" && t.Sel.Name == "Error"
	}
	return false
}

func errKeyLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil || !strings.HasPrefix(s, "err.") {
		return "", false
	}
	return s, true
}

// TestAgentErrorArgs renders each error with as many arguments as its
// caller passes: a text that wants more (%!v(MISSING)) or gets more than
// it shows without saying so (%!(EXTRA …)) would reach the reseller
// garbled.
func TestAgentErrorArgs(t *testing.T) {
	c := load(t)
	calls := errorCalls(t, errorSourceFiles(t))
	if len(calls) < 50 {
		t.Fatalf("found only %d error constructors; the scan is broken", len(calls))
	}
	for _, call := range calls {
		if !c.Has(call.key) {
			continue // reported by TestAgentErrorKeysHaveTexts
		}
		for _, lang := range []string{"en", "de"} {
			args := make([]any, call.args)
			for i := range args {
				args[i] = probe(i + 1)
			}
			if got := c.T(lang, call.key, args...); strings.Contains(got, "%!") {
				t.Errorf("%s: %s with %d argument(s) renders in %s as %q", call.pos, call.key, call.args, lang, got)
			}
		}
	}
}

// TestAgentErrorTextsGerman checks that the agent's error texts are
// translated, not copied: a German reseller would otherwise read English.
func TestAgentErrorTextsGerman(t *testing.T) {
	c := load(t)
	en, err := files.ReadFile("agenterrors.en.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parse(en)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatal("agenterrors.en.txt has no keys")
	}
	for k := range m {
		if c.msgs["de"][k] == c.msgs["en"][k] {
			t.Errorf("%s: the German text is the English one: %q", k, c.msgs["en"][k])
		}
	}
}

func dedupStrings(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// noticeKeyRE finds the keys of the agent's server-wide notices: written
// in a Notice literal or as a Notice… constant.
var noticeKeyRE = regexp.MustCompile(`(?:Notice\{Key: *|Notice[A-Za-z]* *= *)"([a-z0-9_.]+)"`)

// TestAgentNoticesHaveTexts: the reconcile loop records a notice under
// "msg.agent." + its key; every such key needs a text.
func TestAgentNoticesHaveTexts(t *testing.T) {
	c := load(t)
	n := 0
	for _, f := range errorSourceFiles(t) {
		for _, m := range noticeKeyRE.FindAllSubmatch(f.body, -1) {
			n++
			if k := "msg.agent." + string(m[1]); !c.Has(k) {
				t.Errorf("%s: notice %q has no text %s", f.path, m[1], k)
			}
		}
	}
	if n < 5 {
		t.Fatalf("found only %d notice keys; the scan is broken", n)
	}
}
