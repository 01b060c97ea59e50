package stats

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// Storage (STA-3): a user's home, its mail folder and its databases, in
// MB. Files are counted by the blocks they occupy (st_blocks × 512, as
// du does, so a sparse file counts what it really uses), hard links once,
// symbolic links as links: the walk never follows one, so a link to / in
// a home measures a few bytes, not the server.

// StorageStore is what the storage measurement needs of the store.
type StorageStore interface {
	StatsUsers(ctx context.Context) ([]store.StatsUser, error)
	SetUsage(ctx context.Context, userID int64, r panel.Resource, used int64) error
}

// DBSizer measures the databases of a user in bytes. MariaDB plugs in
// here once databases exist.
type DBSizer interface {
	DatabaseBytes(ctx context.Context, login string) (int64, error)
}

// Layout says where a user's files are. Home and Mail are patterns in
// which {root} is the system root (config root, "/" in production) and
// {login} the user's login.
type Layout struct {
	Root string
	Home string
	Mail string
}

// Default path patterns.
const (
	DefaultHome = "{root}/home/{login}"
	DefaultMail = "{root}/var/mail/{login}"
)

// path expands a pattern for a login. The login must be a valid login, so
// it cannot climb out with ".." or a slash.
func (l Layout) path(pattern, login string) (string, error) {
	if err := panel.ValidateLogin("login", login); err != nil {
		return "", fmt.Errorf("login %q: not a valid login", login)
	}
	root := l.Root
	if root == "" {
		root = "/"
	}
	p := strings.NewReplacer("{root}", root, "{login}", login).Replace(pattern)
	if !filepath.IsAbs(p) || strings.ContainsAny(p, "\x00\r\n") {
		return "", fmt.Errorf("path pattern %q: must give an absolute path", pattern)
	}
	return filepath.Clean(p), nil
}

// CheckPattern validates a path pattern before anything is measured.
func CheckPattern(pattern string) error {
	if !strings.Contains(pattern, "{login}") {
		return fmt.Errorf("path pattern %q: must contain {login}", pattern)
	}
	for _, part := range strings.Split(pattern, "/") {
		if part == ".." {
			return fmt.Errorf("path pattern %q: must not contain \"..\"", pattern)
		}
	}
	_, err := Layout{Root: "/"}.path(pattern, "web1")
	return err
}

// fileID identifies an inode, so a hard-linked file counts once.
type fileID struct{ dev, ino uint64 }

// DirUsage returns the bytes the tree at dir occupies on disk. It never
// follows a symbolic link (dir itself included: a home that is a link
// counts as the link), stays on dir's file system and counts an inode
// with several links once across all calls that share seen. A missing
// dir is 0; files that vanish during the walk are skipped.
func DirUsage(ctx context.Context, dir string, seen map[fileID]bool) (int64, error) {
	if seen == nil {
		seen = map[fileID]bool{}
	}
	rootInfo, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	rootDev := devOf(rootInfo)
	var total int64
	n := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		info, err := d.Info() // lstat: never follows the link
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			total += info.Size()
			return nil
		}
		if uint64(st.Dev) != rootDev {
			// Another file system mounted inside: not this user's space.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if st.Nlink > 1 && !d.IsDir() {
			id := fileID{uint64(st.Dev), st.Ino}
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		total += st.Blocks * 512
		return nil
	})
	return total, err
}

func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// Quotas are the block use per login from the quota reports of all file
// systems with user quotas, in bytes.
type Quotas map[string]int64

// ParseRepquota reads the output of `repquota -a -u -O csv`: per file
// system a header line "User,BlockStatus,FileStatus,BlockUsed,…" and a
// line per user whose BlockUsed is in KiB. Use on several file systems is
// added up.
func ParseRepquota(out []byte) (Quotas, error) {
	q := Quotas{}
	col := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if f[0] == "User" {
			col = -1
			for i, name := range f {
				if name == "BlockUsed" {
					col = i
				}
			}
			if col < 0 {
				return nil, fmt.Errorf("repquota line %d: no BlockUsed column", n)
			}
			continue
		}
		if col < 0 || col >= len(f) {
			return nil, fmt.Errorf("repquota line %d: unexpected %q", n, line)
		}
		kib, err := strconv.ParseInt(f[col], 10, 64)
		if err != nil || kib < 0 {
			return nil, fmt.Errorf("repquota line %d: block use %q is not a number", n, f[col])
		}
		q[f[0]] += kib * 1024
	}
	return q, sc.Err()
}

// QuotaMode says whether quota reports are used.
type QuotaMode string

// Quota modes.
const (
	QuotaAuto QuotaMode = "auto" // used when repquota reports quotas
	QuotaOn   QuotaMode = "on"   // required: a failure fails the run
	QuotaOff  QuotaMode = "off"
)

