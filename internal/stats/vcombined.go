package stats

import "bytes"

// VCombined is Apache's "vhost_combined" access log:
//
//	%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"
//
// also without ":%p", and also without the referer and user agent
// ("vhost_common"). The bytes counted are %O (sent, headers included), or
// %b where a log uses it; "-" is 0.
type VCombined struct{}

// Name implements Format.
func (VCombined) Name() string { return "vcombined" }

// Source implements Format.
func (VCombined) Source() Source { return SourceWeb }

// Independent implements Format: every line stands alone.
func (VCombined) Independent() bool { return true }

// NewParser implements Format.
func (VCombined) NewParser(r *Resolver, t *Tally) Parser {
	return &vcombinedParser{r: r, t: t, hosts: newHostCache()}
}

type vcombinedParser struct {
	r *Resolver
	t *Tally
	// The last date seen and its day: consecutive lines almost always
	// share the date, so it is parsed once per day, not once per line.
	lastDate [11]byte
	lastDay  Day
	// host is a scratch buffer for a host name that needs lower-casing.
	host [256]byte
	// hosts caches each vhost's user and sums its current day.
	hosts hostCache
}

// Flush implements Parser: the days the host cache is still summing go
// to the tally.
func (p *vcombinedParser) Flush() { p.hosts.flush(p.t, SourceWeb) }

// Host-name byte classes of hostClass.
const (
	hcBad   = iota // ends the line as malformed
	hcOK           // a-z 0-9 . - _
	hcUpper        // A-Z: lower-cased for the resolver
)

var hostClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = hcOK
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = hcOK
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = hcUpper
	}
	t['.'], t['-'], t['_'] = hcOK, hcOK, hcOK
	return t
}()

// Parse implements Parser.
func (p *vcombinedParser) Parse(buf []byte) {
	t := p.t
	t.Bytes += int64(len(buf))
	for len(buf) > 0 {
		nl := bytes.IndexByte(buf, '\n')
		var line []byte
		if nl < 0 {
			line, buf = buf, nil
		} else {
			line, buf = buf[:nl], buf[nl+1:]
		}
		t.Lines++
		if !p.line(line) {
			t.Malformed++
		}
	}
}

// line parses one line and reports whether it was well-formed.
func (p *vcombinedParser) line(l []byte) bool {
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	// "%v:%p" or "%v". The name as written is the key of the host cache:
	// a name found there was checked and resolved when it was first seen,
	// so the usual line costs one vectorised search and one hash here.
	k := bytes.IndexByte(l, ' ')
	if k <= 0 {
		return false
	}
	key := l[:k]
	if digit(key[k-1]) {
		// The port: one to five digits after the last colon. Digits
		// without a colon end the name itself.
		j := k - 1
		for j >= 0 && digit(key[j]) {
			j--
		}
		if j >= 0 && key[j] == ':' {
			if k-1-j > 5 {
				return false
			}
			key = key[:j]
		}
	}
	// %h %l %u, then %t: [10/Oct/2026:13:55:36 +0200]. Three fields
	// before the date tell a vhost log from a plain combined one, whose
	// client address would otherwise pass for a vhost.
	rest := l[k:]
	b := bytes.IndexByte(rest, '[')
	if b < 0 || len(rest) < b+30 || !fourSpaces(rest[:b]) {
		return false
	}
	date := rest[b+1:]
	if date[26] != ']' || date[27] != ' ' || date[28] != '"' {
		return false
	}
	var day Day
	if [11]byte(date[:11]) == p.lastDate && p.lastDay != 0 {
		day = p.lastDay
	} else {
		day = parseCLFDay(date[:11])
		if day == 0 {
			return false
		}
		p.lastDate, p.lastDay = [11]byte(date[:11]), day
	}
	// "%r": up to the first quote that is not escaped as \".
	req := date[29:]
	q := 0
	for {
		k := bytes.IndexByte(req[q:], '"')
		if k < 0 {
			return false
		}
		q += k
		bs := 0
		for j := q - 1; j >= 0 && req[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			break
		}
		q++
	}
	// %>s %O
	f := req[q+1:]
	if len(f) < 6 || f[0] != ' ' || !digit(f[1]) || !digit(f[2]) || !digit(f[3]) || f[4] != ' ' {
		return false
	}
	f = f[5:]
	var n int64
	j := 0
	if f[0] == '-' {
		j = 1
	} else {
		for ; j < len(f) && digit(f[j]); j++ {
			n = n*10 + int64(f[j]-'0')
		}
		if j == 0 || j > 18 {
			return false
		}
	}
	if j < len(f) && f[j] != ' ' {
		return false
	}
	h, e := p.hosts.find(key)
	if e != nil {
		p.hosts.count(e, p.t, SourceWeb, day, n)
		return true
	}
	host, ok := vhostName(key, &p.host)
	if !ok {
		return false
	}
	u := p.r.Host(host)
	if e := p.hosts.put(h, key, host, u); e != nil {
		p.hosts.count(e, p.t, SourceWeb, day, n)
	} else if u >= 0 {
		p.t.Add(u, day, SourceWeb, n, 1)
	} else {
		p.t.AddUnassigned(host, day, SourceWeb, n, 1)
	}
	return true
}

// vhostName checks the host name of a line (%v, without the port) and
// returns it lower-cased (in scratch when that changes it) and without a
// trailing dot.
func vhostName(key []byte, scratch *[256]byte) ([]byte, bool) {
	if len(key) == 0 || len(key) > 253 {
		return nil, false
	}
	upper := false
	for _, c := range key {
		switch hostClass[c] {
		case hcOK:
		case hcUpper:
			upper = true
		default:
			return nil, false
		}
	}
	host := key
	if host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	if len(host) == 0 {
		return nil, false
	}
	if upper {
		n := copy(scratch[:], host)
		for j := 0; j < n; j++ {
			if c := scratch[j]; c >= 'A' && c <= 'Z' {
				scratch[j] = c + 'a' - 'A'
			}
		}
		host = scratch[:n]
	}
	return host, true
}

// fourSpaces reports whether b, which begins with a space, holds at
// least four. The second is the first after the start; the usual "- - "
// after it is short, so only the client address is searched, with the
// vectorised search.
func fourSpaces(b []byte) bool {
	s := bytes.IndexByte(b[1:], ' ')
	if s < 0 {
		return false
	}
	n := 2
	for _, c := range b[s+2:] {
		if c == ' ' {
			if n++; n == 4 {
				return true
			}
		}
	}
	return false
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// parseCLFDay parses "10/Oct/2026" into 20261010, 0 if it is not a date.
func parseCLFDay(b []byte) Day {
	if len(b) < 11 || b[2] != '/' || b[6] != '/' {
		return 0
	}
	d, ok1 := num(b[0:2])
	y, ok2 := num(b[7:11])
	m := monthNumber(b[3], b[4], b[5])
	if !ok1 || !ok2 || m == 0 || !validDate(y, m, d) {
		return 0
	}
	return Day(y*10000 + m*100 + d)
}

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !digit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// monthNumber maps "Jan".."Dec" (any case) to 1..12, else 0.
func monthNumber(a, b, c byte) int {
	switch uint32(a|0x20)<<16 | uint32(b|0x20)<<8 | uint32(c|0x20) {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8
	case 's'<<16 | 'e'<<8 | 'p':
		return 9
	case 'o'<<16 | 'c'<<8 | 't':
		return 10
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

func validDate(y, m, d int) bool {
	if y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}
