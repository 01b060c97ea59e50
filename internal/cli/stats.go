package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"kontor/internal/app"
	"kontor/internal/stats"
	"kontor/internal/store"
)

// logSpec is one --log or --log-dir of 'stats collect', in command-line
// order so that --format can apply to the --log before it.
type logSpec struct {
	path   string
	format string // "" until a --format follows; then vcombined
	dir    bool
}

type logSpecs struct{ list []logSpec }

type logFlag struct {
	s   *logSpecs
	dir bool
}

func (f logFlag) String() string { return "" }

func (f logFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("needs a path")
	}
	f.s.list = append(f.s.list, logSpec{path: v, dir: f.dir})
	return nil
}

type formatFlag struct{ s *logSpecs }

func (f formatFlag) String() string { return "" }

func (f formatFlag) Set(v string) error {
	n := len(f.s.list)
	if n == 0 || f.s.list[n-1].dir || f.s.list[n-1].format != "" {
		return errors.New("must follow the --log it applies to")
	}
	if _, err := stats.FormatByName(v); err != nil {
		return err
	}
	f.s.list[n-1].format = strings.ToLower(v)
	return nil
}

func statsCollectCommand() *command {
	return &command{
		name:     "stats collect",
		synopsis: "[--log-dir DIR | --log FILE [--format vcombined|xferlog]]... [--top N] [--workers N] [--db DSN] [--config FILE]",
		summary:  "add the new lines of the web and FTP logs to the traffic statistics",
		about: `Reads the web server's access logs and the FTP server's xferlog from where
the last run stopped and adds bytes and hits per user and day to the
traffic statistics (STA-3); with them it sets every user's traffic use of
the current month (the resource "traffic" of the overview) in MB, rounded
up.

Web logs are in Apache's vhost_combined format
  LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""
(also without :%p). The vhost belongs to the user owning the longest
matching domain: the domain, www.domain and every *.domain. FTP logs are
xferlog (wu-ftpd, vsftpd, proftpd); webN and its extra FTP users webNfM
count for webN.

Each file is remembered by inode, offset and a hash of its first bytes:
a second run reads only new bytes; a half-written last line waits for the
next run; a log rotated by renaming is finished under its new name
FILE.1 before the new FILE is read from the start; a log truncated by
copytruncate is finished from its copy FILE.1. Lines of unknown vhosts or
FTP logins are stored as unassigned and the top ones are listed; lines that
do not parse are counted and skipped. Sums and offsets are stored in one
transaction: a run that fails stores nothing and the next one reads the
same lines again.

--log-dir reads every access log in DIR (names ending in access.log or
access_log: vcombined) and xferlog (named xferlog or *.xferlog). --format
applies to the --log right before it (default vcombined). Without --log
and --log-dir, ROOT/var/log/apache2 and ROOT/var/log/xferlog are read,
where ROOT is the configured root.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			specs := &logSpecs{}
			fs.Var(logFlag{s: specs, dir: true}, "log-dir", "read the access logs and xferlog in `DIR`; repeatable")
			fs.Var(logFlag{s: specs}, "log", "read the log `FILE`; repeatable")
			fs.Var(formatFlag{s: specs}, "format", "`FORMAT` of the --log before it: vcombined (default) or xferlog")
			top := fs.Int("top", stats.TopUnassigned, "list the `N` unknown vhosts and FTP logins with the most hits")
			workers := fs.Int("workers", 0, "parse a large log with `N` goroutines (default: one per CPU)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *top < 0 {
					return usagef("--top must be 0 or more")
				}
				if *workers < 0 {
					return usagef("--workers must be 0 or more")
				}
				cfg, err := r.loadConfig(d)
				if err != nil {
					return err
				}
				logs, err := resolveLogs(specs.list, cfg.Root)
				if err != nil {
					return err
				}
				st, err := r.openStore(ctx, cfg, true)
				if err != nil {
					return err
				}
				defer st.Close()
				c := &stats.Collector{Store: st, Workers: *workers, Top: *top}
				if *top == 0 {
					c.Top = -1
				}
				start := time.Now()
				rep, err := c.Collect(ctx, logs)
				if err != nil {
					return err
				}
				r.printCollect(rep, time.Since(start))
				return nil
			}
		},
	}
}

// resolveLogs turns the --log and --log-dir flags (or the defaults under
// root) into the list of logs.
func resolveLogs(specs []logSpec, root string) ([]stats.LogFile, error) {
	if len(specs) == 0 {
		// The same default logs the scheduled collection in serve reads.
		logs, err := app.DefaultStatsLogs(root)
		if errors.Is(err, app.ErrNoLogs) {
			return nil, usagef("neither %s nor %s exists; give --log or --log-dir",
				filepath.Join(root, "var/log/apache2"), filepath.Join(root, "var/log/xferlog"))
		}
		return logs, err
	}
	var out []stats.LogFile
	seen := map[string]bool{}
	add := func(lf stats.LogFile) {
		if !seen[lf.Path] {
			seen[lf.Path] = true
			out = append(out, lf)
		}
	}
	for _, s := range specs {
		p, err := filepath.Abs(s.path)
		if err != nil {
			return nil, fmt.Errorf("log %s: %w", s.path, err)
		}
		if s.dir {
			found, err := stats.DiscoverLogs(p)
			if err != nil {
				return nil, fmt.Errorf("--log-dir %s: %w", s.path, err)
			}
			for _, lf := range found {
				add(lf)
			}
			continue
		}
		name := s.format
		if name == "" {
			name = "vcombined"
		}
		f, err := stats.FormatByName(name)
		if err != nil {
			return nil, usagef("--format: %v", err)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("--log %s: %w", s.path, err)
		}
		add(stats.LogFile{Path: p, Format: f})
	}
	if len(out) == 0 {
		return nil, errors.New("no logs found in the given directories")
	}
	return out, nil
}

func (r *runner) printCollect(rep *stats.Report, took time.Duration) {
	w := r.stdout
	mbs := float64(rep.Bytes) / (1 << 20)
	rate := 0.0
	if s := took.Seconds(); s > 0 {
		rate = mbs / s
	}
	fmt.Fprintf(w, "read %d %s: %d lines, %.1f MB in %.2f s (%.0f MB/s)\n",
		len(rep.Files), plural(len(rep.Files), "log", "logs"), rep.Lines, mbs, took.Seconds(), rate)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range rep.Files {
		fmt.Fprintf(tw, "  %s\t%s\t%d lines\t%d malformed\n", f.Path, f.Format, f.Lines, f.Malformed)
	}
	tw.Flush()
	for _, f := range rep.Files {
		for _, n := range f.Notes {
			fmt.Fprintf(w, "  note: %s: %s\n", f.Path, n)
		}
	}
	for src, name := range []string{"web", "ftp", "mail"} {
		if t := rep.Traffic[src]; t.Hits > 0 || t.Bytes > 0 {
			fmt.Fprintf(w, "%-4s traffic: %d bytes (%d MB), %d hits\n", name, t.Bytes, store.BytesToMB(t.Bytes), t.Hits)
		}
	}
	fmt.Fprintf(w, "users with traffic: %d\n", rep.Users)
	if rep.Malformed > 0 {
		fmt.Fprintf(w, "malformed lines skipped: %d\n", rep.Malformed)
	}
	if rep.UnassignedHits > 0 {
		fmt.Fprintf(w, "unassigned: %d hits of unknown vhosts or FTP logins", rep.UnassignedHits)
		if len(rep.Unassigned) > 0 {
			fmt.Fprintf(w, "; the most frequent:\n")
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, u := range rep.Unassigned {
				fmt.Fprintf(tw, "  %s\t%s\t%d hits\t%d bytes\n", u.Source, u.Name, u.Hits, u.Bytes)
			}
			tw.Flush()
		} else {
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "traffic use of this month updated for %d %s\n", rep.UsageChanged, plural(rep.UsageChanged, "user", "users"))
}

func statsDuCommand() *command {
	return &command{
		name:     "stats du",
		synopsis: "[LOGIN]... [--home PATTERN] [--mail PATTERN] [--quota auto|on|off] [--db DSN] [--config FILE]",
		summary:  "measure the storage of users and store it",
		about: `Measures the storage of every user (or of the LOGINs given): home, mail
folder and databases, and stores it in MB (rounded up) as the user's
storage use, which the overview and the stats show (STA-3).

Files count by the blocks they occupy, like du; hard links count once; a
symbolic link is never followed, so a link out of the home costs nothing.
Other file systems mounted inside a home are not counted. A missing
folder counts 0.

The patterns say where the folders are: {root} is the configured root,
{login} the user's login. With user quotas on, the quota report
(repquota -a -u) gives the home's figure instead of a walk: --quota auto
(the default) uses it when there is one, on requires it, off never uses
it.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			home := fs.String("home", stats.DefaultHome, "where a user's home is: a `PATTERN` with {root} and {login}")
			mail := fs.String("mail", stats.DefaultMail, "where a user's mail folder is: a `PATTERN` with {root} and {login}")
			quota := fs.String("quota", string(stats.QuotaAuto), "use quota reports: `MODE` auto, on or off")
			return func(ctx context.Context, args []string) error {
				qm := stats.QuotaMode(*quota)
				if qm != stats.QuotaAuto && qm != stats.QuotaOn && qm != stats.QuotaOff {
					return usagef("--quota must be auto, on or off")
				}
				if err := stats.CheckPattern(*home); err != nil {
					return usagef("--home: %v", err)
				}
				if err := stats.CheckPattern(*mail); err != nil {
					return usagef("--mail: %v", err)
				}
				cfg, err := r.loadConfig(d)
				if err != nil {
					return err
				}
				st, err := r.openStore(ctx, cfg, true)
				if err != nil {
					return err
				}
				defer st.Close()
				m := &stats.Measurer{Store: st, Layout: stats.Layout{Root: cfg.Root, Home: *home, Mail: *mail}, Quota: qm}
				rep, err := m.Measure(ctx, args)
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "%s\n", rep.QuotaNote)
				tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "LOGIN\tHOME (KB)\tMAIL (KB)\tDB (KB)\tSTORED (MB)\t")
				failed := 0
				for _, row := range rep.Rows {
					if row.Err != nil {
						failed++
						fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t\n", row.Login)
						continue
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", row.Login, row.Home/1024, row.Mail/1024, row.DB/1024, row.MB)
				}
				tw.Flush()
				for _, row := range rep.Rows {
					if row.Err != nil {
						fmt.Fprintf(r.stderr, "kontor: %s: %s\n", row.Login, r.describe(row.Err))
					}
				}
				fmt.Fprintf(r.stdout, "%d %s measured\n", len(rep.Rows)-failed, plural(len(rep.Rows)-failed, "user", "users"))
				if failed > 0 {
					return fmt.Errorf("%d %s could not be measured", failed, plural(failed, "user", "users"))
				}
				return nil
			}
		},
	}
}
