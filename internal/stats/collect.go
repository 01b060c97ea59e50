package stats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"kontor/internal/store"
)

// TrafficStore is what the collector needs of the store.
type TrafficStore interface {
	TrafficTargets(ctx context.Context) (domains, logins map[string]int64, err error)
	LogOffsets(ctx context.Context) (map[string][]store.LogOffset, int64, error)
	CommitTraffic(ctx context.Context, b store.TrafficBatch) (int, error)
}

// LogFile is one log the collector reads: a path and its format.
type LogFile struct {
	Path   string
	Format Format
}

// Collector reads logs into the store (STA-3).
type Collector struct {
	Store TrafficStore
	// Workers parse a large file in parallel; GOMAXPROCS when 0.
	Workers int
	// BufferSize is each worker's window of the file (mapped or read);
	// DefaultBufferSize when 0.
	BufferSize int
	// Now is the clock that decides the current month; time.Now when nil.
	Now func() time.Time
	// Top is how many unknown names the report lists; TopUnassigned
	// when 0, none when negative.
	Top int

	minSplit int64 // tests split small files between workers
}

// RotatedSuffix is where a rotated log is looked for next to the log.
const RotatedSuffix = ".1"

// fpMax is how many first bytes of a file its fingerprint covers.
const fpMax = 1024

// FileReport is what one run did with one log path.
type FileReport struct {
	Path      string
	Format    string
	Bytes     int64 // log bytes read
	Lines     int64
	Malformed int64
	// Notes describe rotations and anything the operator should know,
	// such as a rotated file that was not found.
	Notes []string
}

// Report is what one run did.
type Report struct {
	Files []FileReport
	// Traffic per source over all users.
	Traffic [numSources]Sum
	// Users is how many users got traffic.
	Users int
	// Unassigned are the names with the most unknown hits, Unassigned
	// hits their total.
	Unassigned     []Unassigned
	UnassignedHits int64
	Lines          int64
	Malformed      int64
	Bytes          int64
	// UsageChanged is how many users' traffic use (LIM-3) changed.
	UsageChanged int
}

// TopUnassigned is how many unknown names a report lists by default.
const TopUnassigned = 10

