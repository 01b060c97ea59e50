package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kontor/internal/panel"
)

// Templates (TPL-2) and registration mails (TPL-3). A template belongs to
// one reseller; only that reseller and the admin see it, and every id is
// checked here, inside the transaction that uses it (ROLE-4). A template is
// never referenced by a user: creating a user copies its limits and
// services, so changing or deleting a template changes nobody.

// Templates lists the actor's templates (a reseller's own), by name. The
// admin owns none; it lists a reseller's with TemplatesOf.
func (s *Store) Templates(ctx context.Context, actor panel.Actor) ([]panel.Template, error) {
	switch {
	case actor.IsAdmin():
		return []panel.Template{}, nil
	case actor.Role == panel.RoleReseller:
		return s.TemplatesOf(ctx, actor, actor.ID)
	}
	return nil, panel.Forbidden("", "err.forbidden")
}

// TemplatesOf lists the templates of a reseller, by name: the reseller's
// own, or any reseller's for the admin.
func (s *Store) TemplatesOf(ctx context.Context, actor panel.Actor, resellerID int64) ([]panel.Template, error) {
	out := []panel.Template{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.templateReseller(ctx, tx, actor, resellerID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, reseller_id, name FROM templates WHERE reseller_id = ? ORDER BY name_key, id`), rid)
		if err != nil {
			return panel.Internal(fmt.Errorf("list templates: %w", err))
		}
		byID := map[int64]int{}
		for rows.Next() {
			t := panel.Template{Limits: panel.Limits{}, Services: panel.ServiceSet{}}
			if err := rows.Scan(&t.ID, &t.ResellerID, &t.Name); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			byID[t.ID] = len(out)
			out = append(out, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
		// Two queries for all templates' limits and services, not two per template.
		err = s.scanTemplateRows(ctx, tx, `SELECT l.template_id, l.resource, l.value FROM template_limits l
			JOIN templates t ON t.id = l.template_id WHERE t.reseller_id = ?`, rid, func(id int64, k string, v int64) {
			if i, ok := byID[id]; ok {
				out[i].Limits[panel.Resource(k)] = v
			}
		})
		if err != nil {
			return err
		}
		return s.scanTemplateRows(ctx, tx, `SELECT v.template_id, v.service, v.level FROM template_services v
			JOIN templates t ON t.id = v.template_id WHERE t.reseller_id = ?`, rid, func(id int64, k string, v int64) {
			if i, ok := byID[id]; ok {
				out[i].Services[panel.Service(k)] = int(v)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanTemplateRows runs a query of (template id, key, value) rows.
func (s *Store) scanTemplateRows(ctx context.Context, q queryer, query string, arg int64, fn func(id int64, k string, v int64)) error {
	rows, err := q.QueryContext(ctx, s.q(query), arg)
	if err != nil {
		return panel.Internal(fmt.Errorf("template rows: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var id, v int64
		var k string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return panel.Internal(err)
		}
		fn(id, k, v)
	}
	if err := rows.Err(); err != nil {
		return panel.Internal(err)
	}
	return nil
}

// Template returns one of the actor's templates (any for the admin).
func (s *Store) Template(ctx context.Context, actor panel.Actor, id int64) (panel.Template, error) {
	var t panel.Template
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = s.template(ctx, tx, actor, id)
		return err
	})
	return t, err
}

// templateReseller decides whose templates the actor works on: a reseller
// its own (resellerID 0 or its own id), the admin those of any reseller.
// Anything else is not found, like every foreign id.
func (s *Store) templateReseller(ctx context.Context, q queryer, actor panel.Actor, resellerID int64) (int64, error) {
	switch {
	case actor.Role == panel.RoleReseller && actor.ActingID == 0:
		if resellerID == 0 || resellerID == actor.ID {
			return actor.ID, nil
		}
		return 0, panel.NotFound("reseller")
	case actor.IsAdmin():
		if resellerID == 0 {
			return 0, panel.Invalid("reseller", "err.required")
		}
		if err := s.isReseller(ctx, q, resellerID); err != nil {
			return 0, err
		}
		return resellerID, nil
	}
	return 0, panel.Forbidden("", "err.forbidden")
}

// templateHead loads a template's id, reseller and name and checks that the
// actor may see it: its reseller, or the admin. With lock, the row is
// locked for the rest of the transaction (PostgreSQL).
func (s *Store) templateHead(ctx context.Context, tx *sql.Tx, actor panel.Actor, id int64, lock bool) (panel.Template, error) {
	var t panel.Template
	if id <= 0 {
		return t, panel.NotFound("template")
	}
	query := `SELECT id, reseller_id, name FROM templates WHERE id = ?`
	if lock {
		query += s.forUpdate()
	}
	err := tx.QueryRowContext(ctx, s.q(query), id).Scan(&t.ID, &t.ResellerID, &t.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return t, panel.NotFound("template")
	}
	if err != nil {
		return t, panel.Internal(fmt.Errorf("template %d: %w", id, err))
	}
	switch {
	case actor.IsAdmin():
	case actor.Role == panel.RoleReseller && actor.ActingID == 0 && actor.ID == t.ResellerID:
	default:
		return panel.Template{}, panel.NotFound("template")
	}
	return t, nil
}

func (s *Store) template(ctx context.Context, tx *sql.Tx, actor panel.Actor, id int64) (panel.Template, error) {
	t, err := s.templateHead(ctx, tx, actor, id, false)
	if err != nil {
		return t, err
	}
	t.Limits, t.Services = panel.Limits{}, panel.ServiceSet{}
	err = s.scanTemplateRows(ctx, tx, `SELECT template_id, resource, value FROM template_limits WHERE template_id = ?`, id,
		func(_ int64, k string, v int64) { t.Limits[panel.Resource(k)] = v })
	if err != nil {
		return t, err
	}
	err = s.scanTemplateRows(ctx, tx, `SELECT template_id, service, level FROM template_services WHERE template_id = ?`, id,
		func(_ int64, k string, v int64) { t.Services[panel.Service(k)] = int(v) })
	return t, err
}

// cleanTemplate checks t against its reseller's limits and offered
// services, read in the same transaction that stores it.
func (s *Store) cleanTemplate(ctx context.Context, tx *sql.Tx, resellerID int64, t panel.Template) (panel.Template, error) {
	limits, err := s.resellerLimits(ctx, tx, resellerID)
	if err != nil {
		return t, err
	}
	offered, err := s.services(ctx, tx, resellerID)
	if err != nil {
		return t, err
	}
	return t.Clean(limits, offered)
}

// CreateTemplate stores a new template for t.ResellerID (0: the actor's
// own). Its limits and services must lie within what the reseller may
// grant at all (panel.Template.Clean); the name is unique per reseller.
func (s *Store) CreateTemplate(ctx context.Context, actor panel.Actor, t panel.Template) (panel.Template, error) {
	var out panel.Template
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rid, err := s.templateReseller(ctx, tx, actor, t.ResellerID)
		if err != nil {
			return err
		}
		if t, err = s.cleanTemplate(ctx, tx, rid, t); err != nil {
			return err
		}
		now := s.now().Unix()
		var id int64
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO templates (reseller_id, name, name_key, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`), rid, t.Name, panel.TemplateNameKey(t.Name), now, now).Scan(&id)
		if isUnique(err) {
			return panel.Conflict("name", "err.template.name_taken", t.Name)
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("insert template: %w", err))
		}
		if err := s.putTemplateSettings(ctx, tx, id, t); err != nil {
			return err
		}
		out, err = s.template(ctx, tx, actor, id)
		return err
	})
	return out, err
}

