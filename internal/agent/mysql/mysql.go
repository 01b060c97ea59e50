// Package mysql manages the MariaDB side of a hosting server (USR-7, SYS-1):
// each user's databases and the one database login named like the user,
// with the password hash the panel keeps, its host ("localhost", or "%"
// when external access is on), ALL privileges on the user's databases and
// on nothing else, and ACCOUNT LOCK while the user is locked (every
// database is kept).
//
// The agent owns a name space and touches nothing outside it: logins
// <prefix><digits> (web1, web2, …) and databases <login>_<suffix>
// ([a-z0-9_], at most 64 characters). Every name is checked against those
// patterns before it reaches a statement, since identifiers cannot be
// bound as parameters.
//
// Dropping a database destroys customer data, so it happens in two cases
// only:
//   - the user is deleted (Batch.Gone): its databases and its login on
//     every host are dropped;
//   - on a full run, a database or login of the name space whose owner is
//     none of the server's users (deleted while the agent was down) is
//     dropped the same way.
//
// MariaDB checks an account only when a session logs in, so the sessions
// already open when a login is locked or dropped are ended with KILL
// CONNECTION, and those from other hosts when external access is switched
// off: a locked or deleted customer's long-running application, or a
// client elsewhere once external access is off, does not keep its rights.
// (A password change ends no session: the customer's own applications
// would drop out before their configuration was updated.)
//
// A database that a live user no longer lists keeps its data; the login
// only loses its grant on it. A user without databases has no login (it
// is dropped if one exists), but its databases stay.
//
// MariaDB is talked to over a connection, not through files, so a dry run
// reads the current state, executes nothing and records each statement it
// would run with env.Plan (password hashes masked).
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"kontor/internal/agent"
)

// Options configures the daemon. Zero fields take the defaults.
type Options struct {
	// DSN is the root connection in go-sql-driver/mysql form. Debian's
	// root authenticates by unix_socket, so the agent (running as root)
	// needs no password.
	DSN string // "root@unix(/run/mysqld/mysqld.sock)/"
	// Prefix names the agent's name space: logins are Prefix plus digits.
	Prefix string // "web"
}

// DefaultOptions returns the production settings.
func DefaultOptions() Options {
	return Options{DSN: "root@unix(/run/mysqld/mysqld.sock)/", Prefix: "web"}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.DSN == "" {
		o.DSN = d.DSN
	}
	if o.Prefix == "" {
		o.Prefix = d.Prefix
	}
	return o
}

// Daemon is the MariaDB daemon of the agent. Its connection pool is
// opened on first use and kept until Close.
type Daemon struct {
	Opt Options

	mu sync.Mutex
	db *sql.DB
}

var _ agent.Daemon = (*Daemon)(nil)

// New returns a daemon with opt (zero fields take the defaults).
func New(opt Options) *Daemon { return &Daemon{Opt: opt.withDefaults()} }

// Name implements agent.Daemon.
func (d *Daemon) Name() string { return "mysql" }

// Close closes the connection pool, if open.
func (d *Daemon) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		return nil
	}
	err := d.db.Close()
	d.db = nil
	return err
}

// conn returns the pool, opening it on first use, and checks the server
// answers.
func (d *Daemon) conn(ctx context.Context) (*sql.DB, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		cfg, err := mysql.ParseDSN(d.Opt.withDefaults().DSN)
		if err != nil {
			return nil, fmt.Errorf("mysql: bad DSN: %w", err)
		}
		if cfg.Timeout == 0 {
			cfg.Timeout = 10 * time.Second
		}
		// One statement per call; never several in one string.
		cfg.MultiStatements = false
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, fmt.Errorf("mysql: %w", err)
		}
		d.db = sql.OpenDB(c)
		d.db.SetMaxOpenConns(2)
		d.db.SetConnMaxIdleTime(time.Minute)
	}
	if err := d.db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("mysql: connecting to the server: %w", err)
	}
	return d.db, nil
}

