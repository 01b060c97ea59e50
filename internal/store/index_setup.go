package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"kontor/internal/panel"
)

// IndexSetup is a reseller's start page (SET-2): the agent installs it
// into the web root of every new user of the reseller, with ##user##
// replaced by the user's login, and never over a file the user uploaded.
type IndexSetup struct {
	Name string // file name in the web root, e.g. "index.html"
	HTML string // the page; "" installs nothing
}

// Limits and defaults of the index setup.
const (
	DefaultIndexName = "index.html"
	MaxIndexName     = 64
	MaxIndexHTML     = 64 << 10 // bytes
)

// The account_settings keys of the reseller that hold the setup; the
// agent's desired-state loader reads the same keys.
const (
	settingIndexName = "index.name"
	settingIndexHTML = "index.html"
)

// indexTags are the tags the start page may use: ##user## (the guide's
// name) and its synonym ##login##. Anything else written like a tag is a
// typo that would otherwise reach every new user's page.
var indexTags = map[string]bool{panel.TagUser: true, panel.TagLogin: true}

// indexTagRe finds anything written like a tag, as panel's mail tags do.
var indexTagRe = regexp.MustCompile(`##([A-Za-z0-9_.-]+)##`)

// ValidIndexName reports whether name is a plain file name for the web
// root: 1–64 of [A-Za-z0-9._-], not starting with a dot (no .htaccess, no
// hidden files) and without "..". It becomes a path on the server, so
// nothing else passes.
func ValidIndexName(name string) bool {
	if name == "" || len(name) > MaxIndexName || name[0] == '.' || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateIndexSetup checks a setup as it will be stored: the name as
// ValidIndexName, the HTML valid UTF-8 of at most MaxIndexHTML bytes with
// no control characters but tab and line breaks, and no tag other than
// ##user## / ##login##. The HTML itself is the reseller's own content for
// its users' webspace and is stored as written.
func ValidateIndexSetup(in IndexSetup) error {
	if in.Name == "" {
		return panel.Invalid("name", "err.required")
	}
	if !ValidIndexName(in.Name) {
		return panel.Invalid("name", "err.index.name", MaxIndexName)
	}
	if len(in.HTML) > MaxIndexHTML {
		return panel.Invalid("html", "err.index.html_large", MaxIndexHTML/1024)
	}
	if !utf8.ValidString(in.HTML) {
		return panel.Invalid("html", "err.index.html_control")
	}
	for _, r := range in.HTML {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return panel.Invalid("html", "err.index.html_control")
		}
	}
	var bad []string
	seen := map[string]bool{}
	for _, m := range indexTagRe.FindAllStringSubmatch(in.HTML, -1) {
		if !indexTags[m[1]] && !seen[m[1]] {
			seen[m[1]] = true
			bad = append(bad, m[0])
		}
	}
	if len(bad) > 0 {
		return panel.Invalid("html", "err.index.tags", strings.Join(bad, ", "))
	}
	return nil
}

// indexOwner checks that actor may read and change the index setup of
// resellerID: a reseller its own, the admin any reseller's. Another
// reseller's id looks like one that does not exist.
func (s *Store) indexOwner(ctx context.Context, q queryer, actor panel.Actor, resellerID int64) error {
	switch actor.Role {
	case panel.RoleAdmin:
		return s.isReseller(ctx, q, resellerID)
	case panel.RoleReseller:
		if actor.ID != resellerID || actor.ActingID != 0 {
			return panel.NotFound("reseller")
		}
		return nil
	}
	return panel.Forbidden("", "err.forbidden")
}

// GetIndexSetup returns the reseller's index setup; Name is
// DefaultIndexName and HTML "" while it has stored none.
func (s *Store) GetIndexSetup(ctx context.Context, actor panel.Actor, resellerID int64) (IndexSetup, error) {
	out := IndexSetup{Name: DefaultIndexName}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := s.indexOwner(ctx, tx, actor, resellerID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT key, value FROM account_settings WHERE account_id = ? AND key IN (?, ?)`),
			resellerID, settingIndexName, settingIndexHTML)
		if err != nil {
			return panel.Internal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return panel.Internal(err)
			}
			switch k {
			case settingIndexName:
				if v != "" {
					out.Name = v
				}
			case settingIndexHTML:
				out.HTML = v
			}
		}
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
		return nil
	})
	if err != nil {
		return IndexSetup{}, err
	}
	return out, nil
}

// SetIndexSetup validates and stores the reseller's index setup, both keys
// in one transaction. Nothing is journalled: the setup only reaches users
// created after it, whose creation is journalled itself.
func (s *Store) SetIndexSetup(ctx context.Context, actor panel.Actor, resellerID int64, in IndexSetup) error {
	if err := ValidateIndexSetup(in); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.indexOwner(ctx, tx, actor, resellerID); err != nil {
			return err
		}
		for _, kv := range [][2]string{{settingIndexName, in.Name}, {settingIndexHTML, in.HTML}} {
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO account_settings (account_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value`), resellerID, kv[0], kv[1])
			if err != nil {
				return panel.Internal(fmt.Errorf("index setup %s: %w", kv[0], err))
			}
		}
		return nil
	})
}