// ReadQuotas runs repquota. ok is false when quotas are off or repquota
// is missing: then homes are walked.
func ReadQuotas(ctx context.Context) (q Quotas, ok bool, err error) {
	path, err := exec.LookPath("repquota")
	if err != nil {
		return nil, false, fmt.Errorf("repquota not found (Debian package quota): %w", err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-a", "-u", "-O", "csv")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, false, fmt.Errorf("repquota: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	q, err = ParseRepquota(out)
	if err != nil {
		return nil, false, err
	}
	return q, len(q) > 0, nil
}

// StorageRow is the measured storage of one user.
type StorageRow struct {
	UserID int64
	Login  string
	Home   int64 // bytes
	Mail   int64
	DB     int64
	// FromQuota: Home is the quota report's figure, not a walk.
	FromQuota bool
	MB        int64 // what was stored
	Err       error // why this user was not measured
}

// Measurer measures storage and stores it (STA-3).
type Measurer struct {
	Store  StorageStore
	Layout Layout
	DB     DBSizer // nil until databases exist
	Quota  QuotaMode
	// ReadQuotas replaces the repquota call (tests).
	ReadQuotas func(ctx context.Context) (Quotas, bool, error)
}

// MeasureReport is what a run did.
type MeasureReport struct {
	Rows []StorageRow
	// QuotaNote says whether quota reports were used and, if not, why.
	QuotaNote string
}

// Measure measures the users (all when logins is empty) and stores each
// one's storage in MB through SetUsage, which keeps the reseller totals
// in step. A user that cannot be measured keeps its old figure and is
// reported; the others are stored.
func (m *Measurer) Measure(ctx context.Context, logins []string) (*MeasureReport, error) {
	if err := CheckPattern(m.Layout.home()); err != nil {
		return nil, err
	}
	if err := CheckPattern(m.Layout.mail()); err != nil {
		return nil, err
	}
	users, err := m.Store.StatsUsers(ctx)
	if err != nil {
		return nil, err
	}
	if len(logins) > 0 {
		byLogin := map[string]store.StatsUser{}
		for _, u := range users {
			byLogin[u.Login] = u
		}
		users = users[:0:0]
		for _, l := range logins {
			u, ok := byLogin[l]
			if !ok {
				return nil, &panel.Error{Kind: panel.KindNotFound, Field: "user", Key: "err.notfound", Args: []any{"user " + l}}
			}
			users = append(users, u)
		}
	}
	rep := &MeasureReport{}
	var quotas Quotas
	useQuota := false
	switch m.Quota {
	case QuotaOff:
		rep.QuotaNote = "quota reports off: homes walked"
	default:
		read := m.ReadQuotas
		if read == nil {
			read = ReadQuotas
		}
		q, ok, err := read(ctx)
		switch {
		case err != nil && m.Quota == QuotaOn:
			return nil, err
		case err != nil:
			rep.QuotaNote = fmt.Sprintf("no quota reports (%v): homes walked", err)
		case !ok && m.Quota == QuotaOn:
			return nil, errors.New("repquota reports no file system with user quotas")
		case !ok:
			rep.QuotaNote = "no file system with user quotas: homes walked"
		default:
			quotas, useQuota = q, true
			rep.QuotaNote = "homes from the quota reports"
		}
	}
	for _, u := range users {
		row := StorageRow{UserID: u.ID, Login: u.Login}
		row.Err = m.measure(ctx, &row, quotas, useQuota)
		if row.Err == nil {
			row.MB = store.BytesToMB(row.Home + row.Mail + row.DB)
			row.Err = m.Store.SetUsage(ctx, u.ID, panel.ResStorage, row.MB)
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func (l Layout) home() string {
	if l.Home == "" {
		return DefaultHome
	}
	return l.Home
}

func (l Layout) mail() string {
	if l.Mail == "" {
		return DefaultMail
	}
	return l.Mail
}

func (m *Measurer) measure(ctx context.Context, row *StorageRow, quotas Quotas, useQuota bool) error {
	home, err := m.Layout.path(m.Layout.home(), row.Login)
	if err != nil {
		return err
	}
	mail, err := m.Layout.path(m.Layout.mail(), row.Login)
	if err != nil {
		return err
	}
	seen := map[fileID]bool{}
	if b, ok := quotas[row.Login]; useQuota && ok {
		// The quota counts every block the user owns on the file system,
		// which is what the quota enforces.
		row.Home, row.FromQuota = b, true
	} else if row.Home, err = DirUsage(ctx, home, seen); err != nil {
		return fmt.Errorf("home %s: %w", home, err)
	}
	// A mail folder inside the home is counted with it.
	if !strings.HasPrefix(mail+"/", home+"/") {
		if row.Mail, err = DirUsage(ctx, mail, seen); err != nil {
			return fmt.Errorf("mail %s: %w", mail, err)
		}
	}
	if m.DB != nil {
		if row.DB, err = m.DB.DatabaseBytes(ctx, row.Login); err != nil {
			return fmt.Errorf("databases: %w", err)
		}
	}
	return nil
}
