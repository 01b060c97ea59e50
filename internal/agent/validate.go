package agent

import (
	"path"
	"strings"

	"kontor/internal/panel"
)

// PathByte is the allow-list of bytes in a path that reaches a generated
// file: no space, quote, backslash, '$' or '%' (Apache expands ${VAR} and
// %{...}), no ':' (the separator of open_basedir and passwd), no shell
// metacharacters, no control bytes.
func PathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '/' || c == '.' || c == '_' || c == '-'
}

// CheckPath accepts an absolute, clean path of PathBytes without ".." that
// is strictly inside prefix ("/" for any absolute path other than "/"
// itself). Every daemon checks the paths of its options and of the state
// with it before they reach a file (DESIGN rule 2).
func CheckPath(field, p, prefix string) error {
	if p == "" {
		return panel.Invalid(field, "err.required")
	}
	if len(p) > 1024 {
		return panel.Invalid(field, "err.path.long")
	}
	for i := 0; i < len(p); i++ {
		if !PathByte(p[i]) {
			return panel.Invalid(field, "err.path.chars")
		}
	}
	if p[0] != '/' || path.Clean(p) != p || p == "/" {
		return panel.Invalid(field, "err.path.clean")
	}
	for _, el := range strings.Split(p[1:], "/") {
		if el == ".." || el == "." {
			return panel.Invalid(field, "err.path.clean")
		}
	}
	if prefix != "/" && !strings.HasPrefix(p, prefix+"/") {
		return panel.Invalid(field, "err.path.outside")
	}
	return nil
}