// Apply implements agent.Daemon; see the package comment for what it
// does. A failure of one user (bad input, a statement the server refuses)
// is recorded for that user with the server's own text, and the others
// carry on; the statements already run for that user stay (they are each
// correct on their own) and the next run completes the rest.
func (d *Daemon) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	var res agent.Result
	n := names{prefix: d.Opt.withDefaults().Prefix}
	if !prefixRe.MatchString(n.prefix) {
		res.Err = fmt.Errorf("mysql: prefix %q must be 1 to 16 lower-case letters", n.prefix)
		return res
	}
	db, err := d.conn(ctx)
	if err != nil {
		res.Err = err
		return res
	}

	var logins []string // nil: the whole name space
	if !b.Full && !b.SweepOnly {
		logins = []string{}
		for _, u := range b.Users {
			if n.isLogin(u.Login) {
				logins = append(logins, u.Login)
			}
		}
		for _, g := range b.Gone {
			if n.isLogin(g.Login) {
				logins = append(logins, g.Login)
			}
		}
	}
	cur, err := n.load(ctx, db, logins)
	if err != nil {
		res.Err = err
		return res
	}

	run := func(stmts []stmt) error {
		for _, s := range stmts {
			res.Changed = true
			if env.DryRun {
				env.Plan(s.Show)
				continue
			}
			if _, err := db.ExecContext(ctx, s.SQL); err != nil {
				return fmt.Errorf("%s: %w", s.Show, err)
			}
		}
		return nil
	}

	owners := map[string]bool{} // every login of the batch, checked or not
	for _, u := range b.Users {
		owners[u.Login] = true
		if b.SweepOnly {
			continue
		}
		w, err := n.checkUser(u)
		if errors.Is(err, errNotOurs) && len(u.Databases) == 0 {
			continue // owns nothing of ours
		}
		if err == nil {
			var stmts []stmt
			if stmts, err = planUser(cur, w); err == nil {
				err = run(stmts)
			}
			if err == nil {
				err = d.endSessions(ctx, db, env, &res, w.login, cutFor(cur, w))
			}
		}
		if err != nil {
			res.Fail(u.ID, err)
		}
	}

	for _, g := range b.Gone {
		if owners[g.Login] {
			continue // the login was given to a user again
		}
		if !n.isLogin(g.Login) {
			continue // never ours: nothing to remove
		}
		owners[g.Login] = true // done here; not an orphan below
		stmts, err := planGone(cur, g.Login)
		if err == nil {
			err = run(stmts)
		}
		if err == nil {
			err = d.endSessions(ctx, db, env, &res, g.Login, cutGone(cur, g.Login))
		}
		if err != nil {
			res.Fail(g.ID, err)
		}
	}

	if b.Full || b.SweepOnly {
		for _, login := range orphans(cur, owners) {
			stmts, err := planGone(cur, login)
			if err == nil {
				err = run(stmts)
			}
			if err == nil {
				err = d.endSessions(ctx, db, env, &res, login, cutGone(cur, login))
			}
			if err != nil {
				res.Notices = append(res.Notices, agent.Notice{Key: "mysql.orphan_failed", Args: []any{login, err.Error()}})
			}
		}
	}
	return res
}

// endSessions ends the sessions of login that c names, after its
// statements locked or dropped the account (so none can log in again
// meanwhile). A session that ended by itself in between is no error.
func (d *Daemon) endSessions(ctx context.Context, db *sql.DB, env agent.Env, res *agent.Result, login string, c sessionCut) error {
	if c == keepSessions {
		return nil
	}
	if env.DryRun {
		env.Plan(c.plan(login))
		return nil
	}
	rows, err := db.QueryContext(ctx, "SELECT ID, HOST FROM information_schema.PROCESSLIST WHERE USER = ?", login)
	if err != nil {
		return fmt.Errorf("mysql: reading the sessions of %s: %w", login, err)
	}
	var ids []uint64
	for rows.Next() {
		var id uint64
		var host string
		if err := rows.Scan(&id, &host); err != nil {
			rows.Close()
			return fmt.Errorf("mysql: reading the sessions of %s: %w", login, err)
		}
		if c == endRemote && localClient(host) {
			continue
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mysql: reading the sessions of %s: %w", login, err)
	}
	for _, id := range ids {
		q := "KILL CONNECTION " + strconv.FormatUint(id, 10)
		_, err := db.ExecContext(ctx, q)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == errNoSuchThread {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s (a session of %s): %w", q, login, err)
		}
		res.Changed = true
	}
	return nil
}

// errNoSuchThread is MariaDB's ER_NO_SUCH_THREAD: the session is gone.
const errNoSuchThread = 1094
