package stats

import "bytes"

// Xferlog is the standard FTP transfer log of wu-ftpd, vsftpd
// (xferlog_std_format) and proftpd:
//
//	Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /html/a b.txt b _ o r web1f2 ftp 0 * c
//
// current-time (5 fields), transfer-time, remote-host, bytes, file name
// (which may contain spaces), transfer-type, special-action, direction
// (o out, i in, d deleted), access-mode, username, service-name,
// authentication-method, authenticated-user-id and, in newer servers,
// completion-status (c or i). Uploads and downloads count; a deletion is
// not traffic. The username maps to a user: webN itself, or webNfM, an
// extra FTP account of webN.
type Xferlog struct{}

// Name implements Format.
func (Xferlog) Name() string { return "xferlog" }

// Source implements Format.
func (Xferlog) Source() Source { return SourceFTP }

// Independent implements Format.
func (Xferlog) Independent() bool { return true }

// NewParser implements Format.
func (Xferlog) NewParser(r *Resolver, t *Tally) Parser { return &xferlogParser{r: r, t: t} }

type xferlogParser struct {
	r *Resolver
	t *Tally
}

// Flush implements Parser: an xferlog parser counts every line at once.
func (p *xferlogParser) Flush() {}

// Parse implements Parser.
func (p *xferlogParser) Parse(buf []byte) {
	p.t.Bytes += int64(len(buf))
	for len(buf) > 0 {
		nl := bytes.IndexByte(buf, '\n')
		var line []byte
		if nl < 0 {
			line, buf = buf, nil
		} else {
			line, buf = buf[:nl], buf[nl+1:]
		}
		p.t.Lines++
		if !p.line(line) {
			p.t.Malformed++
		}
	}
}

// xferlog fields after the file name, counted from the right in the
// layout with the completion status.
const (
	xrStatus = iota
	xrAuthUser
	xrAuthMethod
	xrService
	xrUser
	xrMode
	xrDirection
	xrSpecial
	xrType
	xrCount
)

func (p *xferlogParser) line(l []byte) bool {
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	var left [8][]byte
	rest := l
	for i := range left {
		left[i], rest = nextField(rest)
		if left[i] == nil {
			return false
		}
	}
	// The file name may hold spaces: the fields after it are counted from
	// the right. starts[i] is where right[i] begins in rest.
	var right [xrCount][]byte
	var starts [xrCount]int
	end := len(rest)
	for i := range right {
		j := end
		for j > 0 && rest[j-1] == ' ' {
			j--
		}
		k := j
		for k > 0 && rest[k-1] != ' ' {
			k--
		}
		if k == j {
			return false
		}
		right[i], starts[i], end = rest[k:j], k, k
	}
	var nameEnd int
	var r [xrCount][]byte
	switch {
	case oneOf(right[xrStatus], "ci") && xferShape(right[1:]):
		r, nameEnd = right, starts[xrType]
	case xferShape(right[:xrCount-1]):
		// No completion status (older wu-ftpd): everything shifts by one.
		copy(r[1:], right[:xrCount-1])
		nameEnd = starts[xrType-1]
	default:
		return false
	}
	if len(bytes.TrimSpace(rest[:nameEnd])) == 0 {
		return false // no file name
	}
	mon := left[1]
	if len(mon) != 3 {
		return false
	}
	m := monthNumber(mon[0], mon[1], mon[2])
	d, ok1 := num(left[2])
	y, ok2 := num(left[4])
	if m == 0 || !ok1 || !ok2 || len(left[2]) > 2 || len(left[4]) != 4 || !validDate(y, m, d) || len(left[3]) != 8 || left[3][2] != ':' {
		return false
	}
	day := Day(y*10000 + m*100 + d)
	size := left[7]
	if len(size) > 18 {
		return false
	}
	var n int64
	for _, c := range size {
		if !digit(c) {
			return false
		}
		n = n*10 + int64(c-'0')
	}
	if r[xrDirection][0] == 'd' {
		return true // a deletion moves no bytes
	}
	user := r[xrUser]
	if u := p.r.FTPUser(user); u >= 0 {
		p.t.Add(u, day, SourceFTP, n, 1)
		return true
	}
	if !cleanName(user) {
		user = []byte(OtherName)
	}
	p.t.AddUnassigned(user, day, SourceFTP, n, 1)
	return true
}

func oneOf(b []byte, set string) bool {
	return len(b) == 1 && bytes.IndexByte([]byte(set), b[0]) >= 0
}

// xferShape checks the eight fields after the completion status, right to
// left: auth user, auth method, service, user, mode, direction, special
// action, transfer type.
func xferShape(f [][]byte) bool {
	if len(f) != xrCount-1 {
		return false
	}
	if !oneOf(f[xrMode-1], "agr") || !oneOf(f[xrDirection-1], "oid") || !oneOf(f[xrType-1], "ab") {
		return false
	}
	for _, c := range f[xrSpecial-1] {
		if c != '_' && c != 'C' && c != 'U' && c != 'T' {
			return false
		}
	}
	return true
}

// nextField returns the first space-separated field of b and the rest; nil
// when there is none.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	if i == j {
		return nil, b[j:]
	}
	return b[i:j], b[j:]
}

// cleanName reports whether an unknown name may be stored and shown as it
// is: printable ASCII without quotes, backslashes or spaces, at most 64
// bytes.
func cleanName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' || c == '<' || c == '>' || c == '`' {
			return false
		}
	}
	return true
}
