package store

import (
	"context"
	"database/sql"
	"time"

	"kontor/internal/panel"
)

// LastUserChange returns when the desired state of a user the actor may
// see last changed: the newest journal row of the user, or of the whole
// server (account 0, "server": new name servers and the like reach every
// user). It is the zero time when the journal holds none, because nothing
// changed or the agent has applied and pruned it. The panel compares it
// with the agent's status (AgentStatus) to tell "applied" from "waiting".
// Both are whole seconds, so a change in the very second of an apply
// counts as applied; the journal row makes the agent apply it again
// moments later, which corrects the page.
func (s *Store) LastUserChange(ctx context.Context, actor panel.Actor, userID int64) (time.Time, error) {
	var at int64
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.visibleUserID(ctx, tx, actor, userID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(created_at), 0) FROM changes WHERE account_id IN (?, 0)`), userID).Scan(&at)
		if err != nil {
			return panel.Internal(err)
		}
		return nil
	})
	if err != nil || at == 0 {
		return time.Time{}, err
	}
	return time.Unix(at, 0), nil
}
