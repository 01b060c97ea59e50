package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"kontor/internal/panel"
)

func (s *Store) addMessage(ctx context.Context, tx *sql.Tx, owner int64, kind panel.MessageKind, subject, key string, args ...string) error {
	if owner == 0 {
		return nil
	}
	if args == nil {
		args = []string{}
	}
	a, err := json.Marshal(args)
	if err != nil {
		return panel.Internal(err)
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO messages (owner_id, kind, subject, msg_key, args, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		owner, string(kind), subject, key, string(a), s.now().Unix())
	if err != nil {
		return panel.Internal(fmt.Errorf("add message: %w", err))
	}
	return nil
}

// AddMessage records an error or notice for owner (a reseller or admin).
// It is used by parts of Kontor that act without a person (login notices,
// the agent's failures).
func (s *Store) AddMessage(ctx context.Context, owner int64, kind panel.MessageKind, subject, key string, args ...string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.addMessage(ctx, tx, owner, kind, subject, key, args...) })
}

// MessageFilter selects a page of messages.
type MessageFilter struct {
	Kind   panel.MessageKind // "" for all
	Offset int
	Limit  int
}

// Messages returns the actor's messages, newest first, and the total count.
func (s *Store) Messages(ctx context.Context, actor panel.Actor, f MessageFilter) ([]panel.Message, int, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	where := `owner_id = ?`
	args := []any{actor.ID}
	if f.Kind != "" {
		where += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	var total int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM messages WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, panel.Internal(err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, owner_id, kind, subject, msg_key, args, created_at FROM messages
		WHERE `+where+` ORDER BY id DESC LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, panel.Internal(err)
	}
	defer rows.Close()
	var out []panel.Message
	for rows.Next() {
		var m panel.Message
		var kind, args string
		var created int64
		if err := rows.Scan(&m.ID, &m.OwnerID, &kind, &m.Subject, &m.Key, &args, &created); err != nil {
			return nil, 0, panel.Internal(err)
		}
		m.Kind, m.CreatedAt = panel.MessageKind(kind), time.Unix(created, 0)
		if err := json.Unmarshal([]byte(args), &m.Args); err != nil {
			return nil, 0, panel.Internal(fmt.Errorf("message %d args: %w", m.ID, err))
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}
