package app

import (
	"context"
	"time"

	"kontor/internal/panel"
)

// Sync states of a user on the server, as the panel shows them.
const (
	SyncApplied = "applied" // the agent applied the user's newest state
	SyncWaiting = "waiting" // no result yet, or the user changed since
	SyncFailed  = "failed"  // the agent's last attempt failed; Detail says why
)

// AgentSync is the agent's status of one user for the panel pages.
type AgentSync struct {
	State  string
	Detail string    // the daemon's own error text when failed
	At     time.Time // when the agent last reported; zero when never
}

// UserSync tells whether the server has caught up with a user the actor
// may see: failed when the agent's last result for it is a failure (even
// if the user changed since: the failure is what the reseller must know),
// waiting when there is no result yet or the user's state changed after
// it, applied otherwise.
func (a *App) UserSync(ctx context.Context, actor panel.Actor, userID int64) (AgentSync, error) {
	state, detail, at, err := a.Store.AgentStatus(ctx, actor, userID)
	if err != nil {
		return AgentSync{}, err
	}
	changed, err := a.Store.LastUserChange(ctx, actor, userID)
	if err != nil {
		return AgentSync{}, err
	}
	switch {
	case state == "failed":
		return AgentSync{State: SyncFailed, Detail: detail, At: at}, nil
	case state != "applied" || changed.After(at):
		return AgentSync{State: SyncWaiting, At: at}, nil
	}
	return AgentSync{State: SyncApplied, At: at}, nil
}
