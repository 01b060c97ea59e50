package bind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"kontor/internal/agent"
)

// Daemon applies the DNS side of a batch (SYS-1): one zone file per domain
// with the DNS flag and one named.conf fragment declaring them. Every
// changed zone is checked with named-checkzone in the staging directory
// before it replaces the live file, the fragment with named-checkconf, and
// only the changed zones are reloaded (rndc reload ZONE); a changed zone
// list is one rndc reconfig.
//
// The fragment is also the daemon's index of which user serves which zone
// (an owner comment per line), so an incremental batch reads the zone
// files of its own users only, not all thirty thousand.
type Daemon struct {
	// ZoneDir holds the live zone files and the fragment; the main
	// named.conf includes ZoneDir/named.conf.kontor.
	ZoneDir  string // DefaultZoneDir
	StageDir string // "/var/lib/kontor/stage/bind"
	// CheckZone and CheckConf are the checkers' argv prefixes: the zone
	// name and file, or the fragment's file, are appended. nil skips.
	CheckZone []string // {"named-checkzone"}
	CheckConf []string // {"named-checkconf"}
	// ReloadZone is appended the zone name; Reconfig runs when the zone
	// list changed. nil skips (the demo sandbox).
	ReloadZone []string // {"rndc", "reload"}
	Reconfig   []string // {"rndc", "reconfig"}
	// MaxZoneReloads: past this many changed zones one full `rndc reload`
	// (ReloadZone without a zone) is cheaper than one call per zone.
	MaxZoneReloads int

	// memo keeps the fragment between batches (nil: none): a full run of
	// 10,000 users in chunks of 500 would otherwise parse and render all
	// 30,000 zone lines twice per chunk, with each domain checked.
	memo *fragmentMemo
}

// fragmentMemo is the fragment as last parsed and as last rendered.
type fragmentMemo struct {
	mu      sync.Mutex
	parsed  []byte
	refs    []ZoneRef
	canon   []byte // what RenderNamedConf made for canonDir
	canonOf string
}

// parse is ParseNamedConf, remembered for the same bytes. The refs are
// shared: callers only read them.
func (m *fragmentMemo) parse(conf []byte) []ZoneRef {
	if m == nil {
		return ParseNamedConf(conf)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs == nil || !bytes.Equal(m.parsed, conf) {
		m.parsed, m.refs = bytes.Clone(conf), ParseNamedConf(conf)
	}
	return m.refs
}

// rendered reports whether conf is what RenderNamedConf made for zoneDir
// from the zones conf declares, so that the same zones render the same.
func (m *fragmentMemo) rendered(conf []byte, zoneDir string) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.canon != nil && m.canonOf == zoneDir && bytes.Equal(m.canon, conf)
}

func (m *fragmentMemo) render(conf []byte, zoneDir string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.canon, m.canonOf = bytes.Clone(conf), zoneDir
}

// DefaultDaemon returns the production daemon for Debian 12.
func DefaultDaemon() Daemon {
	return Daemon{
		ZoneDir:        DefaultZoneDir,
		StageDir:       "/var/lib/kontor/stage/bind",
		CheckZone:      []string{"named-checkzone"},
		CheckConf:      []string{"named-checkconf"},
		ReloadZone:     []string{"rndc", "reload"},
		Reconfig:       []string{"rndc", "reconfig"},
		MaxZoneReloads: 50,
		memo:           &fragmentMemo{},
	}
}

// Name implements agent.Daemon.
func (d Daemon) Name() string { return "bind" }

