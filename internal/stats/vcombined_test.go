package stats

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// parse runs a parser over text and returns the tally.
func parse(t *testing.T, f Format, tg *Targets, text string) *Tally {
	t.Helper()
	tally := NewTally()
	p := f.NewParser(NewResolver(tg), tally)
	p.Parse([]byte(text))
	p.Flush()
	return tally
}

// sums returns the tally's cells as sorted "user day source bytes hits"
// lines with the users' account ids.
func sums(tg *Targets, t *Tally) string {
	var lines []string
	for _, c := range t.Cells() {
		lines = append(lines, fmt.Sprintf("%d %d %s %d %d\n", tg.Users[c.User], c.Day, c.Source, c.Bytes, c.Hits))
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

func unassigned(t *Tally) string {
	var b strings.Builder
	for _, u := range t.Unassigned() {
		fmt.Fprintf(&b, "%s %d %s %d %d\n", u.Name, u.Day, u.Source, u.Bytes, u.Hits)
	}
	return b.String()
}

func testTargets() *Targets {
	return NewTargets(map[string]int64{
		"example.com":      1,
		"shop.example.com": 2, // a subdomain registered by another user
		"xn--bcher-kva.de": 3,
		"other.org":        4,
	}, map[string]int64{"web1": 1, "web2": 2, "res1web0": 5})
}

const ua = `"https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) \"quoted\""`

func TestVCombinedAttribution(t *testing.T) {
	tg := testTargets()
	lines := []string{
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1000 ` + ua,
		`www.example.com:80 192.0.2.1 - - [14/Mar/2026:23:59:59 +0100] "GET /a HTTP/1.1" 200 10 ` + ua,
		`WWW.Example.COM:80 192.0.2.1 - - [14/Mar/2026:23:59:59 +0100] "GET /b HTTP/1.1" 304 1 ` + ua,
		`deep.sub.example.com 192.0.2.1 - - [15/Mar/2026:00:00:00 +0100] "GET / HTTP/1.1" 200 100 ` + ua,
		`example.com. 192.0.2.1 - - [15/Mar/2026:00:00:01 +0100] "GET / HTTP/1.1" 200 5 ` + ua,
		// The longest matching domain wins.
		`shop.example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 7000 ` + ua,
		`www.shop.example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 3000 ` + ua,
		// A request with an escaped quote, "-" bytes, vhost_common without
		// referer and agent, CRLF.
		`xn--bcher-kva.de:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET /\"x\" HTTP/1.1" 200 50 ` + ua,
		`xn--bcher-kva.de:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "-" 408 - "-" "-"`,
		`other.org:443 192.0.2.1 - frank [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.0" 200 2326`,
		"other.org:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] \"GET / HTTP/1.0\" 200 4\r",
		// No domain in the store: unassigned, counted per vhost.
		`unknown.net:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 99 ` + ua,
		`UNKNOWN.net:80 192.0.2.1 - - [14/Mar/2026:11:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com.evil.net:80 192.0.2.1 - - [14/Mar/2026:11:00:00 +0100] "GET / HTTP/1.1" 200 2 ` + ua,
		`notexample.com:80 192.0.2.1 - - [14/Mar/2026:11:00:00 +0100] "GET / HTTP/1.1" 200 3 ` + ua,
	}
	tally := parse(t, VCombined{}, tg, strings.Join(lines, "\n")+"\n")
	if tally.Malformed != 0 || tally.Lines != int64(len(lines)) {
		t.Fatalf("lines %d malformed %d, want %d and 0", tally.Lines, tally.Malformed, len(lines))
	}
	want := `1 20260314 web 1011 3
1 20260315 web 105 2
2 20260314 web 10000 2
3 20260314 web 50 2
4 20260314 web 2330 2
`
	if got := sums(tg, tally); got != want {
		t.Errorf("sums:\n%s\nwant:\n%s", got, want)
	}
	wantU := `example.com.evil.net 20260314 web 2 1
notexample.com 20260314 web 3 1
unknown.net 20260314 web 100 2
`
	if got := unassigned(tally); got != wantU {
		t.Errorf("unassigned:\n%s\nwant:\n%s", got, wantU)
	}
}

func TestVCombinedMalformed(t *testing.T) {
	tg := testTargets()
	good := `example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1000 ` + ua
	bad := []string{
		``,
		`garbage`,
		`example.com:443`,
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100]`,
		`example.com:443 192.0.2.1 - - [32/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com:443 192.0.2.1 - - [29/Feb/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com:443 192.0.2.1 - - [14/Foo/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com:443 192.0.2.1 - - [14/Mar/26:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1 200 1`,
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" OK 1 ` + ua,
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1k ` + ua,
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 12345678901234567890 ` + ua,
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 ` + ua,
		`exa"mple.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		"exa\x00mple.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] \"GET / HTTP/1.1\" 200 1 " + ua,
		`exämple.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com:44x3 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`example.com:123456 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`[2001:db8::1]:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		strings.Repeat("a", 254) + ` 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		`. 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
		// A combined line without the vhost.
		`192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 ` + ua,
	}
	text := good + "\n" + strings.Join(bad, "\n") + "\n" + good + "\n"
	tally := parse(t, VCombined{}, tg, text)
	if tally.Lines != int64(len(bad)+2) {
		t.Errorf("lines %d, want %d", tally.Lines, len(bad)+2)
	}
	if tally.Malformed != int64(len(bad)) {
		t.Errorf("malformed %d, want %d", tally.Malformed, len(bad))
	}
	if got, want := sums(tg, tally), "1 20260314 web 2000 2\n"; got != want {
		t.Errorf("sums %q, want %q", got, want)
	}
	for i, l := range bad {
		one := parse(t, VCombined{}, tg, l+"\n")
		if one.Malformed != 1 {
			t.Errorf("bad line %d %q: malformed %d", i, l, one.Malformed)
		}
	}
}

func TestParseCLFDay(t *testing.T) {
	for in, want := range map[string]Day{
		"01/Jan/1970": 19700101, "29/Feb/2024": 20240229, "31/dec/2026": 20261231,
		"29/Feb/2100": 0, "00/Jan/2026": 0, "1/Jan/2026x": 0, "01-Jan-2026": 0, "01/Jan/1969": 0,
	} {
		if got := parseCLFDay([]byte(in)); got != want {
			t.Errorf("parseCLFDay(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestTallyBoundsUnassignedNames(t *testing.T) {
	tally := NewTally()
	for i := 0; i < maxUnassignedNames+500; i++ {
		tally.AddUnassigned([]byte(fmt.Sprintf("h%d.example", i)), 20260301, SourceWeb, 1, 1)
	}
	var other Sum
	names := map[string]bool{}
	for _, u := range tally.Unassigned() {
		names[u.Name] = true
		if u.Name == OtherName {
			other = u.Sum
		}
	}
	if len(names) != maxUnassignedNames+1 || other != (Sum{Bytes: 500, Hits: 500}) {
		t.Errorf("%d names, other %+v; want %d and 500 hits", len(names), other, maxUnassignedNames+1)
	}
	if tally.UnassignedHits() != int64(maxUnassignedNames+500) {
		t.Errorf("hits %d", tally.UnassignedHits())
	}
}

// A log whose lines jump between days (two servers' logs merged, say)
// finishes a day at almost every line: the tally still adds them up per
// user and day, and holds about as many cells as there are distinct ones.
func TestTallyJumpingDays(t *testing.T) {
	tally := NewTally()
	const lines = 10 * compactMin
	peak := 0
	for i := 0; i < lines; i++ {
		tally.Add(int32(i%7), Day(20260301+i%2), SourceWeb, int64(i%100), 1)
		peak = max(peak, len(tally.cells))
	}
	if peak > 2*14+compactMin {
		t.Errorf("the tally held %d cells for 14 distinct ones", peak)
	}
	got := map[string]Sum{}
	for _, c := range tally.Cells() {
		got[fmt.Sprintf("%d/%d", c.User, c.Day)] = c.Sum
	}
	want := map[string]Sum{}
	for i := 0; i < lines; i++ {
		k := fmt.Sprintf("%d/%d", i%7, 20260301+i%2)
		s := want[k]
		s.add(Sum{Bytes: int64(i % 100), Hits: 1})
		want[k] = s
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells %v, want %v", got, want)
	}
}

// The host cache holds at most maxHostCache names, its index at most half
// full; names beyond it, and names longer than an entry holds inline, are
// still attributed and summed right.
func TestHostCacheIsBounded(t *testing.T) {
	tg := testTargets()
	var b strings.Builder
	for i := 0; i < maxHostCache; i++ {
		fmt.Fprintf(&b, "x%d.example.com 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] \"GET / HTTP/1.1\" 200 1\n", i)
	}
	long := strings.Repeat("a", inlineHost+1) + ".other.org"
	for _, h := range []string{"www.shop.example.com", "www.shop.example.com", long, long} {
		fmt.Fprintf(&b, "%s 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] \"GET / HTTP/1.1\" 200 10\n", h)
	}
	tally := NewTally()
	p := VCombined{}.NewParser(NewResolver(tg), tally).(*vcombinedParser)
	p.Parse([]byte(b.String()))
	if len(p.hosts.entries) > maxHostCache || len(p.hosts.index) > 2*maxHostCache {
		t.Errorf("cache holds %d in %d slots", len(p.hosts.entries), len(p.hosts.index))
	}
	p.Flush()
	want := "1 20260314 web 16384 16384\n2 20260314 web 20 2\n4 20260314 web 20 2\n"
	if got := sums(tg, tally); got != want {
		t.Errorf("sums:\n%s\nwant:\n%s", got, want)
	}
}

func TestTopUnassigned(t *testing.T) {
	tally := NewTally()
	tally.AddUnassigned([]byte("a.example"), 20260301, SourceWeb, 10, 1)
	tally.AddUnassigned([]byte("b.example"), 20260301, SourceWeb, 1, 2)
	tally.AddUnassigned([]byte("b.example"), 20260302, SourceWeb, 1, 2)
	tally.AddUnassigned([]byte("a.example"), 20260302, SourceFTP, 5, 9)
	tally.AddUnassigned([]byte("c.example"), 20260302, SourceWeb, 99, 1)
	got := fmt.Sprint(tally.TopUnassigned(3))
	if want := "[{a.example 0 ftp {5 9}} {b.example 0 web {2 4}} {c.example 0 web {99 1}}]"; got != want {
		t.Errorf("top 3: %s, want %s", got, want)
	}
	if n := len(tally.TopUnassigned(0)); n != 0 {
		t.Errorf("top 0: %d", n)
	}
}

// A tally adds the days of two months in place and appends the others;
// merged tallies that saw other months first, and days added through the
// current-day slots, must come out as a plain map of sums would.
func TestTallyMonthsMatchModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	type key struct {
		user int32
		day  Day
		src  Source
	}
	model := map[key]Sum{}
	tallies := []*Tally{NewTally(), NewTally(), NewTally()}
	months := []int32{202511, 202512, 202601, 202602}
	for i := 0; i < 20000; i++ {
		month := months[rnd.IntN(len(months))]
		if i < 2 {
			// The first tally, which the total takes over, sees a later
			// month first.
			month = months[3-3*i]
		}
		k := key{int32(rnd.IntN(60)), Day(month*100 + int32(1+rnd.IntN(31))), Source(rnd.IntN(int(numSources)))}
		s := Sum{Bytes: int64(rnd.IntN(1000)), Hits: 1 + int64(rnd.IntN(3))}
		m := model[k]
		m.add(s)
		model[k] = m
		tl := tallies[rnd.IntN(len(tallies))]
		if i < 2 {
			tl = tallies[0]
		}
		if i < 2 || rnd.IntN(2) == 0 {
			tl.addCell(k.user, k.day, k.src, s)
		} else {
			tl.Add(k.user, k.day, k.src, s.Bytes, s.Hits)
		}
	}
	total := NewTally()
	for _, tl := range tallies {
		total.Merge(tl)
	}
	var want []Cell
	for k, s := range model {
		want = append(want, Cell{User: k.user, Day: k.day, Source: k.src, Sum: s})
	}
	slices.SortFunc(want, cellOrder)
	if got := total.Cells(); !reflect.DeepEqual(got, want) {
		t.Errorf("cells differ from the model: %d cells, want %d", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("first difference at %d: %+v, want %+v", i, got[i], want[i])
				break
			}
		}
	}
}
