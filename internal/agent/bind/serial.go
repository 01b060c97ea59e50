package bind

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"time"
)

// NextSerial returns the SOA serial that follows old on the given day, in
// the date form YYYYMMDDnn (nn = change of the day, from 00).
//
//   - old before today's date form: today's YYYYMMDD00.
//   - otherwise (a later change the same day, the 100th change of a day, or
//     an old serial in the future because the clock was wrong or somebody
//     typed one): old+1. After nn 99 the serial simply keeps counting and
//     runs ahead of the date form; the date catches up on a later day.
//
// So the result is always greater than old, which is all secondaries need.
// The date is taken in UTC, so the serial does not depend on the agent's
// time zone.
//
// Wrap: the only value with no greater uint32 is 4294967295 (only reachable
// by hand, the date form stays below it until the year 42949). There old+1
// wraps to 0, which RFC 1982 serial arithmetic counts as greater than
// 4294967295, so secondaries still transfer; the next call then returns
// today's date form, again an RFC 1982 increase from 0 (it is below 2^31
// until the year 2147).
func NextSerial(old uint32, today time.Time) uint32 {
	y, m, d := today.UTC().Date()
	if y >= 0 {
		base := uint64(y)*1_000_000 + uint64(m)*10_000 + uint64(d)*100
		if base <= math.MaxUint32 && uint64(old) < base {
			return uint32(base)
		}
	}
	return old + 1 // wraps at MaxUint32 by design, see above
}

// ZoneState is what the caller keeps about a zone between runs so that the
// serial changes only when the content does: the owner, the serial in use
// and a hash of the zone file with the serial's digits left out.
type ZoneState struct {
	Owner  string
	Serial uint32
	Hash   string // hex SHA-256 of the file without the serial digits
}

// hashWithout hashes body with body[off:off+n] (the serial) left out.
func hashWithout(body []byte, off, n int) string {
	h := sha256.New()
	h.Write(body[:off])
	h.Write(body[off+n:])
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// StateOf reads the ZoneState back from a zone file this package wrote, so
// that an agent that lost its record (crash, fresh database) rebuilds it
// from the files on disk and does not bump every serial.
func StateOf(body []byte) (ZoneState, error) {
	var st ZoneState
	off, n := -1, 0
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		if end < 0 {
			end = len(body) - pos
		}
		line := body[pos : pos+end]
		switch {
		case bytes.HasPrefix(line, []byte("; owner ")):
			st.Owner = string(line[len("; owner "):])
		case bytes.HasPrefix(line, []byte("@\tIN\tSOA\t")):
			// @ IN SOA mname rname serial …: the serial follows the
			// second space after the tab-separated type.
			rest := line[len("@\tIN\tSOA\t"):]
			sp1 := bytes.IndexByte(rest, ' ')
			if sp1 < 0 {
				return st, errors.New("bind: malformed SOA line")
			}
			sp2 := bytes.IndexByte(rest[sp1+1:], ' ')
			if sp2 < 0 {
				return st, errors.New("bind: malformed SOA line")
			}
			start := sp1 + 1 + sp2 + 1
			sp3 := bytes.IndexByte(rest[start:], ' ')
			if sp3 < 0 {
				return st, errors.New("bind: malformed SOA line")
			}
			v, err := strconv.ParseUint(string(rest[start:start+sp3]), 10, 32)
			if err != nil {
				return st, errors.New("bind: SOA serial is not a uint32")
			}
			st.Serial = uint32(v)
			off, n = pos+len("@\tIN\tSOA\t")+start, sp3
		}
		pos += end + 1
	}
	if off < 0 {
		return st, errors.New("bind: no SOA line")
	}
	if st.Owner == "" {
		return st, errors.New("bind: no owner line")
	}
	st.Hash = hashWithout(body, off, n)
	return st, nil
}