// Collect reads every log from where the last run stopped and stores the
// sums, the new offsets and the users' traffic use of the current month
// in one transaction. A failure of one file (it
// cannot be opened, say) fails the run before anything is stored, so the
// next run reads it all again, never twice.
func (c *Collector) Collect(ctx context.Context, logs []LogFile) (*Report, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	seen := map[string]bool{}
	for _, lf := range logs {
		if err := checkPath(lf.Path); err != nil {
			return nil, err
		}
		if seen[lf.Path] {
			return nil, fmt.Errorf("log %s: given twice", lf.Path)
		}
		seen[lf.Path] = true
	}
	domains, logins, err := c.Store.TrafficTargets(ctx)
	if err != nil {
		return nil, err
	}
	tg := NewTargets(domains, logins)
	offsets, gen, err := c.Store.LogOffsets(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	total := NewTally()
	batch := store.TrafficBatch{Generation: gen, Malformed: map[string]int64{}, Offsets: map[string][]store.LogOffset{}}
	opt := readOptions{workers: workers, bufSize: c.BufferSize, minSplit: c.minSplit}
	for _, lf := range logs {
		t := NewTally()
		fr := FileReport{Path: lf.Path, Format: lf.Format.Name()}
		rows, err := collectPath(ctx, lf, offsets[lf.Path], tg, t, &fr, opt)
		if err != nil {
			return nil, fmt.Errorf("log %s: %w", lf.Path, err)
		}
		fr.Lines, fr.Malformed = t.Lines, t.Malformed
		batch.Offsets[lf.Path] = rows
		batch.Malformed[lf.Path] = t.Malformed
		total.Merge(t)
		rep.Files = append(rep.Files, fr)
		rep.Bytes += fr.Bytes
	}
	users := 0 // the cells are ordered by user
	cells := total.Cells()
	batch.Cells = make([]store.TrafficCell, 0, len(cells))
	for i, cell := range cells {
		batch.Cells = append(batch.Cells, store.TrafficCell{UserID: tg.Users[cell.User], Day: int(cell.Day),
			Source: cell.Source.String(), Bytes: cell.Bytes, Hits: cell.Hits})
		rep.Traffic[cell.Source].add(cell.Sum)
		if i == 0 || cell.User != cells[i-1].User {
			users++
		}
	}
	for _, u := range total.Unassigned() {
		batch.Unassigned = append(batch.Unassigned, store.UnassignedCell{Day: int(u.Day), Source: u.Source.String(),
			Name: u.Name, Bytes: u.Bytes, Hits: u.Hits})
	}
	batch.Lines, batch.Bytes = total.Lines, rep.Bytes
	n := now()
	batch.UsageMonth = n.Year()*100 + int(n.Month())
	if rep.UsageChanged, err = c.Store.CommitTraffic(ctx, batch); err != nil {
		return nil, err
	}
	rep.Users = users
	top := c.Top
	if top == 0 {
		top = TopUnassigned
	}
	rep.Unassigned = total.TopUnassigned(max(top, 0))
	rep.UnassignedHits = total.UnassignedHits()
	rep.Lines, rep.Malformed = total.Lines, total.Malformed
	return rep, nil
}

// checkPath accepts an absolute, clean path without control characters.
func checkPath(p string) error {
	if !filepath.IsAbs(p) || filepath.Clean(p) != p || strings.ContainsAny(p, "\x00\r\n\"'") {
		return fmt.Errorf("log %q: give an absolute path without control characters or quotes", p)
	}
	return nil
}

// logFile is an open file with its identity.
type logFile struct {
	f    *os.File
	dev  int64
	ino  int64
	size int64
}

// openLog opens path without following a symlink (a log directory a user
// can write to must not make the collector read another file) and
// requires a regular file. A missing file is (nil, nil).
func openLog(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link; logs are read only from regular files", path)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	lf := &logFile{f: f, size: fi.Size()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		lf.dev, lf.ino = int64(st.Dev), int64(st.Ino)
	}
	return lf, nil
}

func (l *logFile) close() {
	if l != nil {
		l.f.Close()
	}
}

func (l *logFile) is(o store.LogOffset) bool { return l != nil && l.dev == o.Dev && l.ino == o.Inode }

// fingerprint hashes the first n bytes of the file; ok is false when the
// file is shorter.
func (l *logFile) fingerprint(n int) (string, bool) {
	buf := make([]byte, n)
	if _, err := l.f.ReadAt(buf, 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return "", false
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16]), true
}

// sameStart reports whether the file still begins with the bytes o was
// fingerprinted over and is at least as long as what was read: if not, it
// was truncated in place (copytruncate) or the inode was reused.
func (l *logFile) sameStart(o store.LogOffset) bool {
	if l.size < o.Pos || l.size < int64(o.FPLen) {
		return false
	}
	fp, ok := l.fingerprint(o.FPLen)
	return ok && fp == o.FP
}

// row returns the offset row of the file after reading to pos.
func (l *logFile) row(path string, pos int64, current bool) (store.LogOffset, error) {
	n := int(min(l.size, fpMax))
	fp, ok := l.fingerprint(n)
	if !ok {
		return store.LogOffset{}, fmt.Errorf("%s: the file shrank while it was read", path)
	}
	return store.LogOffset{Path: path, Dev: l.dev, Inode: l.ino, Pos: pos, Size: max(l.size, pos), FPLen: n, FP: fp, Current: current}, nil
}

