package webalizer

import (
	"bytes"
	"strings"
)

// maxLine bounds a log line; Apache's own limits on the request line and
// headers keep real lines far shorter.
const maxLine = 32 << 10

// Split cuts an access log in apache's kontor_vhost format ("vhost:port"
// followed by the combined format) into one combined-format log per site:
// the result maps each of domains (punycode) to its lines with the first
// field removed. A vhost is given to the longest of domains it equals or
// ends with after a dot, so "www.example.com" and wildcard names go to
// "example.com", and "sub.example.com" to itself when it is a site of its
// own. Lines of other vhosts, malformed lines and a last line without its
// newline (Apache may be writing it right now) are left out.
func Split(log []byte, domains []string) map[string][]byte {
	known := knownSites(domains)
	out := make(map[string][]byte, len(domains))
	for len(log) > 0 {
		i := bytes.IndexByte(log, '\n')
		if i < 0 {
			break // partial last line
		}
		site, rest := splitLine(log[:i], known)
		log = log[i+1:]
		if site != "" {
			out[site] = append(append(out[site], rest...), '\n')
		}
	}
	return out
}

func knownSites(domains []string) map[string]bool {
	known := make(map[string]bool, len(domains))
	for _, d := range domains {
		known[d] = true
	}
	return known
}

// splitLine returns the site of one line (without its newline) and the
// line without its first field; "" for a line Split leaves out.
func splitLine(line []byte, known map[string]bool) (string, []byte) {
	if len(line) > maxLine || bytes.IndexByte(line, 0) >= 0 || bytes.IndexByte(line, '\r') >= 0 {
		return "", nil
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || sp == len(line)-1 {
		return "", nil
	}
	site := siteOf(string(line[:sp]), known)
	if site == "" {
		return "", nil
	}
	rest := line[sp+1:]
	// The combined format starts with the client address.
	if rest[0] == ' ' || bytes.Count(rest, []byte{'"'}) < 6 || bytes.IndexByte(rest, '[') < 0 {
		return "", nil
	}
	return site, rest
}

// siteOf maps "vhost:port" to the site it belongs to, "" when none.
func siteOf(field string, known map[string]bool) string {
	c := strings.LastIndexByte(field, ':')
	if c <= 0 || c == len(field)-1 || len(field)-c-1 > 5 {
		return ""
	}
	for _, r := range field[c+1:] {
		if r < '0' || r > '9' {
			return ""
		}
	}
	host := strings.ToLower(field[:c])
	for h := host; h != ""; {
		if known[h] {
			return h
		}
		dot := strings.IndexByte(h, '.')
		if dot < 0 {
			break
		}
		h = h[dot+1:]
	}
	return ""
}
