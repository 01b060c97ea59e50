// Package i18n is the message catalogue: every string the panel shows goes
// through it, in English and German (GEN-3). The catalogues are embedded
// text files, one "key = text" per line; texts take fmt verbs such as %[1]v
// for arguments. Each language is the union of its files "*.<lang>.txt"
// (messages.en.txt, templates.en.txt, …), so that each feature keeps its
// texts in a file of its own; a key may appear in only one of them.
package i18n

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"kontor/internal/panel"
)

//go:embed *.txt
var files embed.FS

// Catalog holds the texts of every language.
type Catalog struct {
	msgs map[string]map[string]string
}

// Load parses the embedded catalogues. A key present in one language and
// missing in another fails the load, so a gap is found at start-up (and by
// the tests), not by a user.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range panel.Languages() {
		names, err := fs.Glob(files, "*."+lang+".txt")
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("catalogue %s: no files", lang)
		}
		m := map[string]string{}
		for _, name := range names {
			body, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("catalogue %s: %w", name, err)
			}
			part, err := parse(body)
			if err != nil {
				return nil, fmt.Errorf("catalogue %s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("catalogue %s: key %q is defined in another file too", name, k)
				}
				m[k] = v
			}
		}
		c.msgs[lang] = m
	}
	base := c.msgs["en"]
	for lang, m := range c.msgs {
		var missing []string
		for k := range base {
			if _, ok := m[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range m {
			if _, ok := base[k]; !ok {
				missing = append(missing, "en:"+k)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return nil, fmt.Errorf("catalogue %s lacks %d keys: %s", lang, len(missing), strings.Join(missing, ", "))
		}
	}
	return c, nil
}

func parse(body []byte) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: no '='", n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("line %d: key %q twice", n, k)
		}
		m[k] = v
	}
	return m, sc.Err()
}

// Has reports whether key exists.
func (c *Catalog) Has(key string) bool { _, ok := c.msgs["en"][key]; return ok }

// Keys returns every key, sorted.
func (c *Catalog) Keys() []string {
	var ks []string
	for k := range c.msgs["en"] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// T returns the text of key in lang (English when lang is unknown),
// formatted with args. Resource and service arguments are translated. An
// unknown key comes back as itself, so a gap is visible, never blank.
func (c *Catalog) T(lang, key string, args ...any) string {
	m, ok := c.msgs[lang]
	if !ok {
		m = c.msgs["en"]
	}
	text, ok := m[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return text
	}
	for i, a := range args {
		switch v := a.(type) {
		case panel.Resource:
			args[i] = c.T(lang, "res."+string(v))
		case panel.Service:
			args[i] = c.T(lang, "svc."+string(v))
		}
	}
	return fmt.Sprintf(text, args...)
}

// Error renders err for a person: a panel.Error in lang, anything else as
// the generic internal error (its cause belongs in the log).
func (c *Catalog) Error(lang string, err error) string {
	pe := panel.AsError(err)
	args := append([]any(nil), pe.Args...)
	return c.T(lang, pe.Key, args...)
}

// Message renders a stored GEN-4 message.
func (c *Catalog) Message(lang string, m panel.Message) string {
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		args[i] = a
	}
	return c.T(lang, m.Key, args...)
}
