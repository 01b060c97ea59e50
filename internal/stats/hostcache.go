package stats

import "hash/maphash"

// hostCache remembers which user each host name seen in a log belongs to,
// and adds up the traffic of the name's current day in place. It is an
// open-addressing table whose slots hold the name inline, so that a line
// costs one hash and one memory access: with a Go map of strings every
// lookup would also follow a pointer to the key, and adding to the user's
// tally would be a second random access. It is bounded: names longer than
// a slot, and new names once the table is full, are not cached (their
// lines are then resolved and counted one by one).
type hostCache struct {
	seed  maphash.Seed
	slots []hostSlot
	used  int
}

// hostSlot is 128 bytes, two cache lines: a name of up to 31 bytes, the
// common case, is compared within the first.
type hostSlot struct {
	hash uint64
	user int32 // index into Targets.Users; -1: unknown (unassigned)
	day  Day   // the day sum counts; 0: none yet
	sum  Sum
	n    uint8 // length of name; 0: empty
	name [maxCachedHost]byte
}

const (
	maxCachedHost  = 95
	hostCacheSlots = 1 << 14 // 2 MiB; at most half of it is filled
)

func newHostCache() hostCache {
	return hostCache{seed: maphash.MakeSeed()}
}

func (c *hostCache) hash(b []byte) uint64 { return maphash.Bytes(c.seed, b) }

// get returns the slot of b, nil if b is not in the table.
func (c *hostCache) get(h uint64, b []byte) *hostSlot {
	if len(c.slots) == 0 || len(b) > maxCachedHost {
		return nil
	}
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.n == 0 {
			return nil
		}
		if s.hash == h && int(s.n) == len(b) && string(s.name[:s.n]) == string(b) {
			return s
		}
	}
}

// put adds b, which get did not find, and returns its slot; nil when b
// is too long or the table is full. A slot pointer is valid until the
// next put.
func (c *hostCache) put(h uint64, b []byte, user int32) *hostSlot {
	if len(b) == 0 || len(b) > maxCachedHost || c.used >= hostCacheSlots/2 {
		return nil
	}
	if c.used*2 >= len(c.slots) {
		c.grow()
	}
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.n == 0 {
			s.hash, s.user, s.n = h, user, uint8(len(b))
			copy(s.name[:], b)
			c.used++
			return s
		}
	}
}

// grow doubles the table (starting small: most logs have few hosts). The
// slots move with their sums.
func (c *hostCache) grow() {
	old := c.slots
	n := 2 * len(old)
	if n == 0 {
		n = 256
	}
	c.slots = make([]hostSlot, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s.n == 0 {
			continue
		}
		for i := s.hash & mask; ; i = (i + 1) & mask {
			if c.slots[i].n == 0 {
				c.slots[i] = s
				break
			}
		}
	}
}

// count adds a line's bytes to the slot's sum of day; the sum of an
// earlier day (a user's day ends when its next line is of another day) is
// handed to t first.
func (s *hostSlot) count(t *Tally, src Source, day Day, bytes int64) {
	if s.day != day {
		s.flush(t, src)
		s.day = day
	}
	s.sum.Bytes += bytes
	s.sum.Hits++
}

// flush hands the slot's sum to t.
func (s *hostSlot) flush(t *Tally, src Source) {
	if s.day == 0 {
		return
	}
	if s.user >= 0 {
		t.addCell(s.user, s.day, src, s.sum)
	} else {
		t.AddUnassigned(s.name[:s.n], s.day, src, s.sum.Bytes, s.sum.Hits)
	}
	s.day, s.sum = 0, Sum{}
}

// flush hands every slot's sum to t.
func (c *hostCache) flush(t *Tally, src Source) {
	for i := range c.slots {
		c.slots[i].flush(t, src)
	}
}
