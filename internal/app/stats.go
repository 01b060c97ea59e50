package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kontor/internal/panel"
	"kontor/internal/stats"
)

// Scheduled statistics (STA-3): kontor serve reads the logs every
// TrafficEvery and measures storage every StorageEvery, so the Stats
// pages and the overview stay current without a cron job.
const (
	TrafficEvery = 10 * time.Minute
	StorageEvery = 24 * time.Hour
)

// StatsJob is one periodic background job.
type StatsJob struct {
	Name  string // "traffic" or "storage": the subject of its messages
	Every time.Duration
	Run   func(ctx context.Context) error
}

// ErrNoLogs: the server has no logs yet (no web or FTP server
// installed); that is no failure worth a message every ten minutes.
var ErrNoLogs = errors.New("no logs to read")

// DefaultStatsLogs are the logs 'kontor stats collect' reads without
// flags: every access log in ROOT/var/log/apache2 and ROOT/var/log/xferlog.
func DefaultStatsLogs(root string) ([]stats.LogFile, error) {
	var out []stats.LogFile
	dir := filepath.Join(root, "var/log/apache2")
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		found, err := stats.DiscoverLogs(dir)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	xfer := filepath.Join(root, "var/log/xferlog")
	if fi, err := os.Stat(xfer); err == nil && fi.Mode().IsRegular() {
		p, err := filepath.Abs(xfer)
		if err != nil {
			return nil, err
		}
		known := false
		for _, lf := range out {
			known = known || lf.Path == p
		}
		if !known {
			out = append(out, stats.LogFile{Path: p, Format: stats.Xferlog{}})
		}
	}
	if len(out) == 0 {
		return nil, ErrNoLogs
	}
	return out, nil
}

// StatsJobs are the two production jobs for the configured root.
func (a *App) StatsJobs(root string) []StatsJob {
	return []StatsJob{
		{Name: "traffic", Every: TrafficEvery, Run: func(ctx context.Context) error {
			logs, err := DefaultStatsLogs(root)
			if err != nil {
				return err
			}
			rep, err := (&stats.Collector{Store: a.Store, Now: a.Now, Top: -1}).Collect(ctx, logs)
			if err != nil {
				return err
			}
			a.Log.Info("traffic collected", "logs", len(rep.Files), "lines", rep.Lines, "malformed", rep.Malformed,
				"unassigned_hits", rep.UnassignedHits, "users", rep.Users)
			return nil
		}},
		{Name: "storage", Every: StorageEvery, Run: func(ctx context.Context) error {
			m := &stats.Measurer{Store: a.Store, Layout: stats.Layout{Root: root}, Quota: stats.QuotaAuto}
			rep, err := m.Measure(ctx, nil)
			if err != nil {
				return err
			}
			var failed []error
			for _, row := range rep.Rows {
				if row.Err != nil {
					failed = append(failed, fmt.Errorf("%s: %w", row.Login, row.Err))
				}
			}
			a.Log.Info("storage measured", "users", len(rep.Rows)-len(failed), "failed", len(failed), "note", rep.QuotaNote)
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d users not measured, first: %w", len(failed), len(rep.Rows), failed[0])
			}
			return nil
		}},
	}
}

// StartStats runs each job at once and then every job.Every until ctx
// ends; the returned function waits for a running job to finish. A job
// runs in its own goroutine, one run after the other: a run that takes
// longer than the interval delays the next (the ticker drops the ticks
// in between), it never overlaps it.
func (a *App) StartStats(ctx context.Context, jobs []StatsJob) (wait func()) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.Every <= 0 || j.Run == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.loopStats(ctx, j)
		}()
	}
	return wg.Wait
}

func (a *App) loopStats(ctx context.Context, j StatsJob) {
	t := time.NewTicker(j.Every)
	defer t.Stop()
	last := "" // the failure last reported, so a lasting fault is one message, not 144 a day
	for {
		err := j.Run(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrNoLogs):
			a.Log.Debug("stats job: nothing to read", "job", j.Name)
			last = ""
		case err != nil:
			a.Log.Error("stats job failed", "job", j.Name, "err", err)
			if msg := err.Error(); msg != last {
				last = msg
				a.reportStatsFailure(ctx, j.Name, msg)
			}
		default:
			last = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reportStatsFailure writes an error message (GEN-4) to every admin.
func (a *App) reportStatsFailure(ctx context.Context, job, msg string) {
	ids, err := a.Store.AdminIDs(ctx)
	if err != nil {
		a.Log.Error("stats job: cannot list admins", "err", err)
		return
	}
	// A message argument is shown on a page: keep it one line and short.
	msg = statsLine(msg, 500)
	for _, id := range ids {
		if err := a.Store.AddMessage(ctx, id, panel.MsgError, job, "msg.stats.job_failed."+job, msg); err != nil {
			a.Log.Error("stats job: cannot write message", "admin", id, "err", err)
		}
	}
}

// statsLine replaces control characters by spaces and cuts s to n bytes
// at a rune boundary.
func statsLine(s string, n int) string {
	b := []rune{}
	size := 0
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			r = ' '
		}
		if size+len(string(r)) > n {
			break
		}
		size += len(string(r))
		b = append(b, r)
	}
	return string(b)
}
