package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"kontor/internal/panel"
)

// Traffic and storage statistics (STA-2, STA-3). The collector writes
// through CommitTraffic, acting for the system;
// the pages read through the methods that take an actor, which check
// ownership like every other object (ROLE-4).

// BytesPerMB is the megabyte of the limits (LIM-2: 1 MB = 1024 KB).
const BytesPerMB = 1 << 20

// BytesToMB converts bytes to whole megabytes, rounded up: one byte over a
// megabyte is use of the next one.
func BytesToMB(bytes int64) int64 {
	if bytes <= 0 {
		return 0
	}
	return (bytes + BytesPerMB - 1) / BytesPerMB
}

// TrafficSources are the servers traffic is measured at, in the order of
// the columns.
var TrafficSources = []string{"web", "ftp", "mail"}

// Traffic is the traffic of some period, split by source.
type Traffic struct {
	WebBytes, WebHits   int64
	FTPBytes, FTPHits   int64
	MailBytes, MailHits int64
}

// Bytes is the total of the three sources.
func (t Traffic) Bytes() int64 { return t.WebBytes + t.FTPBytes + t.MailBytes }

// Hits is the total of the three sources.
func (t Traffic) Hits() int64 { return t.WebHits + t.FTPHits + t.MailHits }

// MB is the total in megabytes, rounded up (as traffic limits count).
func (t Traffic) MB() int64 { return BytesToMB(t.Bytes()) }

func (t *Traffic) add(source string, bytes, hits int64) {
	switch source {
	case "web":
		t.WebBytes += bytes
		t.WebHits += hits
	case "ftp":
		t.FTPBytes += bytes
		t.FTPHits += hits
	case "mail":
		t.MailBytes += bytes
		t.MailHits += hits
	}
}

func (t *Traffic) plus(o Traffic) {
	t.WebBytes += o.WebBytes
	t.WebHits += o.WebHits
	t.FTPBytes += o.FTPBytes
	t.FTPHits += o.FTPHits
	t.MailBytes += o.MailBytes
	t.MailHits += o.MailHits
}

// trafficCols are the six columns of Traffic in traffic_daily and
// traffic_monthly.
const trafficCols = `web_bytes, web_hits, ftp_bytes, ftp_hits, mail_bytes, mail_hits`

func (t *Traffic) scanArgs() []any {
	return []any{&t.WebBytes, &t.WebHits, &t.FTPBytes, &t.FTPHits, &t.MailBytes, &t.MailHits}
}

// TrafficMonth is the traffic of a month (yyyymm).
type TrafficMonth struct {
	Month int
	Traffic
}

// TrafficDay is the traffic of a day (yyyymmdd).
type TrafficDay struct {
	Day int
	Traffic
}

// statsMonthOK reports whether m is yyyymm.
func statsMonthOK(m int) bool {
	y, mo := m/100, m%100
	return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12
}

// statsDayOK reports whether d is a real date yyyymmdd.
func statsDayOK(d int) bool {
	if !statsMonthOK(d / 100) {
		return false
	}
	y, m, day := d/10000, time.Month(d/100%100), d%100
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return day >= 1 && t.Day() == day && t.Month() == m
}

// TrafficMonthOf returns the yyyymm of t.
func TrafficMonthOf(t time.Time) int { return t.Year()*100 + int(t.Month()) }

// statsNextMonth returns the month after m (yyyymm).
func statsNextMonth(m int) int {
	if m%100 == 12 {
		return (m/100+1)*100 + 1
	}
	return m + 1
}

// statsMaxMonths bounds a range of months one query returns.
const statsMaxMonths = 240

func checkMonthRange(from, to int) error {
	if !statsMonthOK(from) {
		return panel.Invalid("from", "err.stats.month")
	}
	if !statsMonthOK(to) {
		return panel.Invalid("to", "err.stats.month")
	}
	if to < from {
		return panel.Invalid("to", "err.stats.range")
	}
	if (to/100-from/100)*12+to%100-from%100 >= statsMaxMonths {
		return panel.Invalid("from", "err.stats.range_long", statsMaxMonths)
	}
	return nil
}

// fillTrafficMonths returns one row per month from..to, with the traffic found
// in got and zero elsewhere, so a chart has no gaps.
func fillTrafficMonths(from, to int, got map[int]Traffic) []TrafficMonth {
	var out []TrafficMonth
	for m := from; m <= to; m = statsNextMonth(m) {
		out = append(out, TrafficMonth{Month: m, Traffic: got[m]})
	}
	return out
}

// ---------------------------------------------------------------------
// The collector's side.

