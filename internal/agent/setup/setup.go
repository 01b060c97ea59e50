// Package setup assembles the agent's daemons for one mode: "system" (a
// Debian 12 server: the daemons' own checkers, reloads and account
// commands run) or "sandbox" (kontor demo: files are written under the
// sandbox root, nothing else on the machine changes). It is wiring only;
// each daemon's behaviour lives in its own package.
package setup

import (
	"errors"

	"kontor/internal/agent"
	"kontor/internal/agent/apache"
	"kontor/internal/agent/bind"
	"kontor/internal/agent/cron"
	"kontor/internal/agent/mysql"
	"kontor/internal/agent/unix"
	"kontor/internal/agent/webalizer"
	"kontor/internal/store"
)

// Options select the mode and the few settings that come from the
// configuration file.
type Options struct {
	Mode     string // "system" or "sandbox"
	MySQLDSN string
	UIDBase  int
}

// HomeBase is where the homes are in both modes (under the root).
const HomeBase = "/home"

// Daemons returns the daemons in apply order — accounts first, their
// removal last, so files always belong to an existing account — and a
// function that releases their connections.
func Daemons(opt Options) ([]agent.Daemon, func() error, error) {
	acc := unix.DefaultOptions()
	acc.HomeBase = HomeBase
	if opt.UIDBase > 0 {
		// webN: base+N; the resellers' own accounts: base+offset+M.
		acc.UIDMin, acc.UIDMax = opt.UIDBase, opt.UIDBase+store.DefaultUIDOffset+9999
	}
	ap := apache.DefaultDaemon()
	ap.Opt.HomeBase = HomeBase
	dns := bind.DefaultDaemon()
	cr := cron.Daemon{Opt: cron.DefaultOptions()}
	wa := webalizer.Daemon{Opt: webalizer.DefaultOptions()}
	switch opt.Mode {
	case "system":
		my := mysql.New(mysql.Options{DSN: opt.MySQLDSN})
		ds := []agent.Daemon{unix.Accounts{Opt: acc}, ap, dns, my, cr, wa, unix.Removal{Opt: acc}}
		return ds, my.Close, nil
	case "sandbox":
		acc.Sandbox = true
		acc.SSHDCheck, acc.SSHDReload = nil, nil
		ap.Check, ap.Reload, ap.FPMBin, ap.FPMReload = nil, nil, "", nil
		dns.CheckZone, dns.CheckConf, dns.ReloadZone, dns.Reconfig = nil, nil, nil, nil
		// No MariaDB in the sandbox: databases are the one part a demo
		// cannot show without touching a real server.
		ds := []agent.Daemon{unix.Accounts{Opt: acc}, ap, dns, cr, wa, unix.Removal{Opt: acc}}
		return ds, func() error { return nil }, nil
	}
	return nil, nil, errors.New("setup: agent_mode must be system or sandbox")
}
