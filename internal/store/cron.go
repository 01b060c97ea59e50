package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kontor/internal/panel"
)

// CronJob is one of a user's cron jobs (SYS-1). The agent writes the
// enabled ones into the user's crontab, run as the user.
type CronJob struct {
	ID        int64
	UserID    int64
	Schedule  string // five fields or a descriptor, as panel.ValidateCronSchedule accepts
	Command   string // what /bin/sh runs, unescaped
	Enabled   bool
	CreatedAt time.Time
}

// cronField names the form field a limit refusal belongs to.
const cronField = "cron"

// AddCronJob adds a cron job to a user the actor may see (the user, its
// reseller, the admin). Schedule and command are cleaned and validated
// first. The user's row is locked for the count-and-insert, so the
// cron_jobs limit (0 not available, -1 unlimited) holds however many
// requests run at once (LIM-4). The count of jobs is the user's "used" of
// cron_jobs, kept in usage and the reseller's totals like mysql_dbs.
func (s *Store) AddCronJob(ctx context.Context, actor panel.Actor, userID int64, schedule, command string) (CronJob, error) {
	schedule, err := panel.CleanCronSchedule("schedule", schedule)
	if err != nil {
		return CronJob{}, err
	}
	command, err = panel.CleanCronCommand("command", command)
	if err != nil {
		return CronJob{}, err
	}
	var job CronJob
	err = s.tx(ctx, func(tx *sql.Tx) error {
		reseller, login, limit, err := s.lockUserLimit(ctx, tx, actor, userID, panel.ResCron)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM cron_jobs WHERE user_id = ?`), userID).Scan(&n); err != nil {
			return panel.Internal(err)
		}
		if limit == 0 {
			return panel.Forbidden(cronField, "err.cron.not_available")
		}
		if limit != panel.Unlimited && n >= limit {
			return panel.Forbidden(cronField, "err.cron.limit", n)
		}
		now := s.now().Unix()
		var id int64
		if err := tx.QueryRowContext(ctx, s.q(`INSERT INTO cron_jobs (user_id, schedule, command, enabled, created_at) VALUES (?, ?, ?, 1, ?) RETURNING id`),
			userID, schedule, command, now).Scan(&id); err != nil {
			return panel.Internal(fmt.Errorf("insert cron job: %w", err))
		}
		if err := s.cronChanged(ctx, tx, userID, reseller, login); err != nil {
			return err
		}
		job = CronJob{ID: id, UserID: userID, Schedule: schedule, Command: command, Enabled: true, CreatedAt: time.Unix(now, 0)}
		return nil
	})
	return job, err
}

// cronChanged stores the user's job count as its cron_jobs use, moves the
// reseller's total by the difference and journals the user for the agent.
func (s *Store) cronChanged(ctx context.Context, tx *sql.Tx, userID, reseller int64, login string) error {
	var n, old int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM cron_jobs WHERE user_id = ?`), userID).Scan(&n); err != nil {
		return panel.Internal(err)
	}
	err := tx.QueryRowContext(ctx, s.q(`SELECT used FROM usage WHERE account_id = ? AND resource = ?`), userID, string(panel.ResCron)).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return panel.Internal(err)
	}
	if n != old {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO usage (account_id, resource, used, measured_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, resource) DO UPDATE SET used = excluded.used, measured_at = excluded.measured_at`),
			userID, string(panel.ResCron), n, s.now().Unix()); err != nil {
			return panel.Internal(fmt.Errorf("cron job count: %w", err))
		}
		d := totalsDelta{}
		d.row(panel.ResCron).used = n - old
		if err := s.applyTotals(ctx, tx, reseller, d); err != nil {
			return err
		}
	}
	return s.journal(ctx, tx, userID, login, "cron")
}

// ListCronJobs returns the cron jobs of a user the actor may see, oldest
// first.
func (s *Store) ListCronJobs(ctx context.Context, actor panel.Actor, userID int64) ([]CronJob, error) {
	var out []CronJob
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.visibleUserID(ctx, tx, actor, userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, schedule, command, enabled, created_at FROM cron_jobs WHERE user_id = ? ORDER BY id`), userID)
		if err != nil {
			return panel.Internal(fmt.Errorf("cron jobs: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			j := CronJob{UserID: userID}
			var enabled int
			var created int64
			if err := rows.Scan(&j.ID, &j.Schedule, &j.Command, &enabled, &created); err != nil {
				return panel.Internal(err)
			}
			j.Enabled, j.CreatedAt = enabled == 1, time.Unix(created, 0)
			out = append(out, j)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteCronJob removes a cron job of a user the actor may see. A job of
// another user is "not found", whatever its id.
func (s *Store) DeleteCronJob(ctx context.Context, actor panel.Actor, userID, jobID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		reseller, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM cron_jobs WHERE id = ? AND user_id = ?`), jobID, userID)
		if err != nil {
			return panel.Internal(fmt.Errorf("delete cron job: %w", err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return panel.Internal(err)
		} else if n == 0 {
			return panel.NotFound("cron job")
		}
		return s.cronChanged(ctx, tx, userID, reseller, login)
	})
}

// SetCronJobEnabled switches a cron job of a user the actor may see on or
// off; a disabled job stays stored (and counted) but is not in the
// crontab.
func (s *Store) SetCronJobEnabled(ctx context.Context, actor panel.Actor, userID, jobID int64, enabled bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		var old int
		err = tx.QueryRowContext(ctx, s.q(`SELECT enabled FROM cron_jobs WHERE id = ? AND user_id = ?`), jobID, userID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("cron job")
		}
		if err != nil {
			return panel.Internal(err)
		}
		if old == b2i(enabled) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE cron_jobs SET enabled = ? WHERE id = ?`), b2i(enabled), jobID); err != nil {
			return panel.Internal(fmt.Errorf("cron job enabled: %w", err))
		}
		return s.journal(ctx, tx, userID, login, "cron")
	})
}