// TrafficTargets returns what traffic is attributed by: every domain
// (punycode) with its user, and every user login with its id.
func (s *Store) TrafficTargets(ctx context.Context) (domains, logins map[string]int64, err error) {
	domains, logins = map[string]int64{}, map[string]int64{}
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, user_id FROM domains`)
		if err != nil {
			return panel.Internal(fmt.Errorf("traffic targets: %w", err))
		}
		for rows.Next() {
			var name string
			var id int64
			if err := rows.Scan(&name, &id); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			domains[name] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
		users, err := s.statsUsers(ctx, tx)
		for _, u := range users {
			logins[u.Login] = u.ID
		}
		return err
	})
	return domains, logins, err
}

// StatsUser is a user whose use the collector measures.
type StatsUser struct {
	ID    int64
	Login string
}

// StatsUsers returns every user (the reseller's default accounts too),
// ordered by login.
func (s *Store) StatsUsers(ctx context.Context) ([]StatsUser, error) {
	var out []StatsUser
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.statsUsers(ctx, tx)
		return err
	})
	return out, err
}

func (s *Store) statsUsers(ctx context.Context, q queryer) ([]StatsUser, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, login FROM accounts WHERE role = 'user' ORDER BY login`)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("stats users: %w", err))
	}
	defer rows.Close()
	var out []StatsUser
	for rows.Next() {
		var u StatsUser
		if err := rows.Scan(&u.ID, &u.Login); err != nil {
			return nil, panel.Internal(err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// LogOffset is where the collector stopped in one file of a log path.
type LogOffset struct {
	Path       string // the configured log path the file belongs to
	Dev, Inode int64  // the file's identity
	Pos        int64  // bytes read: the start of the first line not counted
	Size       int64  // the file's size when it was last read
	FPLen      int    // how many first bytes FP covers
	FP         string // hex hash of the first FPLen bytes
	// Current: the file was the log path itself; false for a rotated
	// file (path.1) still watched for late lines.
	Current bool
}

// LogOffsets returns the stored offsets by path and the generation the
// run must hand back to CommitTraffic.
func (s *Store) LogOffsets(ctx context.Context) (map[string][]LogOffset, int64, error) {
	out := map[string][]LogOffset{}
	var gen int64
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'stats_run'`).Scan(&gen); err != nil {
			return panel.Internal(fmt.Errorf("stats generation: %w", err))
		}
		rows, err := tx.QueryContext(ctx, `SELECT path, dev, inode, pos, size, fp_len, fp, is_current FROM stats_offsets ORDER BY path, is_current, inode`)
		if err != nil {
			return panel.Internal(fmt.Errorf("log offsets: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			var o LogOffset
			var cur int
			if err := rows.Scan(&o.Path, &o.Dev, &o.Inode, &o.Pos, &o.Size, &o.FPLen, &o.FP, &cur); err != nil {
				return panel.Internal(err)
			}
			o.Current = cur == 1
			out[o.Path] = append(out[o.Path], o)
		}
		return rows.Err()
	})
	return out, gen, err
}

// TrafficCell is traffic of one user on one day from one source.
type TrafficCell struct {
	UserID int64
	Day    int // yyyymmdd
	Source string
	Bytes  int64
	Hits   int64
}

// UnassignedCell is traffic of a name no user was found for.
type UnassignedCell struct {
	Day    int
	Source string
	Name   string
	Bytes  int64
	Hits   int64
}

// userAt is a user on a day or in a month.
type userAt struct {
	user int64
	at   int
}

// DeletedUserName is the unassigned name of traffic whose user was
// deleted while the collector ran.
const DeletedUserName = "(deleted user)"

// TrafficBatch is everything one collector run stores.
type TrafficBatch struct {
	// Generation is the one LogOffsets returned when the run began.
	Generation int64
	Cells      []TrafficCell
	Unassigned []UnassignedCell
	// Malformed counts lines that did not parse, by log path.
	Malformed map[string]int64
	// Offsets replace the stored offsets of each path listed (an empty
	// list forgets the path).
	Offsets map[string][]LogOffset
	// Lines and Bytes read, for the record of runs.
	Lines, Bytes int64
	// UsageMonth (yyyymm, the current month) is the month whose traffic
	// is the users' measured traffic use (LIM-3); 0 leaves it alone.
	UsageMonth int
}

// maxUnassignedName bounds an unassigned name (a host name has at most 253).
const maxUnassignedName = 255

func (b *TrafficBatch) validate() error {
	// Tens of thousands of cells: each is checked without allocating,
	// the field is named only when one fails.
	var days statsDays
	for i := range b.Cells {
		c := &b.Cells[i]
		switch {
		case !days.ok(c.Day):
			return panel.Invalid(fmt.Sprintf("cells.%d", i), "err.stats.day", c.Day)
		case c.UserID <= 0:
			return panel.Invalid(fmt.Sprintf("cells.%d", i), "err.notfound", "user")
		case c.Bytes < 0 || c.Hits < 0:
			return panel.Invalid(fmt.Sprintf("cells.%d", i), "err.stats.negative")
		case !statsSourceOK(c.Source):
			return panel.Invalid(fmt.Sprintf("cells.%d", i), "err.stats.source", c.Source)
		}
	}
	for i := range b.Unassigned {
		u := &b.Unassigned[i]
		switch {
		case !days.ok(u.Day):
			return panel.Invalid(fmt.Sprintf("unassigned.%d", i), "err.stats.day", u.Day)
		case u.Bytes < 0 || u.Hits < 0:
			return panel.Invalid(fmt.Sprintf("unassigned.%d", i), "err.stats.negative")
		case !cleanStatsName(u.Name):
			return panel.Invalid(fmt.Sprintf("unassigned.%d", i), "err.stats.name")
		case !statsSourceOK(u.Source):
			return panel.Invalid(fmt.Sprintf("unassigned.%d", i), "err.stats.source", u.Source)
		}
	}
	for p, n := range b.Malformed {
		if err := cleanLogPath(p); err != nil {
			return err
		}
		if n < 0 {
			return panel.Invalid("malformed", "err.stats.negative")
		}
	}
	for p, list := range b.Offsets {
		if err := cleanLogPath(p); err != nil {
			return err
		}
		for _, o := range list {
			if o.Path != p {
				return panel.Invalid("path", "err.stats.path")
			}
			if o.Pos < 0 || o.Size < 0 || o.FPLen < 0 || o.Pos > o.Size || !statsHex(o.FP) || len(o.FP) > 128 {
				return panel.Invalid("offset", "err.stats.offset", p)
			}
		}
	}
	if b.Lines < 0 || b.Bytes < 0 {
		return panel.Invalid("lines", "err.stats.negative")
	}
	if b.UsageMonth != 0 && !statsMonthOK(b.UsageMonth) {
		return panel.Invalid("month", "err.stats.month")
	}
	return nil
}

func statsSourceOK(s string) bool {
	for _, x := range TrafficSources {
		if s == x {
			return true
		}
	}
	return false
}

// statsDays answers statsDayOK for many days: a run has tens of
// thousands of cells over a few months, so it keeps the valid days of
// each month as a bit set, the last month's at hand.
type statsDays struct {
	month  int
	valid  uint32 // bit d: day d of month exists
	months map[int]uint32
}

func (c *statsDays) ok(d int) bool {
	day := d % 100
	if day < 1 || day > 31 {
		return false
	}
	if m := d / 100; m != c.month {
		v, seen := c.months[m]
		if !seen {
			for x := 1; x <= 31; x++ {
				if statsDayOK(m*100 + x) {
					v |= 1 << x
				}
			}
			if c.months == nil {
				c.months = map[int]uint32{}
			}
			c.months[m] = v
		}
		c.month, c.valid = m, v
	}
	return c.valid&(1<<day) != 0
}

// cleanStatsName: an unassigned name is shown on pages and in the CLI,
// so only printable ASCII without quotes, backslashes, angle brackets or
// spaces passes (host names and logins need nothing else).
func cleanStatsName(s string) bool {
	if s == "" || len(s) > maxUnassignedName {
		return false
	}
	if s == DeletedUserName {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"'\\<>`", c) >= 0 {
			return false
		}
	}
	return true
}

// cleanLogPath accepts an absolute, clean path without control
// characters or quotes.
func cleanLogPath(p string) error {
	if p == "" || len(p) > 4096 || !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return panel.Invalid("path", "err.stats.path")
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < ' ' || c == 0x7f || c == '"' || c == '\'' {
			return panel.Invalid("path", "err.stats.path")
		}
	}
	return nil
}

func statsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// statsDayOf is yyyymmdd of t.
func statsDayOf(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }

// trafficDays are the figures of the days of a month, indexed by day
// (1–31; 0 unused): an array, not a map, because a run fills ~30 days of a
// thousand users' months and a map per month cost more than the rest of
// the arithmetic.
type trafficDays [32]Traffic

// appendDays appends the days column: "d:wb,wh,fb,fh,mb,mh" per day of the
// month with traffic, in day order, joined by ";".
func appendDays(b []byte, days *trafficDays) []byte {
	first := true
	for d := 1; d < len(days); d++ {
		t := &days[d]
		if *t == (Traffic{}) {
			continue
		}
		if !first {
			b = append(b, ';')
		}
		first = false
		b = strconv.AppendInt(b, int64(d), 10)
		sep := byte(':')
		for _, v := range [...]int64{t.WebBytes, t.WebHits, t.FTPBytes, t.FTPHits, t.MailBytes, t.MailHits} {
			b = append(b, sep)
			b = strconv.AppendInt(b, v, 10)
			sep = ','
		}
	}
	return b
}

// encodeDays writes the days column of days (1–31).
func encodeDays(days map[int]Traffic) string {
	var a trafficDays
	for d, t := range days {
		if d >= 1 && d < len(a) {
			a[d] = t
		}
	}
	return string(appendDays(nil, &a))
}

// decodeDays reads the days column.
func decodeDays(s string) (map[int]Traffic, error) {
	var days trafficDays
	seen, err := parseDays(s, &days)
	if err != nil {
		return nil, err
	}
	out := map[int]Traffic{}
	for d := 1; d < len(days); d++ {
		if seen&(1<<d) != 0 {
			out[d] = days[d]
		}
	}
	return out, nil
}

// parseDays reads a days column into days, each entry setting its day,
// and returns the set of days named (bit d for day d). A warm run reads a
// thousand columns of thirty entries: a column as appendDays writes it is
// read in one pass; anything else (signs, long figures, errors) by
// parseDaysSlow, whose rules are strconv's.
func parseDays(s string, days *trafficDays) (uint32, error) {
	if seen, ok := parseDaysFast(s, days); ok {
		return seen, nil
	}
	return parseDaysSlow(s, days)
}

// parseDaysFast reads a column of plain figures (at most 18 digits each);
// ok is false for anything else.
func parseDaysFast(s string, days *trafficDays) (seen uint32, ok bool) {
	if s == "" {
		return 0, true
	}
	i := 0
	// figure reads the digits at i and what follows them.
	figure := func() (int64, byte, bool) {
		start := i
		var n int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			n = n*10 + int64(s[i]-'0')
			i++
		}
		if i == start || i-start > 18 {
			return 0, 0, false
		}
		if i == len(s) {
			return n, 0, true
		}
		i++
		return n, s[i-1], true
	}
	for {
		day, sep, ok := figure()
		if !ok || sep != ':' || day < 1 || day > 31 {
			return 0, false
		}
		var v [6]int64
		for k := range v {
			if v[k], sep, ok = figure(); !ok || k < len(v)-1 && sep != ',' {
				return 0, false
			}
		}
		days[day] = Traffic{WebBytes: v[0], WebHits: v[1], FTPBytes: v[2], FTPHits: v[3], MailBytes: v[4], MailHits: v[5]}
		seen |= 1 << day
		switch {
		case sep == 0:
			return seen, true
		case sep != ';':
			return 0, false
		}
	}
}

// parseDaysSlow is parseDays for any column.
func parseDaysSlow(s string, days *trafficDays) (uint32, error) {
	var seen uint32
	if s == "" {
		return 0, nil
	}
	for rest := s; ; {
		part := rest
		last := true
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			part, rest, last = rest[:i], rest[i+1:], false
		}
		colon := strings.IndexByte(part, ':')
		if colon < 0 {
			return 0, badDays(s, part)
		}
		day, ok := daysInt(part[:colon])
		if !ok || day < 1 || day > 31 {
			return 0, badDays(s, part)
		}
		vals := part[colon+1:]
		var v [6]int64
		for i := range v {
			f := vals
			if j := strings.IndexByte(vals, ','); j >= 0 {
				if i == len(v)-1 {
					return 0, badDays(s, part) // more than six figures
				}
				f, vals = vals[:j], vals[j+1:]
			} else if i < len(v)-1 {
				return 0, badDays(s, part) // fewer than six
			}
			if v[i], ok = daysInt(f); !ok || v[i] < 0 {
				return 0, badDays(s, part)
			}
		}
		days[day] = Traffic{WebBytes: v[0], WebHits: v[1], FTPBytes: v[2], FTPHits: v[3], MailBytes: v[4], MailHits: v[5]}
		seen |= 1 << day
		if last {
			return seen, nil
		}
	}
}