// UpdateTemplate changes the name, limits and services of a template the
// actor may see. Users created from it keep what they got (TPL-2).
func (s *Store) UpdateTemplate(ctx context.Context, actor panel.Actor, t panel.Template) (panel.Template, error) {
	var out panel.Template
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Ownership first: a foreign id is "not found" whatever the input.
		old, err := s.templateHead(ctx, tx, actor, t.ID, true)
		if err != nil {
			return err
		}
		if t, err = s.cleanTemplate(ctx, tx, old.ResellerID, t); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE templates SET name = ?, name_key = ?, updated_at = ? WHERE id = ?`),
			t.Name, panel.TemplateNameKey(t.Name), s.now().Unix(), old.ID)
		if isUnique(err) {
			return panel.Conflict("name", "err.template.name_taken", t.Name)
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("update template: %w", err))
		}
		if err := s.putTemplateSettings(ctx, tx, old.ID, t); err != nil {
			return err
		}
		out, err = s.template(ctx, tx, actor, old.ID)
		return err
	})
	return out, err
}

// putTemplateSettings replaces a template's limits and services.
func (s *Store) putTemplateSettings(ctx context.Context, tx *sql.Tx, id int64, t panel.Template) error {
	for _, q := range []string{`DELETE FROM template_limits WHERE template_id = ?`, `DELETE FROM template_services WHERE template_id = ?`} {
		if _, err := tx.ExecContext(ctx, s.q(q), id); err != nil {
			return panel.Internal(fmt.Errorf("clear template %d: %w", id, err))
		}
	}
	for _, r := range panel.Resources() {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO template_limits (template_id, resource, value) VALUES (?, ?, ?)`),
			id, string(r), t.Limits[r]); err != nil {
			return panel.Internal(fmt.Errorf("template limit %s: %w", r, err))
		}
	}
	for _, sv := range panel.Services() {
		if lvl := t.Services[sv]; lvl > 0 {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO template_services (template_id, service, level) VALUES (?, ?, ?)`),
				id, string(sv), lvl); err != nil {
				return panel.Internal(fmt.Errorf("template service %s: %w", sv, err))
			}
		}
	}
	return nil
}

// DeleteTemplates deletes several templates with their registration mails,
// all or none: one id the actor may not see (or that does not exist) fails
// the whole request as not found and nothing is deleted. Users created
// from them keep their limits and services (TPL-2).
func (s *Store) DeleteTemplates(ctx context.Context, actor panel.Actor, ids []int64) error {
	if len(ids) == 0 {
		return panel.Invalid("id", "err.template.none_selected")
	}
	seen := map[int64]bool{}
	var uniq []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		heads := make([]panel.Template, 0, len(uniq))
		for _, id := range uniq {
			t, err := s.templateHead(ctx, tx, actor, id, true)
			if err != nil {
				return err
			}
			heads = append(heads, t)
		}
		for _, t := range heads {
			for _, q := range []string{`DELETE FROM template_limits WHERE template_id = ?`,
				`DELETE FROM template_services WHERE template_id = ?`, `DELETE FROM templates WHERE id = ?`} {
				if _, err := tx.ExecContext(ctx, s.q(q), t.ID); err != nil {
					return panel.Internal(fmt.Errorf("delete template %d: %w", t.ID, err))
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM mail_templates WHERE reseller_id = ? AND template_id = ?`),
				t.ResellerID, t.ID); err != nil {
				return panel.Internal(fmt.Errorf("delete mail of template %d: %w", t.ID, err))
			}
		}
		return nil
	})
}

