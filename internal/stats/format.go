package stats

import (
	"fmt"
	"sort"
	"strings"
)

// A Format is one kind of log the collector reads. Adding a server means
// adding a Format: the reading, offsets, rotation handling and storing are
// the same for all.
//
// The mail log (Postfix) plugs in here later. Its parser will be stateful:
// "qmgr: QID: from=<…>, size=N" gives a message's size, later
// "smtp|local|lmtp: QID: to=<…>, status=sent" lines deliver it, so the
// parser keeps sizes by queue id and counts size bytes for the recipient's
// domain (incoming) or the sender's domain (outgoing), and reports
// Independent() == false so that a file is never split between goroutines.
type Format interface {
	// Name is what the CLI's --format takes ("vcombined", "xferlog").
	Name() string
	// Source is the server the log comes from.
	Source() Source
	// Independent reports whether every line stands alone, so that a
	// large file may be split at a line boundary and parsed in parallel.
	Independent() bool
	// NewParser returns a parser with state of its own that attributes
	// traffic through r and adds it to t.
	NewParser(r *Resolver, t *Tally) Parser
}

// A Parser parses a stream of log lines.
type Parser interface {
	// Parse handles buf: whole lines, each ending in '\n' except perhaps
	// the very last of a file that is finished. It counts every line in
	// the tally, malformed ones too, and never fails.
	Parse(buf []byte)
	// Flush adds what the parser still holds back to the tally; it is
	// called once, after the last Parse.
	Flush()
}

// Formats returns the known formats by name.
func Formats() map[string]Format {
	return map[string]Format{
		VCombined{}.Name(): VCombined{},
		Xferlog{}.Name():   Xferlog{},
	}
}

// FormatByName returns the format called name.
func FormatByName(name string) (Format, error) {
	f, ok := Formats()[strings.ToLower(name)]
	if !ok {
		names := make([]string, 0, len(Formats()))
		for n := range Formats() {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown log format %q (known: %s)", name, strings.Join(names, ", "))
	}
	return f, nil
}