// daysInt parses a figure of the days column like strconv.ParseInt(f, 10,
// 64): up to 18 plain digits directly, anything else (a sign, overflow,
// garbage) through strconv.
func daysInt(f string) (int64, bool) {
	if len(f) == 0 || len(f) > 18 {
		n, err := strconv.ParseInt(f, 10, 64)
		return n, err == nil
	}
	var n int64
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c < '0' || c > '9' {
			n, err := strconv.ParseInt(f, 10, 64)
			return n, err == nil
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func badDays(s, part string) error {
	return fmt.Errorf("traffic days %q: bad entry %q", s, part)
}

// monthRow is a traffic_monthly row being merged.
type monthRow struct {
	user  int64
	month int
	Traffic
	// The days come from cells[lo:hi] (the run's cells of the month)
	// plus old, the days column stored before; they are added up one row
	// at a time while encoding, so a thousand rows need no thousand
	// arrays of days.
	lo, hi int
	old    string
}

// resellerMonth is a reseller's traffic per day of a month, with the days
// that had cells (a day whose cells were all zero still gets its row).
type resellerMonth struct {
	days trafficDays
	seen uint32 // bit d: day d had a cell
}

// userUse is what CommitTraffic needs of a user: its reseller (0 none)
// and its measured traffic use (-1 when none is recorded).
type userUse struct{ parent, used int64 }

// cellOrder orders cells by user and day, the collector's order.
func cellOrder(a, b TrafficCell) int {
	if a.UserID != b.UserID {
		return cmp.Compare(a.UserID, b.UserID)
	}
	return cmp.Compare(a.Day, b.Day)
}

// CommitTraffic stores one collector run in one transaction: the sums it
// adds, the offsets it reached and the users' traffic use of UsageMonth
// go in together or not at all, so a run that dies anywhere doubles and
// loses nothing. A run that began before another run committed is refused
// (err.stats.concurrent): its offsets are stale, and adding its sums
// would count lines twice. It returns how many users' traffic use
// changed.
func (s *Store) CommitTraffic(ctx context.Context, b TrafficBatch) (int, error) {
	if err := b.validate(); err != nil {
		return 0, err
	}
	// The collector hands the cells over ordered by user and day (a copy
	// is sorted otherwise): a user's month is then a run of the slice,
	// and the rows come out in primary-key order, which appends to the
	// B-tree instead of splitting pages all over it.
	cells := b.Cells
	if !slices.IsSortedFunc(cells, cellOrder) {
		cells = slices.Clone(cells)
		slices.SortFunc(cells, cellOrder)
	}
	var ids []int64
	nRows := 0
	for i, c := range cells {
		switch {
		case i == 0 || c.UserID != cells[i-1].UserID:
			ids = append(ids, c.UserID)
			nRows++
		case c.Day/100 != cells[i-1].Day/100:
			nRows++
		}
	}
	changed := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The generation check also takes the counters row's lock, so
		// two runs commit one after the other.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE counters SET value = value + 1 WHERE name = 'stats_run' AND value = ?`), b.Generation)
		if err != nil {
			return panel.Internal(fmt.Errorf("stats generation: %w", err))
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return panel.Conflict("", "err.stats.concurrent")
		}
		// The users' resellers and traffic use; traffic of users deleted
		// since the run began is unassigned.
		users := make(map[int64]userUse, len(ids))
		err = s.forIDs(ctx, tx, `SELECT a.id, COALESCE(a.parent_id, 0), COALESCE(u.used, -1) FROM accounts a
			LEFT JOIN usage u ON u.account_id = a.id AND u.resource = 'traffic'
			WHERE a.role = 'user' AND a.id %s`, nil, ids,
			func(rows *sql.Rows) error {
				var id int64
				var u userUse
				if err := rows.Scan(&id, &u.parent, &u.used); err != nil {
					return err
				}
				users[id] = u
				return nil
			})
		if err != nil {
			return err
		}
		monthly := make([]monthRow, 0, nRows)
		resellers := map[userAt]*resellerMonth{}
		unassigned := slices.Clip(b.Unassigned) // appending must not write into the caller's array
		var months []int
		for i := 0; i < len(cells); {
			user := cells[i].UserID
			end := i + 1
			for end < len(cells) && cells[end].UserID == user {
				end++
			}
			who, ok := users[user]
			if !ok {
				for _, c := range cells[i:end] {
					unassigned = append(unassigned, UnassignedCell{Day: c.Day, Source: c.Source, Name: DeletedUserName, Bytes: c.Bytes, Hits: c.Hits})
				}
				i = end
				continue
			}
			for i < end {
				month := cells[i].Day / 100
				monthly = append(monthly, monthRow{user: user, month: month, lo: i})
				m := &monthly[len(monthly)-1]
				for ; i < end && cells[i].Day/100 == month; i++ {
					c := &cells[i]
					m.add(c.Source, c.Bytes, c.Hits)
				}
				m.hi = i
				if !slices.Contains(months, month) {
					months = append(months, month)
				}
				if who.parent == 0 {
					continue
				}
				k := userAt{who.parent, month}
				r := resellers[k]
				if r == nil {
					r = &resellerMonth{}
					resellers[k] = r
				}
				for _, c := range cells[m.lo:m.hi] {
					r.days[c.Day%100].add(c.Source, c.Bytes, c.Hits)
					r.seen |= 1 << (c.Day % 100)
				}
			}
		}
		// Each user's month is one row: read what is there, add, write
		// back the sums.
		var with []int64
		for _, month := range months {
			with = with[:0]
			for k := range monthly {
				if monthly[k].month == month {
					with = append(with, monthly[k].user)
				}
			}
			err := s.forIDs(ctx, tx, `SELECT account_id, `+trafficCols+`, days FROM traffic_monthly WHERE month = ? AND account_id %s`,
				[]any{month}, with, func(rows *sql.Rows) error {
					var id int64
					var t Traffic
					var days string
					if err := rows.Scan(&id, &t.WebBytes, &t.WebHits, &t.FTPBytes, &t.FTPHits, &t.MailBytes, &t.MailHits, &days); err != nil {
						return err
					}
					k := sort.Search(len(monthly), func(k int) bool {
						m := &monthly[k]
						return m.user > id || m.user == id && m.month >= month
					})
					if k == len(monthly) || monthly[k].user != id || monthly[k].month != month {
						return nil // a user between those asked for
					}
					monthly[k].plus(t)
					monthly[k].old = days
					return nil
				})
			if err != nil {
				return err
			}
		}
		args := make([]any, 0, 10*len(monthly))
		var days trafficDays
		var buf []byte
		for k := range monthly {
			m := &monthly[k]
			days = trafficDays{}
			if _, err := parseDays(m.old, &days); err != nil {
				return panel.Internal(fmt.Errorf("traffic per month: %w", err))
			}
			for _, c := range cells[m.lo:m.hi] {
				days[c.Day%100].add(c.Source, c.Bytes, c.Hits)
			}
			buf = appendDays(buf[:0], &days)
			args = append(args, m.user, m.month, m.WebBytes, m.WebHits, m.FTPBytes, m.FTPHits, m.MailBytes, m.MailHits, m.Bytes(), string(buf))
		}
		err = s.bulkExec(ctx, tx, "traffic per month", `INSERT INTO traffic_monthly (account_id, month, `+trafficCols+`, bytes, days) VALUES `,
			` ON CONFLICT (account_id, month) DO UPDATE SET `+trafficSetCols(func(c string) string { return "excluded." + c })+
				`, bytes = excluded.bytes, days = excluded.days`, 10, args)
		if err != nil {
			return err
		}
		rkeys := make([]userAt, 0, len(resellers))
		for k := range resellers {
			rkeys = append(rkeys, k)
		}
		sortUserAt(rkeys)
		args = args[:0]
		for _, k := range rkeys {
			r := resellers[k]
			for d := 1; d < len(r.days); d++ {
				if r.seen&(1<<d) != 0 {
					t := &r.days[d]
					args = append(args, k.user, k.at*100+d, t.WebBytes, t.WebHits, t.FTPBytes, t.FTPHits, t.MailBytes, t.MailHits)
				}
			}
		}
		err = s.bulkExec(ctx, tx, "reseller traffic per day", `INSERT INTO traffic_reseller_daily (reseller_id, day, `+trafficCols+`) VALUES `,
			` ON CONFLICT (reseller_id, day) DO UPDATE SET `+
				trafficSetCols(func(c string) string { return "traffic_reseller_daily." + c + " + excluded." + c }), 8, args)
		if err != nil {
			return err
		}
		unassignedHits, err := s.addUnassigned(ctx, tx, unassigned)
		if err != nil {
			return err
		}
		var malformed int64
		today := statsDayOf(s.now())
		for p, n := range b.Malformed {
			if n == 0 {
				continue
			}
			malformed += n
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO stats_malformed (path, day, lines) VALUES (?, ?, ?)
				ON CONFLICT (path, day) DO UPDATE SET lines = stats_malformed.lines + excluded.lines`), p, today, n)
			if err != nil {
				return panel.Internal(fmt.Errorf("malformed lines: %w", err))
			}
		}
		now := s.now().Unix()
		for p, list := range b.Offsets {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM stats_offsets WHERE path = ?`), p); err != nil {
				return panel.Internal(fmt.Errorf("log offsets: %w", err))
			}
			for _, o := range list {
				_, err := tx.ExecContext(ctx, s.q(`INSERT INTO stats_offsets (path, dev, inode, pos, size, fp_len, fp, is_current, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), p, o.Dev, o.Inode, o.Pos, o.Size, o.FPLen, o.FP, b2i(o.Current), now)
				if isUnique(err) {
					return panel.Invalid("offset", "err.stats.offset", p)
				}
				if err != nil {
					return panel.Internal(fmt.Errorf("log offsets: %w", err))
				}
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO stats_runs (finished_at, lines, bytes, malformed, unassigned) VALUES (?, ?, ?, ?, ?)`),
			now, b.Lines, b.Bytes, malformed, unassignedHits)
		if err != nil {
			return panel.Internal(fmt.Errorf("stats run: %w", err))
		}
		if b.UsageMonth == 0 {
			return nil
		}
		changed, err = s.trafficUsage(ctx, tx, b.UsageMonth, monthly, users)
		return err
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// trafficUsage sets the measured traffic use (LIM-3) of the users with a
// row of month in monthly (merged: the month's whole traffic) and of every
// user whose figure is from an earlier month, like SetUsage does, with the
// reseller totals in step, and returns how many changed. users holds the
// reseller and recorded use of everyone in monthly.
func (s *Store) trafficUsage(ctx context.Context, tx *sql.Tx, month int, monthly []monthRow, users map[int64]userUse) (int, error) {
	type fresh struct {
		id, bytes int64
		userUse
	}
	var list []fresh // ordered by id: monthly is
	for k := range monthly {
		if m := &monthly[k]; m.month == month {
			list = append(list, fresh{m.user, m.Bytes(), users[m.user]})
		}
	}
	inMonth := len(list)
	// Figures from an earlier month: the month changed, they start over.
	first := time.Date(month/100, time.Month(month%100), 1, 0, 0, 0, 0, s.now().Location()).Unix()
	rows, err := tx.QueryContext(ctx, s.q(`SELECT u.account_id, COALESCE(a.parent_id, 0), u.used, COALESCE(m.bytes, 0)
		FROM usage u JOIN accounts a ON a.id = u.account_id
		LEFT JOIN traffic_monthly m ON m.account_id = u.account_id AND m.month = ?
		WHERE u.resource = 'traffic' AND u.used > 0 AND u.measured_at < ?`), month, first)
	if err != nil {
		return 0, panel.Internal(fmt.Errorf("traffic use: %w", err))
	}
	for rows.Next() {
		var f fresh
		if err := rows.Scan(&f.id, &f.parent, &f.used, &f.bytes); err != nil {
			rows.Close()
			return 0, panel.Internal(err)
		}
		if _, found := slices.BinarySearchFunc(list[:inMonth], f.id, func(x fresh, id int64) int { return cmp.Compare(x.id, id) }); !found {
			list = append(list, f)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, panel.Internal(err)
	}
	now := s.now().Unix()
	deltas := map[int64]totalsDelta{}
	args := make([]any, 0, 4*len(list))
	for _, f := range list {
		mb := BytesToMB(f.bytes)
		if mb == f.used || f.used == -1 && mb == 0 {
			continue
		}
		args = append(args, f.id, string(panel.ResTraffic), mb, now)
		if f.parent == 0 {
			continue
		}
		if deltas[f.parent] == nil {
			deltas[f.parent] = totalsDelta{}
		}
		deltas[f.parent].row(panel.ResTraffic).used += mb - max(f.used, 0)
	}
	err = s.bulkExec(ctx, tx, "traffic use", `INSERT INTO usage (account_id, resource, used, measured_at) VALUES `,
		` ON CONFLICT (account_id, resource) DO UPDATE SET used = excluded.used, measured_at = excluded.measured_at`, 4, args)
	if err != nil {
		return 0, err
	}
	changed := len(args) / 4
	for parent, d := range deltas {
		if err := s.applyTotals(ctx, tx, parent, d); err != nil {
			return 0, err
		}
	}
	return changed, nil
}

// addUnassigned adds traffic of unknown names and returns its hits.
func (s *Store) addUnassigned(ctx context.Context, tx *sql.Tx, cells []UnassignedCell) (int64, error) {
	// The same name may come twice (a deleted user's cells): in key order
	// the cells of a key are neighbours and add up in one pass. The order
	// sorts small keys, not the cells: day and source as one number.
	type key struct {
		at   int64 // day*4 + source
		name string
		i    int
	}
	keys := make([]key, len(cells))
	for i, u := range cells {
		// The sources in text order, as the primary key has them.
		src := int64(slices.Index([]string{"ftp", "mail", "web"}, u.Source))
		keys[i] = key{int64(u.Day)*4 + src, u.Name, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return strings.Compare(a.name, b.name)
	})
	var hits int64
	args := make([]any, 0, 5*len(cells))
	for i := 0; i < len(keys); {
		u := cells[keys[i].i]
		for i++; i < len(keys) && keys[i].at == keys[i-1].at && keys[i].name == keys[i-1].name; i++ {
			u.Bytes += cells[keys[i].i].Bytes
			u.Hits += cells[keys[i].i].Hits
		}
		args = append(args, u.Day, u.Source, u.Name, u.Bytes, u.Hits)
		hits += u.Hits
	}
	err := s.bulkExec(ctx, tx, "unassigned traffic", `INSERT INTO traffic_unassigned (day, source, name, bytes, hits) VALUES `,
		` ON CONFLICT (day, source, name) DO UPDATE SET
			bytes = traffic_unassigned.bytes + excluded.bytes, hits = traffic_unassigned.hits + excluded.hits`, 5, args)
	if err != nil {
		return 0, err
	}
	return hits, nil
}

// bulkRows is how many rows one bulk statement writes.
const bulkRows = 100

// bulkExec runs head + "(?, …), (?, …)…" + tail over args, rows of cols
// arguments each, bulkRows rows a statement. The statement of full
// chunks is prepared once: SQLite (compiled to Go here) takes longer to
// parse a long VALUES list than to run it.
func (s *Store) bulkExec(ctx context.Context, tx *sql.Tx, what, head, tail string, cols int, args []any) error {
	n := len(args) / cols
	done := 0
	if full := n / bulkRows; full > 1 {
		stmt, err := tx.PrepareContext(ctx, s.q(head+valuesRows(bulkRows, cols)+tail))
		if err != nil {
			return panel.Internal(fmt.Errorf("%s: %w", what, err))
		}
		defer stmt.Close()
		for ; done+bulkRows <= n; done += bulkRows {
			if _, err := stmt.ExecContext(ctx, args[done*cols:(done+bulkRows)*cols]...); err != nil {
				return panel.Internal(fmt.Errorf("%s: %w", what, err))
			}
		}
	}
	for done < n {
		rows := min(bulkRows, n-done)
		if _, err := tx.ExecContext(ctx, s.q(head+valuesRows(rows, cols)+tail), args[done*cols:(done+rows)*cols]...); err != nil {
			return panel.Internal(fmt.Errorf("%s: %w", what, err))
		}
		done += rows
	}
	return nil
}

// forIDs runs query for ids (ascending): its "%s" becomes "BETWEEN ? AND
// ?" over their range when they fill at least half of it, else "IN (?, …)"
// for a chunk of them at a time, after the leading args. A long IN list
// takes SQLite longer to parse than the few rows between the ids take to
// read, so scan must skip rows of ids not asked for.
func (s *Store) forIDs(ctx context.Context, tx *sql.Tx, query string, lead []any, ids []int64, scan func(*sql.Rows) error) error {
	if len(ids) == 0 {
		return nil
	}
	lo, hi := ids[0], ids[len(ids)-1]
	if hi-lo >= 2*int64(len(ids)) {
		return s.inChunks(ctx, tx, fmt.Sprintf(query, "IN (%s)"), lead, ids, scan)
	}
	rows, err := tx.QueryContext(ctx, s.q(fmt.Sprintf(query, "BETWEEN ? AND ?")), append(slices.Clip(lead), lo, hi)...)
	if err != nil {
		return panel.Internal(fmt.Errorf("stats: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return panel.Internal(err)
		}
	}
	if err := rows.Err(); err != nil {
		return panel.Internal(err)
	}
	return nil
}

// inChunks runs query, whose "%s" is filled with placeholders for a chunk
// of ids after the leading args, for every chunk of ids, and hands each
// row to scan.
func (s *Store) inChunks(ctx context.Context, tx *sql.Tx, query string, lead []any, ids []int64, scan func(*sql.Rows) error) error {
	const per = 500
	for i := 0; i < len(ids); i += per {
		chunk := ids[i:min(i+per, len(ids))]
		args := append([]any(nil), lead...)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, s.q(fmt.Sprintf(query, placeholders(len(chunk)))), args...)
		if err != nil {
			return panel.Internal(fmt.Errorf("stats: %w", err))
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
	}
	return nil
}

func sortUserAt(keys []userAt) {
	// In key order, the rows append to the primary key's B-tree instead
	// of splitting pages all over it.
	slices.SortFunc(keys, func(a, b userAt) int {
		if a.user != b.user {
			return cmp.Compare(a.user, b.user)
		}
		return cmp.Compare(a.at, b.at)
	})
}

// valuesRows returns n groups of "(?, ?, …)" with cols marks each.
func valuesRows(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// trafficSetCols is the SET list of the six traffic columns, each set to
// expr(column).
func trafficSetCols(expr func(col string) string) string {
	var parts []string
	for _, c := range strings.Split(trafficCols, ", ") {
		parts = append(parts, c+" = "+expr(c))
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------------
// The pages' side (STA-1, STA-2).

// UserTraffic returns a user's traffic per month from..to (yyyymm), a
// row for every month, split into web, FTP and mail.
func (s *Store) UserTraffic(ctx context.Context, actor panel.Actor, userID int64, from, to int) ([]TrafficMonth, error) {
	if err := checkMonthRange(from, to); err != nil {
		return nil, err
	}
	got := map[int]Traffic{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := s.trafficUser(ctx, tx, actor, userID); err != nil {
			return err
		}
		return s.scanTraffic(ctx, tx, got, `SELECT month, `+trafficCols+` FROM traffic_monthly
			WHERE account_id = ? AND month BETWEEN ? AND ?`, userID, from, to)
	})
	if err != nil {
		return nil, err
	}
	return fillTrafficMonths(from, to, got), nil
}

func (s *Store) trafficUser(ctx context.Context, tx *sql.Tx, actor panel.Actor, userID int64) error {
	_, err := s.visibleUserID(ctx, tx, actor, userID)
	if err != nil {
		return err
	}
	return nil
}

func (s *Store) scanTraffic(ctx context.Context, tx *sql.Tx, got map[int]Traffic, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return panel.Internal(fmt.Errorf("traffic per month: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var m int
		var t Traffic
		if err := rows.Scan(append([]any{&m}, t.scanArgs()...)...); err != nil {
			return panel.Internal(err)
		}
		x := got[m]
		x.plus(t)
		got[m] = x
	}
	return rows.Err()
}

// trafficScope checks that the actor may see the figures of all users
// of resellerID: the reseller itself (not while acting in a user's panel)
// or an admin; an admin may pass 0 for the whole server.
func (s *Store) trafficScope(ctx context.Context, tx *sql.Tx, actor panel.Actor, resellerID int64) error {
	switch {
	case actor.Role == panel.RoleReseller && actor.ActingID == 0:
		if resellerID != actor.ID {
			return panel.NotFound("reseller")
		}
		return nil
	case actor.IsAdmin():
		if resellerID == 0 {
			return nil
		}
		return s.isReseller(ctx, tx, resellerID)
	}
	return panel.Forbidden("", "err.forbidden")
}

// TrafficSummary returns the traffic of all users of a reseller per
// month from..to, a row for every month; an admin may pass resellerID 0
// for the whole server. It counts the traffic of users deleted since.
func (s *Store) TrafficSummary(ctx context.Context, actor panel.Actor, resellerID int64, from, to int) ([]TrafficMonth, error) {
	if err := checkMonthRange(from, to); err != nil {
		return nil, err
	}
	got := map[int]Traffic{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := s.trafficScope(ctx, tx, actor, resellerID); err != nil {
			return err
		}
		where, args := `day BETWEEN ? AND ?`, []any{from*100 + 1, to*100 + 31}
		if resellerID != 0 {
			where, args = `reseller_id = ? AND `+where, append([]any{resellerID}, args...)
		}
		return s.scanTraffic(ctx, tx, got, `SELECT day / 100, `+trafficSums+` FROM traffic_reseller_daily
			WHERE `+where+` GROUP BY day / 100`, args...)
	})
	if err != nil {
		return nil, err
	}
	return fillTrafficMonths(from, to, got), nil
}

// trafficSums sums the six traffic columns.
const trafficSums = `SUM(web_bytes), SUM(web_hits), SUM(ftp_bytes), SUM(ftp_hits), SUM(mail_bytes), SUM(mail_hits)`

// TrafficDays returns the traffic per day of month (yyyymm), a row for
// every day of the month, of a user, or of all users of a reseller when
// accountID is a reseller; an admin may pass 0 for the whole server.
func (s *Store) TrafficDays(ctx context.Context, actor panel.Actor, accountID int64, month int) ([]TrafficDay, error) {
	if !statsMonthOK(month) {
		return nil, panel.Invalid("month", "err.stats.month")
	}
	got := map[int]Traffic{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		lo, hi := month*100+1, month*100+31
		sums := `SELECT day, ` + trafficSums + ` FROM traffic_reseller_daily WHERE `
		if accountID == 0 {
			if !actor.IsAdmin() {
				return panel.NotFound("account")
			}
			return s.scanTraffic(ctx, tx, got, sums+`day BETWEEN ? AND ? GROUP BY day`, lo, hi)
		}
		role, _, err := s.visible(ctx, tx, actor, accountID)
		if err != nil {
			return err
		}
		switch role {
		case panel.RoleReseller:
			if err := s.trafficScope(ctx, tx, actor, accountID); err != nil {
				return err
			}
			return s.scanTraffic(ctx, tx, got, sums+`reseller_id = ? AND day BETWEEN ? AND ? GROUP BY day`, accountID, lo, hi)
		case panel.RoleUser:
			var days string
			err := tx.QueryRowContext(ctx, s.q(`SELECT days FROM traffic_monthly WHERE account_id = ? AND month = ?`), accountID, month).Scan(&days)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return panel.Internal(fmt.Errorf("traffic per day: %w", err))
			}
			byDay, err := decodeDays(days)
			if err != nil {
				return panel.Internal(err)
			}
			for d, t := range byDay {
				got[month*100+d] = t
			}
			return nil
		}
		return panel.NotFound("account")
	})
	if err != nil {
		return nil, err
	}
	first := time.Date(month/100, time.Month(month%100), 1, 0, 0, 0, 0, time.UTC)
	var out []TrafficDay
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		out = append(out, TrafficDay{Day: statsDayOf(d), Traffic: got[statsDayOf(d)]})
	}
	return out, nil
}

// TrafficUserFilter selects a page of users with their traffic in a month.
type TrafficUserFilter struct {
	ResellerID int64 // required unless the actor is a reseller (then its own)
	Month      int   // yyyymm
	Search     string
	// Exceeders keeps only users whose traffic is over their limit.
	Exceeders bool
	// ByUse sorts by traffic, most first; otherwise by user number.
	ByUse  bool
	Offset int
	Limit  int
}

// TrafficUserRow is a user's traffic in a month against its limit.
type TrafficUserRow struct {
	ID    int64
	Login string
	Traffic
	// Limit is the user's traffic limit in MB: -1 unlimited, 0 none.
	Limit int64
	// Over: the traffic passed the limit (shown, never enforced).
	Over bool
}

// TrafficUsers returns one page of a reseller's users with their traffic
// in a month, filtered, sorted and counted in SQL.
func (s *Store) TrafficUsers(ctx context.Context, actor panel.Actor, f TrafficUserFilter) ([]TrafficUserRow, int, error) {
	if actor.Role == panel.RoleReseller && f.ResellerID == 0 {
		f.ResellerID = actor.ID
	}
	if !statsMonthOK(f.Month) {
		return nil, 0, panel.Invalid("month", "err.stats.month")
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	term, err := panel.CleanText("q", f.Search, false)
	if err != nil {
		return nil, 0, err
	}
	var out []TrafficUserRow
	var total int
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		if f.ResellerID == 0 && !actor.IsAdmin() {
			return panel.NotFound("reseller")
		}
		if err := s.trafficScope(ctx, tx, actor, f.ResellerID); err != nil {
			return err
		}
		from := ` FROM accounts a
			LEFT JOIN traffic_monthly m ON m.account_id = a.id AND m.month = ?
			LEFT JOIN user_limits l ON l.account_id = a.id AND l.resource = ?`
		args := []any{f.Month, string(panel.ResTraffic)}
		where := ` WHERE a.role = 'user'`
		if f.ResellerID != 0 {
			where += ` AND a.parent_id = ?`
			args = append(args, f.ResellerID)
		}
		if term != "" {
			where += ` AND a.search_text LIKE ? ESCAPE '!'`
			args = append(args, likePattern(term))
		}
		// Over the limit: a limit of 0 means none at all, -1 unlimited.
		over := `(COALESCE(l.value, 0) >= 0 AND COALESCE(m.bytes, 0) > COALESCE(l.value, 0) * ` + fmt.Sprint(BytesPerMB) + `)`
		if f.Exceeders {
			where += ` AND ` + over
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*)`+from+where), args...).Scan(&total); err != nil {
			return panel.Internal(fmt.Errorf("count traffic users: %w", err))
		}
		order := ` ORDER BY a.number, a.id`
		if f.ByUse {
			order = ` ORDER BY COALESCE(m.bytes, 0) DESC, a.number, a.id`
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT a.id, a.login, COALESCE(l.value, 0), `+
			`COALESCE(m.web_bytes, 0), COALESCE(m.web_hits, 0), COALESCE(m.ftp_bytes, 0), COALESCE(m.ftp_hits, 0),
			COALESCE(m.mail_bytes, 0), COALESCE(m.mail_hits, 0)`+from+where+order+` LIMIT ? OFFSET ?`),
			append(args, f.Limit, f.Offset)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("traffic users: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			var r TrafficUserRow
			if err := rows.Scan(append([]any{&r.ID, &r.Login, &r.Limit}, r.scanArgs()...)...); err != nil {
				return panel.Internal(err)
			}
			r.Over = r.Limit >= 0 && r.Bytes() > r.Limit*BytesPerMB
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UnassignedRow is traffic of a name no user was found for.
type UnassignedRow struct {
	Source string
	Name   string
	Bytes  int64
	Hits   int64
}

// UnassignedTraffic returns the names with the most unassigned hits in
// month (yyyymm), at most limit of them. Only the admin sees them: the
// names are other people's hosts.
func (s *Store) UnassignedTraffic(ctx context.Context, actor panel.Actor, month, limit int) ([]UnassignedRow, error) {
	if !actor.IsAdmin() {
		return nil, panel.Forbidden("", "err.forbidden")
	}
	if !statsMonthOK(month) {
		return nil, panel.Invalid("month", "err.stats.month")
	}
	if limit <= 0 || limit > 1000 {
		limit = 20
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT source, name, SUM(bytes), SUM(hits) FROM traffic_unassigned
		WHERE day BETWEEN ? AND ? GROUP BY source, name ORDER BY SUM(hits) DESC, SUM(bytes) DESC, name LIMIT ?`),
		month*100+1, month*100+31, limit)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("unassigned traffic: %w", err))
	}
	defer rows.Close()
	var out []UnassignedRow
	for rows.Next() {
		var r UnassignedRow
		if err := rows.Scan(&r.Source, &r.Name, &r.Bytes, &r.Hits); err != nil {
			return nil, panel.Internal(err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CollectorStatus is what the admin sees of the collector.
type CollectorStatus struct {
	LastRun   time.Time // zero when it never stored anything
	Runs      int64
	Malformed map[string]int64 // lines by log path in the month asked
}

// Collector returns when the collector last stored a run and the
// malformed lines per log in month (yyyymm). Admin only.
func (s *Store) Collector(ctx context.Context, actor panel.Actor, month int) (CollectorStatus, error) {
	st := CollectorStatus{Malformed: map[string]int64{}}
	if !actor.IsAdmin() {
		return st, panel.Forbidden("", "err.forbidden")
	}
	if !statsMonthOK(month) {
		return st, panel.Invalid("month", "err.stats.month")
	}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(finished_at), COUNT(*) FROM stats_runs`).Scan(&last, &st.Runs); err != nil {
			return panel.Internal(err)
		}
		if last.Valid {
			st.LastRun = time.Unix(last.Int64, 0)
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT path, SUM(lines) FROM stats_malformed WHERE day BETWEEN ? AND ? GROUP BY path`),
			month*100+1, month*100+31)
		if err != nil {
			return panel.Internal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			var n int64
			if err := rows.Scan(&p, &n); err != nil {
				return panel.Internal(err)
			}
			st.Malformed[p] = n
		}
		return rows.Err()
	})
	return st, err
}