// mailReseller resolves the reseller whose registration mail of
// templateID the actor works on, checking that the template (unless 0,
// the default) belongs to that reseller.
func (s *Store) mailReseller(ctx context.Context, tx *sql.Tx, actor panel.Actor, resellerID, templateID int64) (int64, error) {
	if templateID < 0 {
		return 0, panel.NotFound("template")
	}
	if templateID != 0 {
		// The template first, so that a foreign one is "not found" before
		// anything else is said about the request.
		t, err := s.templateHead(ctx, tx, actor, templateID, false)
		if err != nil {
			return 0, err
		}
		if resellerID == 0 {
			resellerID = t.ResellerID
		}
		if t.ResellerID != resellerID {
			return 0, panel.NotFound("template")
		}
	}
	return s.templateReseller(ctx, tx, actor, resellerID)
}

// MailTemplate returns the stored registration mail of a reseller's
// template (templateID 0: the default for users without one); found is
// false when none is stored. resellerID 0 means the actor's own; for a
// template the admin may pass 0 and gets its reseller's. Falling back to
// the default and to the built-in text is the app's business.
func (s *Store) MailTemplate(ctx context.Context, actor panel.Actor, resellerID, templateID int64) (m panel.MailTemplate, found bool, err error) {
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.mailReseller(ctx, tx, actor, resellerID, templateID)
		if err != nil {
			return err
		}
		m.TemplateID = templateID
		err = tx.QueryRowContext(ctx, s.q(`SELECT from_name, from_addr, subject, body FROM mail_templates
			WHERE reseller_id = ? AND template_id = ?`), rid, templateID).Scan(&m.FromName, &m.From, &m.Subject, &m.Body)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("mail template: %w", err))
		}
		found = true
		return nil
	})
	return m, found, err
}

// SetMailTemplate stores a reseller's registration mail for m.TemplateID
// (0: the default). The template must be the reseller's; the mail must
// pass panel.MailTemplate.Clean (no header injection, known tags only).
func (s *Store) SetMailTemplate(ctx context.Context, actor panel.Actor, resellerID int64, m panel.MailTemplate) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		rid, err := s.mailReseller(ctx, tx, actor, resellerID, m.TemplateID)
		if err != nil {
			return err
		}
		if m, err = m.Clean(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO mail_templates (reseller_id, template_id, from_name, from_addr, subject, body, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reseller_id, template_id) DO UPDATE SET from_name = excluded.from_name,
			from_addr = excluded.from_addr, subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`),
			rid, m.TemplateID, m.FromName, m.From, m.Subject, m.Body, s.now().Unix())
		if err != nil {
			return panel.Internal(fmt.Errorf("store mail template: %w", err))
		}
		return nil
	})
}

// ResellerPhone returns the phone number in a reseller's profile, for the
// ##reseller_phone## tag; "" when none is stored.
func (s *Store) ResellerPhone(ctx context.Context, actor panel.Actor, resellerID int64) (string, error) {
	if !(actor.IsAdmin() || actor.Role == panel.RoleReseller && actor.ID == resellerID) {
		return "", panel.NotFound("reseller")
	}
	var phone string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT phone FROM accounts WHERE id = ? AND role = 'reseller'`), resellerID).Scan(&phone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", panel.NotFound("reseller")
	}
	if err != nil {
		return "", panel.Internal(fmt.Errorf("reseller phone: %w", err))
	}
	return phone, nil
}
