package fsys

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kontor/internal/testenv"
)

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

// diffCases are compared with the golden files and with /usr/bin/diff.
var diffCases = []struct{ name, old, new string }{
	{"identical", "a\nb\n", "a\nb\n"},
	{"from_empty", "", "one\ntwo\nthree\n"},
	{"to_empty", "one\ntwo\n", ""},
	{"change_middle", numbered(1, 20), strings.Replace(numbered(1, 20), "line 10\n", "line ten\n", 1)},
	{"insert_start", numbered(1, 10), "new\n" + numbered(1, 10)},
	{"append_end", numbered(1, 10), numbered(1, 12)},
	{"delete_start", numbered(1, 10), numbered(3, 10)},
	{"two_hunks", numbered(1, 30), strings.Replace(strings.Replace(numbered(1, 30), "line 3\n", "x\n", 1), "line 25\n", "y\n", 1)},
	// Changes 6 and 7 unchanged lines apart: where diff merges hunks.
	{"gap_six", numbered(1, 20), strings.Replace(strings.Replace(numbered(1, 20), "line 5\n", "x\n", 1), "line 12\n", "y\n", 1)},
	{"gap_seven", numbered(1, 20), strings.Replace(strings.Replace(numbered(1, 20), "line 5\n", "x\n", 1), "line 13\n", "y\n", 1)},
	{"no_newline_old", "a\nb\nc", "a\nb\nc\n"},
	{"no_newline_both", "a\nb\nc", "a\nB\nc"},
	{"single_line", "x\n", "y\n"},
	{"apache_vhost",
		"<VirtualHost *:80>\n\tServerName web1.example\n\tDocumentRoot /home/web1/html\n\tphp_admin_flag engine off\n</VirtualHost>\n",
		"<VirtualHost *:80>\n\tServerName web1.example\n\tServerAlias www.web1.example\n\tDocumentRoot /home/web1/html\n\tphp_admin_flag engine on\n</VirtualHost>\n"},
	{"interleaved", "a\nb\nc\nd\ne\nf\ng\n", "a\nB\nc\nD\ne\nF\ng\nh\n"},
}

func TestDiffGolden(t *testing.T) {
	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			got := Diff("/etc/kontor/"+c.name+".conf", []byte(c.old), []byte(c.new))
			testenv.Golden(t, "diff/"+c.name, []byte(got))
		})
	}
}

// TestDiffMatchesGNU checks the output byte for byte against diffutils.
func TestDiffMatchesGNU(t *testing.T) {
	diffBin, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("no diff(1) installed")
	}
	dir := t.TempDir()
	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			oldF, newF := filepath.Join(dir, c.name+".old"), filepath.Join(dir, c.name+".new")
			if err := os.WriteFile(oldF, []byte(c.old), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(newF, []byte(c.new), 0o600); err != nil {
				t.Fatal(err)
			}
			label := "etc/kontor/" + c.name + ".conf"
			out, err := exec.Command(diffBin, "-u", "--label", "a/"+label, "--label", "b/"+label, oldF, newF).Output()
			if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
				t.Fatal(err)
			}
			got := Diff("/"+label, []byte(c.old), []byte(c.new))
			if got != string(out) {
				t.Errorf("differs from diff -u:\n--- ours\n%s--- diff -u\n%s", got, out)
			}
		})
	}
}

// TestDiffLarge checks a full rewrite past the Myers bound still yields a
// diff that diff(1) agrees reconstructs the files (via patch-free check:
// every old line removed, every new line added).
func TestDiffLarge(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "old %d\n", i)
		fmt.Fprintf(&b, "new %d\n", i)
	}
	d := Diff("/big", []byte(a.String()), []byte(b.String()))
	if !strings.HasPrefix(d, "--- a/big\n+++ b/big\n@@ -1,3000 +1,3000 @@\n") {
		t.Fatalf("unexpected header: %.80q", d)
	}
	if n := strings.Count(d, "\n-old "); n != 3000 {
		t.Errorf("%d removed lines, want 3000", n)
	}
	if n := strings.Count(d, "\n+new "); n != 3000 {
		t.Errorf("%d added lines, want 3000", n)
	}
}