// Apply implements agent.Daemon.
func (d Daemon) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	var res agent.Result
	if err := checkDir("zone_dir", d.ZoneDir); err != nil {
		res.Err = err
		return res
	}
	if err := checkDir("stage_dir", d.StageDir); err != nil {
		res.Err = err
		return res
	}
	for _, dir := range []string{d.ZoneDir, d.StageDir} {
		if err := env.FS.MkdirAll(dir, 0o755, 0, 0); err != nil {
			res.Err = fmt.Errorf("bind: %w", err)
			return res
		}
	}
	confPath := d.ZoneDir + "/" + NamedConfFile
	oldConf, err := env.FS.ReadFile(confPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		res.Err = fmt.Errorf("bind: %w", err)
		return res
	}
	owner := make(map[string]string) // domain → login, as declared now
	byOwner := make(map[string][]string)
	for _, r := range d.memo.parse(oldConf) {
		owner[r.Domain] = r.Owner
		byOwner[r.Owner] = append(byOwner[r.Owner], r.Domain)
	}
	declared := make(map[string]bool, len(owner))
	for dmn := range owner {
		declared[dmn] = true
	}

	today := env.Now()
	type write struct {
		domain string
		body   []byte
	}
	var writes []write
	removed := make(map[string]bool)
	ownersChanged := false // owner differs from the fragment on disk
	keep := make(map[string]bool, len(b.Users))
	for _, u := range b.Users {
		keep[u.Login] = true
		if b.SweepOnly {
			continue
		}
		prev := make(map[string]ZoneState)
		onDisk := make(map[string][]byte) // read once, compared below
		for _, dmn := range append(byOwner[u.Login], desiredZones(u)...) {
			if _, seen := onDisk[dmn]; seen || checkDomain(u.Login, "domain", dmn) != nil {
				continue
			}
			body, err := env.FS.ReadFile(d.ZoneDir + "/" + ZoneFile(dmn))
			if err != nil {
				continue
			}
			onDisk[dmn] = body
			if st, err := StateOf(body); err == nil {
				prev[dmn] = st
			}
		}
		zones, err := RenderUser(b.Server, u, prev, today)
		if err != nil {
			res.Fail(u.ID, err)
			continue
		}
		// Check every changed zone in the staging directory first.
		var failed error
		var uw []write
		for _, z := range zones {
			if o, taken := owner[z.Domain]; taken && o != u.Login && keep[o] {
				failed = fieldErr(u.Login, "domains.name", z.Domain, "already served for user %q", o)
				break
			}
			if cur, ok := onDisk[z.Domain]; !z.Changed && ok && bytes.Equal(cur, z.Body) {
				continue
			}
			if err := d.checkZone(ctx, env, z); err != nil {
				failed = err
				break
			}
			uw = append(uw, write{z.Domain, z.Body})
		}
		if failed != nil {
			res.Fail(u.ID, failed)
			continue
		}
		writes = append(writes, uw...)
		now := make(map[string]bool, len(zones))
		for _, z := range zones {
			now[z.Domain] = true
			if o, ok := owner[z.Domain]; !ok || o != u.Login {
				owner[z.Domain] = u.Login
				ownersChanged = true
			}
		}
		for _, dmn := range byOwner[u.Login] {
			if !now[dmn] && owner[dmn] == u.Login {
				delete(owner, dmn)
				ownersChanged = true
				removed[dmn] = true
			}
		}
	}
	for _, g := range b.Gone {
		if keep[g.Login] {
			continue
		}
		for _, dmn := range byOwner[g.Login] {
			if owner[dmn] == g.Login {
				delete(owner, dmn)
				ownersChanged = true
				removed[dmn] = true
			}
		}
	}
	if b.Full || b.SweepOnly {
		for dmn, o := range owner {
			if !keep[o] {
				delete(owner, dmn)
				ownersChanged = true
				removed[dmn] = true
			}
		}
		// Zone files nobody declares (a crash between writing a zone and
		// the fragment) go too.
		names, _ := env.FS.ReadDir(d.ZoneDir)
		for _, n := range names {
			if dmn, ok := strings.CutSuffix(n, ".zone"); ok {
				if _, live := owner[dmn]; !live && checkDomain("", "domain", dmn) == nil {
					removed[dmn] = true
				}
			}
		}
	}

	// The same zones for the same owners render the same fragment: when
	// the one on disk is what was rendered last, it is kept as it is.
	conf := oldConf
	if ownersChanged || !d.memo.rendered(oldConf, d.ZoneDir) {
		refs := make([]ZoneRef, 0, len(owner))
		for dmn, o := range owner {
			refs = append(refs, ZoneRef{Domain: dmn, Owner: o})
		}
		if conf, err = RenderNamedConf(refs, d.ZoneDir); err != nil {
			res.Err = err
			return res
		}
		d.memo.render(conf, d.ZoneDir)
	}
	confChanged := !bytes.Equal(conf, oldConf)
	if confChanged && len(d.CheckConf) > 0 {
		staged := d.StageDir + "/" + NamedConfFile
		if _, err := env.FS.WriteFile(staged, conf, 0o644, 0, 0); err != nil {
			res.Err = fmt.Errorf("bind: %w", err)
			return res
		}
		hp := hostPath(env.FS, staged)
		if out, err := env.Run.Run(ctx, d.CheckConf[0], append(d.CheckConf[1:], hp)...); err != nil {
			res.Err = fmt.Errorf("named-checkconf: %s", strings.TrimSpace(string(out)+" "+err.Error()))
			return res
		}
	}

	// Swap: zone files first, then the fragment that declares them, then
	// the removals (after the fragment stopped declaring them).
	for _, w := range writes {
		if _, err := env.FS.WriteFile(d.ZoneDir+"/"+ZoneFile(w.domain), w.body, 0o644, 0, 0); err != nil {
			res.Err = fmt.Errorf("bind: %w", err)
			return res
		}
	}
	if confChanged {
		if _, err := env.FS.WriteFile(confPath, conf, 0o644, 0, 0); err != nil {
			res.Err = fmt.Errorf("bind: %w", err)
			return res
		}
	}
	for dmn := range removed {
		if err := env.FS.Remove(d.ZoneDir + "/" + ZoneFile(dmn)); err != nil {
			res.Err = fmt.Errorf("bind: %w", err)
			return res
		}
		_ = env.FS.Remove(d.StageDir + "/" + ZoneFile(dmn))
	}
	res.Changed = confChanged || len(writes) > 0 || len(removed) > 0
	if res.Changed {
		if err := agent.Sync(env.FS); err != nil {
			res.Err = fmt.Errorf("bind: %w", err)
			return res
		}
	}

	// Reload: new or removed zones need reconfig; changed zones that were
	// declared before need a reload of just that zone.
	if confChanged && len(d.Reconfig) > 0 {
		if out, err := env.Run.Run(ctx, d.Reconfig[0], d.Reconfig[1:]...); err != nil {
			res.Err = fmt.Errorf("rndc reconfig: %s", strings.TrimSpace(string(out)+" "+err.Error()))
			return res
		}
	}
	if len(d.ReloadZone) > 0 {
		var reload []string
		for _, w := range writes {
			if declared[w.domain] {
				reload = append(reload, w.domain)
			}
		}
		sort.Strings(reload)
		if d.MaxZoneReloads > 0 && len(reload) > d.MaxZoneReloads {
			reload = []string{""}
		}
		for _, z := range reload {
			args := d.ReloadZone[1:]
			if z != "" {
				args = append(append([]string(nil), args...), z)
			}
			if out, err := env.Run.Run(ctx, d.ReloadZone[0], args...); err != nil {
				res.Err = fmt.Errorf("rndc reload %s: %s", z, strings.TrimSpace(string(out)+" "+err.Error()))
				return res
			}
		}
	}
	return res
}