// collectPath reads what is new in one log path and returns the offset
// rows to store for it.
//
//   - The file at path that is the one read last time: from the offset.
//   - Rename rotation: the file read last time is now path.1 (same inode
//     and first bytes): it is finished from the offset, and kept in the
//     offsets as long as it is there, since the server may write to it
//     until it reopens its log; the new file at path is read from 0.
//   - copytruncate: the file at path is the same inode but shorter, or
//     begins differently: the lines up to the truncation are in the copy
//     path.1 (another inode, same first bytes), which is read from the
//     offset to its end; the file at path is read from 0.
//   - A file read last time that is found nowhere: noted in the report.
func collectPath(ctx context.Context, lf LogFile, rows []store.LogOffset, tg *Targets, t *Tally, fr *FileReport, opt readOptions) ([]store.LogOffset, error) {
	cur, err := openLog(lf.Path)
	if err != nil {
		return nil, err
	}
	defer cur.close()
	old, err := openLog(lf.Path + RotatedSuffix)
	if err != nil {
		// A rotated file that cannot be read is no reason to stop
		// reading the log itself.
		fr.Notes = append(fr.Notes, fmt.Sprintf("rotated file not read: %v", err))
		old = nil
	}
	defer old.close()

	read := func(l *logFile, from int64, final bool) (int64, error) {
		pos, tally, err := readRegion(ctx, l.f, from, l.size, final, lf.Format, tg, opt)
		if err != nil {
			return from, err
		}
		fr.Bytes += pos - from
		t.Merge(tally)
		return pos, nil
	}

	var out []store.LogOffset
	var curRow, oldRow *store.LogOffset
	for i := range rows {
		switch r := &rows[i]; {
		case cur.is(*r):
			curRow = r
		case old.is(*r):
			oldRow = r
		case r.Current:
			fr.Notes = append(fr.Notes, fmt.Sprintf("the file read last time (inode %d, %d bytes counted) is neither %s nor %s%s any more: "+
				"lines written to it after the last run are not counted (rotated twice, or compressed right away?)",
				r.Inode, r.Pos, lf.Path, lf.Path, RotatedSuffix))
		}
	}
	if oldRow != nil {
		if old.sameStart(*oldRow) {
			pos, err := read(old, oldRow.Pos, false)
			if err != nil {
				return nil, err
			}
			if oldRow.Current {
				fr.Notes = append(fr.Notes, fmt.Sprintf("rotated: finished %s%s from byte %d", lf.Path, RotatedSuffix, oldRow.Pos))
			}
			row, err := old.row(lf.Path, pos, false)
			if err != nil {
				return nil, err
			}
			out = append(out, row)
		} else {
			fr.Notes = append(fr.Notes, fmt.Sprintf("%s%s changed since it was read; skipped", lf.Path, RotatedSuffix))
		}
	}
	if cur == nil {
		return out, nil
	}
	from := int64(0)
	if curRow != nil {
		if cur.sameStart(*curRow) {
			from = curRow.Pos
		} else if curRow.Pos > 0 {
			// Truncated in place. The copy is path.1 if it begins like the
			// file did and reaches the offset.
			if old != nil && oldRow == nil && old.size >= curRow.Pos && old.sameStart(store.LogOffset{Pos: curRow.Pos, FPLen: curRow.FPLen, FP: curRow.FP}) {
				if _, err := read(old, curRow.Pos, true); err != nil {
					return nil, err
				}
				fr.Notes = append(fr.Notes, fmt.Sprintf("truncated (copytruncate): read the rest of the copy %s%s from byte %d",
					lf.Path, RotatedSuffix, curRow.Pos))
			} else {
				fr.Notes = append(fr.Notes, fmt.Sprintf("truncated, and no copy %s%s holds the lines after byte %d: they are not counted",
					lf.Path, RotatedSuffix, curRow.Pos))
			}
		}
	}
	pos, err := read(cur, from, false)
	if err != nil {
		return nil, err
	}
	row, err := cur.row(lf.Path, pos, true)
	if err != nil {
		return nil, err
	}
	return append(out, row), nil
}

// DiscoverLogs lists the logs in dir by name: access logs ("access.log",
// "other_vhosts_access.log", "example.com-access.log", "access_log") are
// vcombined, "xferlog" and "*.xferlog" are xferlog. Rotated files
// ("*.1", "*.gz") are not listed: they are read through their log.
func DiscoverLogs(dir string) ([]LogFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	var out []LogFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		var f Format
		switch {
		case strings.HasSuffix(name, "access.log"), strings.HasSuffix(name, "access_log"):
			f = VCombined{}
		case name == "xferlog", strings.HasSuffix(name, ".xferlog"):
			f = Xferlog{}
		default:
			continue
		}
		p, err := filepath.Abs(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, LogFile{Path: p, Format: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
