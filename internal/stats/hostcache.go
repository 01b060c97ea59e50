package stats

import "hash/maphash"

// hostCache remembers which user each host name seen in a log belongs to.
// It is an open-addressing table whose slots hold the name inline, one
// cache line each, so that a lookup costs one hash and one memory access;
// with a Go map of strings every lookup also follows a pointer to the key.
// It is bounded: names longer than a slot, and new names once the table
// is full, are not cached (they are then resolved each time).
type hostCache struct {
	seed  maphash.Seed
	slots []hostSlot
	used  int
}

// hostSlot is 64 bytes: one cache line.
type hostSlot struct {
	hash uint64
	user int32
	n    uint8 // length of name; 0: empty
	name [maxCachedHost]byte
}

const (
	maxCachedHost  = 51
	hostCacheSlots = 1 << 14 // 1 MiB; at most half of it is filled
)

func newHostCache() hostCache {
	return hostCache{seed: maphash.MakeSeed()}
}

func (c *hostCache) hash(b []byte) uint64 { return maphash.Bytes(c.seed, b) }

func (c *hostCache) get(h uint64, b []byte) (int32, bool) {
	if len(c.slots) == 0 || len(b) > maxCachedHost {
		return 0, false
	}
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.n == 0 {
			return 0, false
		}
		if s.hash == h && int(s.n) == len(b) && string(s.name[:s.n]) == string(b) {
			return s.user, true
		}
	}
}

func (c *hostCache) put(h uint64, b []byte, user int32) {
	if len(b) == 0 || len(b) > maxCachedHost || c.used >= hostCacheSlots/2 {
		return
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
			return
		}
	}
}

// grow doubles the table (starting small: most logs have few hosts).
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
