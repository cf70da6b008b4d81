// Package inoset is a compact set of socket inodes (non-zero uint64): open
// addressing with linear probing over one []uint64, about 12 bytes an
// inode at most loads where a map[uint64]bool takes over 20. A Set is
// meant to be kept and Reset from round to round, so that a program that
// polls the socket tables reuses one table instead of building a map each
// time.
//
// # Concurrency
//
// A Set is not safe for concurrent use; concurrent Has calls are safe
// while nothing changes the Set.
package inoset

import (
	"iter"
	"math/bits"
)

// A Set holds non-zero uint64 values. The zero Set is empty and ready to
// use.
type Set struct {
	slots []uint64 // 0 marks an empty slot
	n     int
}

// slotsFor is the table size that holds n values at a load of 2/3.
func slotsFor(n int) int { return n + n/2 + 8 }

// home is v's first slot in a table of size m: the high word of
// hash(v)·m spreads the hash over any table size, with no power-of-two
// rounding. The hash is Fibonacci hashing (multiplication by 2⁶⁴/φ),
// whose high bits depend on every bit of v, so consecutive inodes land
// far apart.
func home(v uint64, m int) int {
	hi, _ := bits.Mul64(v*0x9E3779B97F4A7C15, uint64(m))
	return int(hi)
}

// Len returns how many values s holds.
func (s *Set) Len() int { return s.n }

// Has reports whether v is in s. Has(0) is false.
func (s *Set) Has(v uint64) bool { return s.find(v) >= 0 }

// find returns v's slot, -1 if v is not in s.
func (s *Set) find(v uint64) int {
	if v == 0 || s.n == 0 {
		return -1
	}
	slots := s.slots
	for i := home(v, len(slots)); ; {
		switch slots[i] {
		case v:
			return i
		case 0:
			return -1
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// Add inserts v and reports whether it was absent. Adding 0 does nothing
// and reports false. The table grows by half when the load would pass
// 2/3.
func (s *Set) Add(v uint64) bool {
	if v == 0 {
		return false
	}
	if 3*(s.n+1) > 2*len(s.slots) {
		s.grow(slotsFor(s.n + 1 + s.n/2))
	}
	slots := s.slots
	for i := home(v, len(slots)); ; {
		switch slots[i] {
		case v:
			return false
		case 0:
			slots[i] = v
			s.n++
			return true
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// grow moves the values into a table of m slots.
func (s *Set) grow(m int) {
	old := s.slots
	s.slots = make([]uint64, m)
	for _, v := range old {
		if v == 0 {
			continue
		}
		for i := home(v, m); ; {
			if s.slots[i] == 0 {
				s.slots[i] = v
				break
			}
			if i++; i == m {
				i = 0
			}
		}
	}
}

// Reset empties s and makes room for n values. It keeps the table, only
// clearing it, unless the table is too small for n or more than twice
// the size n needs: a Set Reset each round to about the last round's
// size reallocates only when the size changes that much.
func (s *Set) Reset(n int) {
	n = max(n, 0)
	want := slotsFor(n)
	if len(s.slots) < want || len(s.slots) > 2*want {
		s.slots = make([]uint64, want)
		s.n = 0
		return
	}
	if s.n > 0 {
		clear(s.slots)
		s.n = 0
	}
}

// All yields the values of s, in no particular order. s must not change
// during the iteration.
func (s *Set) All() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		if s.n == 0 {
			return
		}
		for _, v := range s.slots {
			if v != 0 && !yield(v) {
				return
			}
		}
	}
}

// DeleteFunc removes every value for which del returns true. del may be
// called more than once for a value it keeps.
func (s *Set) DeleteFunc(del func(uint64) bool) {
	if s.n == 0 {
		return
	}
	// A deletion shifts later entries of the cluster back into the hole
	// (backward-shift deletion), never to a slot before i except by
	// wrapping around the end, so rechecking slot i after a deletion
	// visits every value still unvisited.
	for i := 0; i < len(s.slots); {
		if v := s.slots[i]; v != 0 && del(v) {
			s.remove(i)
			continue
		}
		i++
	}
}

// Delete removes v and reports whether it was present.
func (s *Set) Delete(v uint64) bool {
	i := s.find(v)
	if i >= 0 {
		s.remove(i)
	}
	return i >= 0
}

// remove empties slot i and moves back the entries after it, in its
// cluster, whose probe sequence passes through the hole.
func (s *Set) remove(i int) {
	slots := s.slots
	m := len(slots)
	for j := i; ; {
		if j++; j == m {
			j = 0
		}
		v := slots[j]
		if v == 0 {
			break
		}
		// The entry at j stays if its home k lies cyclically in (i, j].
		k := home(v, m)
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		slots[i] = v
		i = j
	}
	slots[i] = 0
	s.n--
}

// Bytes returns the size of s's table in bytes.
func (s *Set) Bytes() int { return 8 * cap(s.slots) }