// desiredZones are the user's domains with the DNS flag.
func desiredZones(u agent.User) []string {
	var out []string
	for _, dmn := range u.Domains {
		if dmn.DNS {
			out = append(out, dmn.Name)
		}
	}
	return out
}

// checkZone writes z into the staging directory and runs named-checkzone
// on it; the checker's own words become the user's error.
func (d Daemon) checkZone(ctx context.Context, env agent.Env, z Zone) error {
	if len(d.CheckZone) == 0 {
		return nil
	}
	staged := d.StageDir + "/" + ZoneFile(z.Domain)
	if _, err := env.FS.WriteFile(staged, z.Body, 0o644, 0, 0); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	args := append(append([]string(nil), d.CheckZone[1:]...), z.Domain, hostPath(env.FS, staged))
	if out, err := env.Run.Run(ctx, d.CheckZone[0], args...); err != nil {
		return fmt.Errorf("named-checkzone %s: %s", z.Domain, strings.TrimSpace(string(out)+" "+err.Error()))
	}
	return nil
}

// hostPath returns where p is on the host, for handing it to a checker.
func hostPath(fsys agent.FS, p string) string {
	if r, ok := fsys.(interface{ HostPath(string) (string, error) }); ok {
		if hp, err := r.HostPath(p); err == nil {
			return hp
		}
	}
	return p
}
