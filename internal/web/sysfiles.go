package web

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
)

// The demo's "System files" page (issue 4): a read-only view of what the
// agent generated under the sandbox root, so a newcomer sees the vhosts,
// pools, zones and crontabs a change produces. It exists only with a
// sandbox root; a production panel never reads the server's files (the
// web process is unprivileged, SYS-3).

// sysFileRoots are the directories the page shows.
var sysFileRoots = []string{
	"/etc/apache2", "/etc/php/kontor", "/etc/kontor", "/etc/ssh/sshd_config.d",
	"/var/lib/kontor", "/var/spool/cron/crontabs", "/home", "/var/www",
}

// maxShown bounds a file shown on the page.
const maxShown = 256 << 10

type sysEntry struct {
	Path string
	Dir  bool
}

type sysFilesData struct {
	Roots   []string
	Path    string
	Parent  string
	Entries []sysEntry
	Content string
	IsFile  bool
	TooBig  bool
}

func (s *Server) registerSystemFiles() {
	if s.sandbox == "" {
		return
	}
	s.handle("GET", "/admin/system-files", panel.RoleAdmin, s.systemFiles)
}

// inSysRoots reports whether p is one of the shown directories or below.
func inSysRoots(p string) bool {
	for _, r := range sysFileRoots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

func (s *Server) systemFiles(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.system_files", "server"
	d := sysFilesData{Roots: sysFileRoots}
	want := r.URL.Query().Get("path")
	if want != "" {
		// fsys refuses "..", NUL and symlinks itself; the roots keep the
		// page to the agent's own files.
		if path.Clean(want) != want || !inSysRoots(want) {
			s.fail(w, r, p, panel.Invalid("path", "err.sysfiles.path"))
			return
		}
		root, err := fsys.Open(s.sandbox)
		if err != nil {
			s.fail(w, r, p, panel.Internal(err))
			return
		}
		d.Path, d.Parent = want, path.Dir(want)
		if !inSysRoots(d.Parent) {
			d.Parent = ""
		}
		if data, err := root.ReadFile(want); err == nil {
			d.IsFile = true
			if len(data) > maxShown {
				data, d.TooBig = data[:maxShown], true
			}
			d.Content = string(data)
		} else if errors.Is(err, fsys.ErrNotRegular) || errors.Is(err, fs.ErrNotExist) {
			names, err := root.ReadDir(want)
			if err != nil {
				s.fail(w, r, p, panel.NotFound("path"))
				return
			}
			for _, n := range names {
				c := want + "/" + n
				_, ferr := root.ReadFile(c)
				d.Entries = append(d.Entries, sysEntry{Path: c, Dir: errors.Is(ferr, fsys.ErrNotRegular)})
			}
		} else {
			s.fail(w, r, p, panel.NotFound("path"))
			return
		}
	}
	p.Data = d
	s.render(w, http.StatusOK, "admin_sysfiles", p)
}
