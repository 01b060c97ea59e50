package unix

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// NoticeQuotaUnsupported is the notice of a filesystem without user
// quotas: the storage limits are then not enforced (the loop records it
// once in the admin's Messages).
const NoticeQuotaUnsupported = "quota.unsupported"

// quotaState is the outcome of looking at the filesystem of the homes.
type quotaState struct {
	fs        string // the mount point setquota acts on
	supported bool
}

// mountsPath returns the mount table to read: /proc/mounts is a symlink
// to self/mounts and /proc/self a symlink too, and env.FS follows none,
// so the agent reads its own process's table by pid.
func mountsPath(o Options) string {
	if o.Mounts != "" {
		return o.Mounts
	}
	return "/proc/" + strconv.Itoa(os.Getpid()) + "/mounts"
}

// detectQuota finds the filesystem of the homes (or QuotaFS) in the mount
// table and whether user quotas are on for it (usrquota, usrjquota=… or
// quota in the mount options). A table that cannot be read means "not
// supported": the notice says so, and no setquota runs against an
// unknown filesystem.
func detectQuota(fsys agent.FS, o Options) quotaState {
	st := quotaState{fs: o.QuotaFS}
	b, err := fsys.ReadFile(mountsPath(o))
	if err != nil {
		if st.fs == "" {
			st.fs = o.HomeBase
		}
		return st
	}
	type mount struct{ dir, opts string }
	var best *mount
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		m := mount{dir: unescapeMount(f[1]), opts: f[3]}
		if o.QuotaFS != "" {
			if m.dir == o.QuotaFS {
				best = &m // a later mount on the same point hides earlier ones
			}
			continue
		}
		if within(o.HomeBase, m.dir) && (best == nil || len(m.dir) >= len(best.dir)) {
			best = &m
		}
	}
	if best == nil {
		if st.fs == "" {
			st.fs = o.HomeBase
		}
		return st
	}
	st.fs = best.dir
	for _, opt := range strings.Split(best.opts, ",") {
		if opt == "usrquota" || opt == "quota" || strings.HasPrefix(opt, "usrjquota=") {
			st.supported = true
		}
	}
	return st
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// unescapeMount undoes the octal escapes of /proc/mounts (\040 for a
// space, \011, \012, \134).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// quotaBlocks converts the storage limit (MB; -1 unlimited, 0 none set)
// to setquota's 1 KB blocks, 0 meaning no limit.
func quotaBlocks(l panel.Limits) (int64, error) {
	mb := l.Get(panel.ResStorage)
	switch {
	case mb <= 0:
		return 0, nil
	case mb > math.MaxInt64/1024:
		return 0, fmt.Errorf("storage limit %d MB is too large", mb)
	}
	return mb * 1024, nil
}

// quotaArgs is the argument list of setquota for a user: block soft and
// hard limit the same (the panel has one storage limit), no inode limit.
func quotaArgs(login string, blocks int64, fs string) []string {
	n := strconv.FormatInt(blocks, 10)
	return []string{"-u", login, n, n, "0", "0", fs}
}

// checkQuotaFS validates a mount point found in the mount table before it
// reaches setquota's argument list.
func checkQuotaFS(p string) error {
	if err := checkPath("quota_fs", p); err != nil {
		return fmt.Errorf("quota filesystem %q: %w", p, err)
	}
	return nil
}
