package stats

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// hostCache remembers which user the host name of a log line (as written:
// not yet lower-cased) belongs to, and adds up the traffic of the name's
// current day in place. Only names that were checked are put in, so a name
// found needs no check. A line costs one hash, one probe of a small index
// and one cache line of entry: with a Go map of strings every lookup would
// also follow a pointer to the key, and adding to the user's tally would
// be another random access. The index (8 bytes a slot) and the entries (64
// bytes each, in the order they were added) stay in the core's L2 cache
// for thousands of names, next to the log streaming through it. It is
// bounded: new names once it is full are not cached (their lines are then
// checked, resolved and counted one by one).
type hostCache struct {
	seed maphash.Seed
	mix  uint64 // the seed of the short-name hash
	// index is a power-of-two open-addressing table, at most half full:
	// the upper 32 bits of a slot are the upper half of the name's hash,
	// the lower the entry's position plus one; 0 is an empty slot.
	index   []uint64
	entries []hostEntry
	// long holds the names longer than an entry holds inline, by entry.
	long map[int32]string
	// hosts holds the lower-cased name of each unassigned entry, as the
	// tally stores it.
	hosts map[int32]string
}

// hostEntry is 64 bytes, one cache line.
type hostEntry struct {
	sum  Sum
	hash uint64
	// user is the index into Targets.Users; for an unknown name
	// (unassigned) it is -1-k, where k is the key of the name in hosts.
	user int32
	day  Day   // the day sum counts; 0: none yet
	n    uint8 // length of the name
	name [inlineHost]byte
}

const (
	inlineHost   = 31      // longer names are kept in long
	maxHostCache = 1 << 14 // names at most
)

func newHostCache() hostCache {
	seed := maphash.MakeSeed()
	return hostCache{seed: seed, mix: maphash.Comparable(seed, 0) | 1}
}

// find returns the hash of name b and its entry, nil if b is not in the
// cache. Names of 8 to 24 bytes, nearly every vhost, are covered by three
// overlapping words: they are hashed by mixing the words with two
// multiplications (the wyhash step) and compared word by word; maphash,
// which costs as much as the rest of a line, takes the others. The seed is
// random per parser, so which names collide cannot be known in advance.
func (c *hostCache) find(b []byte) (uint64, *hostEntry) {
	n := len(b)
	if n < 8 || n > 24 {
		h := maphash.Bytes(c.seed, b)
		return h, c.lookup(h, b)
	}
	const k1, k2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	first := binary.LittleEndian.Uint64(b)
	mid := binary.LittleEndian.Uint64(b[(n-8)/2:])
	last := binary.LittleEndian.Uint64(b[n-8:])
	hi, lo := bits.Mul64(first^c.mix, mid^k1)
	hi, lo = bits.Mul64(hi^lo^last, uint64(n)^k2)
	h := hi ^ lo
	if len(c.index) == 0 {
		return h, nil
	}
	mask := uint64(len(c.index) - 1)
	tag := h >> 32 << 32
	for i := h & mask; ; i = (i + 1) & mask {
		slot := c.index[i]
		if slot == 0 {
			return h, nil
		}
		if slot&^0xffffffff != tag {
			continue
		}
		e := &c.entries[uint32(slot)-1]
		if int(e.n) == n &&
			binary.LittleEndian.Uint64(e.name[:]) == first &&
			binary.LittleEndian.Uint64(e.name[(n-8)/2:]) == mid &&
			binary.LittleEndian.Uint64(e.name[n-8:]) == last {
			return h, e
		}
	}
}

// lookup returns the entry of name b under hash h (of maphash), nil if
// there is none.
func (c *hostCache) lookup(h uint64, b []byte) *hostEntry {
	if len(c.index) == 0 {
		return nil
	}
	mask := uint64(len(c.index) - 1)
	tag := h >> 32 << 32
	for i := h & mask; ; i = (i + 1) & mask {
		slot := c.index[i]
		if slot == 0 {
			return nil
		}
		if slot&^0xffffffff != tag {
			continue
		}
		k := int32(uint32(slot) - 1)
		e := &c.entries[k]
		if int(e.n) != len(b) {
			continue
		}
		if e.n <= inlineHost && string(e.name[:e.n]) == string(b) || e.n > inlineHost && c.long[k] == string(b) {
			return e
		}
	}
}

// put adds name b, which find did not find under hash h, for the checked
// host name host and its user, and returns its entry; nil when the cache
// is full. An entry pointer is valid until the next put.
func (c *hostCache) put(h uint64, b, host []byte, user int32) *hostEntry {
	if len(b) == 0 || len(b) > 255 || len(c.entries) >= maxHostCache {
		return nil
	}
	if 2*(len(c.entries)+1) > len(c.index) {
		c.grow()
	}
	k := int32(len(c.entries))
	if user < 0 {
		if c.hosts == nil {
			c.hosts = map[int32]string{}
		}
		c.hosts[k] = string(host)
		user = -1 - k
	}
	c.entries = append(c.entries, hostEntry{hash: h, user: user, n: uint8(len(b))})
	e := &c.entries[k]
	if len(b) <= inlineHost {
		copy(e.name[:], b)
	} else {
		if c.long == nil {
			c.long = map[int32]string{}
		}
		c.long[k] = string(b)
	}
	c.insert(h, k)
	return e
}

// insert puts entry k with hash h into the index.
func (c *hostCache) insert(h uint64, k int32) {
	mask := uint64(len(c.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if c.index[i] == 0 {
			c.index[i] = h>>32<<32 | uint64(k+1)
			return
		}
	}
}

// grow doubles the index (starting small: most logs have few hosts).
func (c *hostCache) grow() {
	n := 2 * len(c.index)
	if n == 0 {
		n = 256
	}
	c.index = make([]uint64, n)
	for k := range c.entries {
		c.insert(c.entries[k].hash, int32(k))
	}
}

// count adds a line's bytes to the entry's sum of day; the sum of an
// earlier day (a name's day ends when its next line is of another day) is
// handed to t first.
func (c *hostCache) count(e *hostEntry, t *Tally, src Source, day Day, bytes int64) {
	if e.day != day {
		c.flushEntry(e, t, src)
		e.day = day
	}
	e.sum.Bytes += bytes
	e.sum.Hits++
}

// flushEntry hands the entry's sum to t.
func (c *hostCache) flushEntry(e *hostEntry, t *Tally, src Source) {
	if e.day == 0 {
		return
	}
	if e.user >= 0 {
		t.addCell(e.user, e.day, src, e.sum)
	} else {
		t.AddUnassigned([]byte(c.hosts[-1-e.user]), e.day, src, e.sum.Bytes, e.sum.Hits)
	}
	e.day, e.sum = 0, Sum{}
}

// flush hands every entry's sum to t.
func (c *hostCache) flush(t *Tally, src Source) {
	for i := range c.entries {
		c.flushEntry(&c.entries[i], t, src)
	}
}
