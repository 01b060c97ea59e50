// Package stats measures what users use on the system (STA-3): traffic from
// the web, FTP and (later) mail server logs, read incrementally, and storage
// from the users' homes, mail folders and databases.
//
// The traffic side is built for speed: a log is read with a large buffer
// and parsed as bytes, without regular expressions or per-line
// allocations, into a small map of sums per user and day. Where it stopped
// in each file is kept in the store together with the sums, in one
// transaction, so that no byte is counted twice and none is lost when the
// log is rotated.
package stats

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Source says which server measured some traffic; the traffic pages split
// by it (STA-2).
type Source uint8

// The sources of traffic.
const (
	SourceWeb Source = iota
	SourceFTP
	SourceMail
	numSources
)

// String is the name the store uses for the source.
func (s Source) String() string {
	switch s {
	case SourceWeb:
		return "web"
	case SourceFTP:
		return "ftp"
	case SourceMail:
		return "mail"
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// Day is a calendar day written as the number yyyymmdd, the day as the
// server wrote it in its log (its local time).
type Day int32

// Month returns yyyymm.
func (d Day) Month() int { return int(d) / 100 }

// Sum is traffic: bytes and hits (requests, transfers or messages).
type Sum struct {
	Bytes int64
	Hits  int64
}

func (s *Sum) add(o Sum) {
	s.Bytes += o.Bytes
	s.Hits += o.Hits
}

// Cell is the traffic of one user on one day from one source.
type Cell struct {
	User   int32 // index into Targets.Users
	Day    Day
	Source Source
	Sum
}

// Unassigned is traffic that belongs to no known user: a vhost without a
// domain in the store, an FTP login that is not a user.
type Unassigned struct {
	Name   string
	Day    Day
	Source Source
	Sum
}

// OtherName stands for every unknown name beyond the first
// maxUnassignedNames of one run, so a flood of random Host headers cannot
// grow memory or the store without bound.
const OtherName = "(other)"

// maxUnassignedNames bounds the distinct unknown names one tally keeps.
const maxUnassignedNames = 10000

// Tally collects what the parsers of one goroutine found. It is not safe
// for concurrent use: each goroutine has its own, and Merge joins them.
type Tally struct {
	// cur holds, per user and source, the sum of the day being counted:
	// logs are written in time order, so nearly every line adds to it.
	// It is a dense slice (a few dozen KB for thousands of users) that
	// stays in the CPU cache, unlike a map with an entry per user and day.
	cur []slot
	// months add up the finished days of the first two months seen in
	// place, per user, source and day: a run over a month of logs
	// finishes tens of thousands of user-days (each vhost's day ends in
	// the cache of each goroutine), and an addition in place costs less
	// than appending each and sorting them later.
	months [2]denseMonth
	// The finished days of other months, appended as they finish: a key
	// may repeat until compact sorts them and adds up the repeats.
	// Appending costs a fraction of a map insert.
	cells      []Cell
	compacted  int // len(cells) after the last compact
	unassigned map[unassignedKey]*Sum
	names      map[string]struct{} // distinct unassigned names
	// Lines counts complete lines seen, Malformed those skipped because
	// they did not parse.
	Lines, Malformed int64
	// Bytes counts the log bytes parsed.
	Bytes int64
}

type slot struct {
	day Day // 0: empty
	Sum
}

// denseMonth is one month of a tally's finished days.
type denseMonth struct {
	month int32 // yyyymm; 0: not in use
	// days holds, by user index * numSources + source, the sums of the
	// month by day (512 bytes); nil for a user and source without
	// traffic in the month. A day with no hits and no bytes is no cell.
	days []*[32]Sum
}

// add adds sum to the user's day; false if day is not of the month.
func (m *denseMonth) add(user int32, day Day, src Source, sum Sum) bool {
	if int32(day)/100 != m.month {
		return false
	}
	i := int(user)*int(numSources) + int(src)
	if i >= len(m.days) {
		m.days = append(m.days, make([]*[32]Sum, i+1-len(m.days))...)
	}
	d := m.days[i]
	if d == nil {
		d = new([32]Sum)
		m.days[i] = d
	}
	d[day%100].add(sum)
	return true
}

// users is one more than the highest user index with traffic in the month.
func (m *denseMonth) users() int {
	return (len(m.days) + int(numSources) - 1) / int(numSources)
}

// appendCells appends the user's cells of the month in order of day and
// source.
func (m *denseMonth) appendCells(out []Cell, user int32) []Cell {
	if m.month == 0 || int(user) >= m.users() {
		return out
	}
	var src [numSources]*[32]Sum
	some := false
	for s := range src {
		if i := int(user)*int(numSources) + s; i < len(m.days) {
			src[s] = m.days[i]
			some = some || src[s] != nil
		}
	}
	if !some {
		return out
	}
	for d := 1; d < 32; d++ {
		for s, days := range src {
			if days != nil && days[d] != (Sum{}) {
				out = append(out, Cell{User: user, Day: Day(m.month*100 + int32(d)), Source: Source(s), Sum: days[d]})
			}
		}
	}
	return out
}

type unassignedKey struct {
	name string
	day  Day
	src  Source
}

// NewTally returns an empty tally.
func NewTally() *Tally {
	return &Tally{unassigned: map[unassignedKey]*Sum{}, names: map[string]struct{}{}}
}

// Add counts bytes and hits for a user on a day.
func (t *Tally) Add(user int32, day Day, src Source, bytes, hits int64) {
	i := int(user)*int(numSources) + int(src)
	if i >= len(t.cur) {
		n := 2 * len(t.cur)
		if n <= i {
			n = i + 64
		}
		t.cur = append(t.cur, make([]slot, n-len(t.cur))...)
	}
	s := &t.cur[i]
	if s.day == day {
		s.Bytes += bytes
		s.Hits += hits
		return
	}
	if s.day != 0 {
		t.addCell(user, s.day, src, s.Sum)
	}
	s.day, s.Bytes, s.Hits = day, bytes, hits
}

func (t *Tally) addCell(user int32, day Day, src Source, sum Sum) {
	for i := range t.months {
		m := &t.months[i]
		if m.month == 0 {
			m.month = int32(day) / 100
		}
		if m.add(user, day, src, sum) {
			return
		}
	}
	t.cells = append(t.cells, Cell{User: user, Day: day, Source: src, Sum: sum})
	if len(t.cells) >= 2*t.compacted+compactMin {
		// A log whose lines jump between days finishes a day per line:
		// compacting keeps memory to about twice the distinct cells.
		t.compact()
	}
}

func cellOrder(a, b Cell) int { return cmp.Compare(a.order(), b.order()) }

// compactMin is how many cells may be appended before the first compact.
const compactMin = 1 << 16

// order sorts cells by user, day and source in one integer compare.
func (c *Cell) order() uint64 {
	return uint64(uint32(c.User))<<32 | uint64(uint32(c.Day))<<2 | uint64(c.Source)
}

// compact sorts the cells and adds up those with the same key. User
// indexes are small and dense, so it is a counting sort by user; a user's
// cells were appended as its days finished, so its run is nearly always
// in order already.
func (t *Tally) compact() {
	in := t.cells
	var users int32
	for i := range in {
		users = max(users, in[i].User+1)
	}
	start := make([]int, users+1)
	for i := range in {
		start[in[i].User+1]++
	}
	for u := int32(1); u <= users; u++ {
		start[u] += start[u-1]
	}
	sorted := make([]Cell, len(in))
	next := slices.Clone(start[:users])
	for _, c := range in {
		sorted[next[c.User]] = c
		next[c.User]++
	}
	out := in[:0]
	for u := int32(0); u < users; u++ {
		run := sorted[start[u]:start[u+1]]
		if !slices.IsSortedFunc(run, cellOrder) {
			slices.SortFunc(run, cellOrder)
		}
		for _, c := range run {
			if n := len(out); n > 0 && out[n-1].order() == c.order() {
				out[n-1].add(c.Sum)
				continue
			}
			out = append(out, c)
		}
	}
	t.cells = out
	t.compacted = len(out)
}

// flush moves the days being counted into cells.
func (t *Tally) flush() {
	for i := range t.cur {
		s := &t.cur[i]
		if s.day != 0 {
			t.addCell(int32(i/int(numSources)), s.day, Source(i%int(numSources)), s.Sum)
			*s = slot{}
		}
	}
}

// AddUnassigned counts traffic of an unknown name. name is copied only
// when it is new.
func (t *Tally) AddUnassigned(name []byte, day Day, src Source, bytes, hits int64) {
	s, ok := t.unassigned[unassignedKey{string(name), day, src}]
	if !ok {
		n := string(name)
		if _, known := t.names[n]; !known {
			if len(t.names) >= maxUnassignedNames {
				n = OtherName
			} else {
				t.names[n] = struct{}{}
			}
		}
		k := unassignedKey{n, day, src}
		if s = t.unassigned[k]; s == nil {
			s = &Sum{}
			t.unassigned[k] = s
		}
	}
	s.Bytes += bytes
	s.Hits += hits
}

// Merge adds o into t. o must not be used afterwards: when t is still
// empty it takes over o's storage instead of copying it (a run merges each
// worker's tally, then each file's, then the total; with one log most of
// those merges are into an empty tally).
func (t *Tally) Merge(o *Tally) {
	o.flush()
	if t.empty() {
		t.months, t.cells, t.compacted, t.unassigned, t.names = o.months, o.cells, o.compacted, o.unassigned, o.names
		t.Lines, t.Malformed, t.Bytes = o.Lines, o.Malformed, o.Bytes
		*o = Tally{}
		return
	}
	for i := range o.months {
		m := &o.months[i]
		for u := range m.users() {
			for _, c := range m.appendCells(nil, int32(u)) {
				t.addCell(c.User, c.Day, c.Source, c.Sum)
			}
		}
	}
	t.cells = append(t.cells, o.cells...)
	if len(t.cells) >= 2*t.compacted+compactMin {
		t.compact()
	}
	for k, s := range o.unassigned {
		t.AddUnassigned([]byte(k.name), k.day, k.src, s.Bytes, s.Hits)
	}
	t.Lines += o.Lines
	t.Malformed += o.Malformed
	t.Bytes += o.Bytes
}

// empty reports whether nothing was counted into t yet.
func (t *Tally) empty() bool {
	for _, s := range t.cur {
		if s.day != 0 {
			return false
		}
	}
	return t.months[0].month == 0 && len(t.cells) == 0 && len(t.unassigned) == 0 && t.Lines == 0 && t.Malformed == 0 && t.Bytes == 0
}

// Cells returns the per-user sums, ordered by user, day and source.
func (t *Tally) Cells() []Cell {
	t.flush()
	if len(t.cells) != t.compacted {
		t.compact()
	}
	// Per user, the two months in order, then the other months' cells
	// merged in: each part is in order already.
	first, second := &t.months[0], &t.months[1]
	if second.month != 0 && second.month < first.month {
		first, second = second, first
	}
	users := max(first.users(), second.users())
	out := make([]Cell, 0, len(t.cells)+users*32)
	var mine []Cell
	rest := t.cells
	for u := int32(0); int(u) < users || len(rest) > 0; u++ {
		mine = first.appendCells(mine[:0], u)
		mine = second.appendCells(mine, u)
		i := 0
		for i < len(rest) && rest[i].User == u {
			i++
		}
		out = mergeCells(out, mine, rest[:i])
		rest = rest[i:]
	}
	return out
}

// mergeCells appends the cells of a and b, each in order, to out in order,
// adding up those with the same key.
func mergeCells(out, a, b []Cell) []Cell {
	for len(a) > 0 || len(b) > 0 {
		var c Cell
		switch {
		case len(b) == 0 || len(a) > 0 && a[0].order() < b[0].order():
			c, a = a[0], a[1:]
		case len(a) == 0 || b[0].order() < a[0].order():
			c, b = b[0], b[1:]
		default:
			c = a[0]
			c.add(b[0].Sum)
			a, b = a[1:], b[1:]
		}
		out = append(out, c)
	}
	return out
}

// Unassigned returns the traffic of unknown names, ordered by name, day
// and source.
func (t *Tally) Unassigned() []Unassigned {
	out := make([]Unassigned, 0, len(t.unassigned))
	for k, s := range t.unassigned {
		out = append(out, Unassigned{Name: k.name, Day: k.day, Source: k.src, Sum: *s})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		return a.Source < b.Source
	})
	return out
}

// TopUnassigned sums the unknown names over days and returns the n with
// the most hits (then bytes), for the run's report.
func (t *Tally) TopUnassigned(n int) []Unassigned {
	by := map[string]*Unassigned{}
	for k, s := range t.unassigned {
		key := k.src.String() + "\x00" + k.name
		u := by[key]
		if u == nil {
			u = &Unassigned{Name: k.name, Source: k.src}
			by[key] = u
		}
		u.add(*s)
	}
	out := make([]Unassigned, 0, len(by))
	for _, u := range by {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Hits != b.Hits {
			return a.Hits > b.Hits
		}
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		return a.Name < b.Name
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// UnassignedHits is the number of hits no user was found for.
func (t *Tally) UnassignedHits() int64 {
	var n int64
	for _, s := range t.unassigned {
		n += s.Hits
	}
	return n
}

// Targets are the names traffic is attributed by: domains (for vhosts) and
// logins (for FTP). Users holds the account id of each user index. Targets
// is read-only once built and shared by all goroutines.
type Targets struct {
	Users   []int64
	domains map[string]int32
	logins  map[string]int32
}

// NewTargets indexes domains (name → user id) and logins (login → user
// id). Names are compared in lower case.
func NewTargets(domains, logins map[string]int64) *Targets {
	t := &Targets{domains: make(map[string]int32, len(domains)), logins: make(map[string]int32, len(logins))}
	// User indexes follow the account ids, so cells ordered by user
	// index are ordered as the store writes them (and do not depend on
	// map order).
	index := map[int64]int32{}
	for _, m := range []map[string]int64{domains, logins} {
		for _, id := range m {
			index[id] = 0
		}
	}
	t.Users = make([]int64, 0, len(index))
	for id := range index {
		t.Users = append(t.Users, id)
	}
	slices.Sort(t.Users)
	for i, id := range t.Users {
		index[id] = int32(i)
	}
	// Sorted, so which of two names that differ only in case wins does
	// not depend on map order.
	for _, name := range sortedKeys(domains) {
		t.domains[strings.TrimSuffix(strings.ToLower(name), ".")] = index[domains[name]]
	}
	for _, name := range sortedKeys(logins) {
		t.logins[strings.ToLower(name)] = index[logins[name]]
	}
	return t
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolver maps names from a log to user indexes. It holds no state of
// its own beyond the shared Targets (parsers cache what they look up).
type Resolver struct {
	t *Targets
}

// NewResolver returns a resolver over t.
func NewResolver(t *Targets) *Resolver {
	return &Resolver{t: t}
}

// Host returns the user whose domain serves host, or -1. host is lower
// case without port. The owner of the longest matching domain wins: the
// domain itself, www.domain and any subdomain *.domain belong to it.
func (r *Resolver) Host(host []byte) int32 {
	for rest := host; len(rest) > 0; {
		if v, ok := r.t.domains[string(rest)]; ok { // no allocation: map index with string(b)
			return v
		}
		dot := indexDot(rest)
		if dot < 0 {
			break
		}
		rest = rest[dot+1:]
	}
	return -1
}

func indexDot(b []byte) int {
	for i, c := range b {
		if c == '.' {
			return i
		}
	}
	return -1
}

// FTPUser returns the user of an FTP login: the user itself (webN) or the
// user an extra FTP account belongs to (webNfM → webN); -1 if none.
func (r *Resolver) FTPUser(login []byte) int32 {
	if u, ok := r.t.logins[string(login)]; ok {
		return u
	}
	// webNfM: strip "f" and digits from the end.
	i := len(login)
	for i > 0 && login[i-1] >= '0' && login[i-1] <= '9' {
		i--
	}
	if i < len(login) && i > 1 && login[i-1] == 'f' {
		if u, ok := r.t.logins[string(login[:i-1])]; ok {
			return u
		}
	}
	return -1
}
