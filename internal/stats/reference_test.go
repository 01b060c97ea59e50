package stats

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"kontor/internal/testenv"
)

// The vcombined parser is written for speed (a host cache keyed by the
// name as written, words compared eight bytes at a time). referenceLine
// is the same format read the plain way, field by field; the parser must
// agree with it on every line, good or broken.

// referenceLine returns the lower-cased host, the day and the bytes of a
// vhost_combined line, ok false if the line is malformed.
func referenceLine(l string) (host string, day Day, n int64, ok bool) {
	l = strings.TrimSuffix(l, "\r")
	field, rest, found := strings.Cut(l, " ")
	if !found || field == "" {
		return "", 0, 0, false
	}
	rest = " " + rest
	// %v, then :%p, one to five digits.
	if h, port, hasPort := strings.Cut(field, ":"); hasPort {
		if len(port) < 1 || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "", 0, 0, false
		}
		field = h
	}
	if len(field) == 0 || len(field) > 253 || strings.Trim(strings.ToLower(field), "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" {
		return "", 0, 0, false
	}
	host = strings.ToLower(strings.TrimSuffix(field, "."))
	if host == "" {
		return "", 0, 0, false
	}
	// %h %l %u: at least four spaces before the first '['.
	b := strings.IndexByte(rest, '[')
	if b < 0 || strings.Count(rest[:b], " ") < 4 || len(rest) < b+30 {
		return "", 0, 0, false
	}
	date := rest[b+1:]
	if date[26:29] != `] "` {
		return "", 0, 0, false
	}
	if day = parseCLFDay([]byte(date[:11])); day == 0 {
		return "", 0, 0, false
	}
	// "%r" ends at the first quote after an even number of backslashes.
	req := date[29:]
	end := -1
	for i := 0; i < len(req); i++ {
		if req[i] != '"' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && req[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return "", 0, 0, false
	}
	// " %>s %O", then the end or a space.
	f := req[end+1:]
	if len(f) < 6 || f[0] != ' ' || strings.Trim(f[1:4], "0123456789") != "" || f[4] != ' ' {
		return "", 0, 0, false
	}
	size, _, _ := strings.Cut(f[5:], " ")
	if size == "-" {
		return host, day, 0, true
	}
	if len(size) < 1 || len(size) > 18 || strings.Trim(size, "0123456789") != "" {
		return "", 0, 0, false
	}
	for _, c := range size {
		n = n*10 + int64(c-'0')
	}
	return host, day, n, true
}

// referenceTally adds up lines the way the parser should.
func referenceTally(tg *Targets, lines []string) (cells, unknown string, malformed int64) {
	r := NewResolver(tg)
	t := NewTally()
	for _, l := range lines {
		host, day, n, ok := referenceLine(l)
		if !ok {
			malformed++
			continue
		}
		if u := r.Host([]byte(host)); u >= 0 {
			t.Add(u, day, SourceWeb, n, 1)
		} else {
			t.AddUnassigned([]byte(host), day, SourceWeb, n, 1)
		}
	}
	return sums(tg, t), unassigned(t), malformed
}

// mutate breaks a good line at random: a byte changed, dropped or
// doubled, a space or quote or bracket or colon put in, a part cut off.
func mutate(rnd *rand.Rand, l string) string {
	if l == "" {
		return l
	}
	special := []byte(" :[]\"\\-.0Aaz\r\t/")
	b := []byte(l)
	for k := rnd.IntN(3); k >= 0; k-- {
		if len(b) == 0 {
			break
		}
		i := rnd.IntN(len(b))
		switch rnd.IntN(6) {
		case 0:
			b[i] = special[rnd.IntN(len(special))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = append(b[:i], append([]byte{b[i]}, b[i:]...)...)
		case 3:
			b = b[:i]
		case 4:
			b[i] = byte(rnd.IntN(256))
		case 5:
			b = append(b[:i], append([]byte{special[rnd.IntN(len(special))]}, b[i:]...)...)
		}
	}
	return string(bytes.ReplaceAll(b, []byte{'\n'}, nil))
}

func TestVCombinedAgreesWithReference(t *testing.T) {
	tg := NewTargets(map[string]int64{
		"example.com":      1,
		"shop.example.com": 2,
		"other.org":        3,
		"a.io":             4,
		"customer-with-a-rather-long-domain-name.example": 5,
	}, nil)
	hosts := []string{
		"example.com", "www.example.com", "WWW.Example.COM", "example.com.", "shop.example.com",
		"x.shop.example.com", "other.org", "a.io", "b.io", "unknown.example.net", "Unknown.Example.NET",
		"customer-with-a-rather-long-domain-name.example", "www.customer-with-a-rather-long-domain-name.example",
		"not-a-customer-with-a-rather-long-domain-name.example", "a", "x.y", "12345678", "x_y.example.com",
	}
	rnd := rand.New(rand.NewPCG(7, 11))
	for round := 0; round < 20; round++ {
		var lines []string
		for i := 0; i < 5000; i++ {
			port := []int{0, 80, 443, 8080, 65535}[rnd.IntN(5)]
			l := strings.TrimSuffix(vline(hosts[rnd.IntN(len(hosts))], port, 1+rnd.IntN(3), rnd.IntN(24), "Mar", 2026, int64(rnd.IntN(100000)), rnd), "\n")
			switch rnd.IntN(10) {
			case 0:
				l = strings.Replace(l, " 200 ", " 304 ", 1)
				l = l[:strings.LastIndex(l, ` "https`)] // vhost_common
			case 1:
				l += "\r"
			case 2:
				l = strings.Replace(l, `HTTP/1.1"`, `HTTP/1.1\\\" x\\" \"`, 1)
			}
			if rnd.IntN(3) == 0 {
				l = mutate(rnd, l)
			}
			lines = append(lines, l)
		}
		tally := parse(t, VCombined{}, tg, strings.Join(lines, "\n")+"\n")
		wantCells, wantUnknown, wantMalformed := referenceTally(tg, lines)
		if got := sums(tg, tally); got != wantCells {
			t.Fatalf("round %d: cells differ from the reference:\n%s", round, testenv.FirstDiff([]byte(wantCells), []byte(got)))
		}
		if got := unassigned(tally); got != wantUnknown {
			t.Fatalf("round %d: unassigned differ from the reference:\n%s", round, testenv.FirstDiff([]byte(wantUnknown), []byte(got)))
		}
		if tally.Malformed != wantMalformed || tally.Lines != int64(len(lines)) {
			for _, l := range lines {
				one := parse(t, VCombined{}, tg, l+"\n")
				if _, _, _, ok := referenceLine(l); ok == (one.Malformed == 1) {
					t.Fatalf("round %d: %q: malformed %d, reference says well-formed %v", round, l, one.Malformed, ok)
				}
			}
			t.Fatalf("round %d: %d lines, %d malformed, want %d, %d", round, tally.Lines, tally.Malformed, len(lines), wantMalformed)
		}
	}
}

func FuzzVCombinedAgreesWithReference(f *testing.F) {
	f.Add(`www.example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1000 "-" "curl"`)
	f.Add(`EXAMPLE.com.:8 a b c [29/Feb/2024:10:00:00 +0100] "" 999 1`)
	f.Add(`a:1:2 a b c [29/Feb/2024:10:00:00 +0100] "\\\"" 999 -`)
	tg := testTargets()
	f.Fuzz(func(t *testing.T, l string) {
		l = strings.ReplaceAll(l, "\n", "")
		tally := parse(t, VCombined{}, tg, l+"\n")
		wantCells, wantUnknown, wantMalformed := referenceTally(tg, []string{l})
		if got := sums(tg, tally); got != wantCells || unassigned(tally) != wantUnknown || tally.Malformed != wantMalformed {
			t.Fatalf("%q: parser %q %q %d, reference %q %q %d", l, got, unassigned(tally), tally.Malformed, wantCells, wantUnknown, wantMalformed)
		}
	})
}
