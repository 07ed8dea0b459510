package store

import (
	"bytes"

	"github.com/google/btree"
)

type item struct {
	key []byte
	val []byte // nil marks a delete inside a Cache
}

func lessItem(a, b item) bool { return bytes.Compare(a.key, b.key) < 0 }

// collect gathers the items of t in [start, end) in the requested order.
func collect(t *btree.BTreeG[item], start, end []byte, reverse bool) *sliceIter {
	s := &sliceIter{}
	add := func(it item) bool {
		s.keys = append(s.keys, it.key)
		s.vals = append(s.vals, it.val)
		return true
	}
	lo := item{key: start}
	if !reverse {
		if end == nil {
			t.AscendGreaterOrEqual(lo, add)
		} else {
			t.AscendRange(lo, item{key: end}, add)
		}
		return s
	}
	if end == nil {
		t.Descend(func(it item) bool {
			if bytes.Compare(it.key, start) < 0 {
				return false
			}
			return add(it)
		})
		return s
	}
	t.DescendLessOrEqual(item{key: end}, func(it item) bool {
		if bytes.Equal(it.key, end) {
			return true // end is exclusive
		}
		if bytes.Compare(it.key, start) < 0 {
			return false
		}
		return add(it)
	})
	return s
}

// MemKV is an ordered in-memory KV for tests and tools.
type MemKV struct {
	t *btree.BTreeG[item]
}

// NewMemKV returns an empty in-memory store.
func NewMemKV() *MemKV { return &MemKV{t: btree.NewG(32, lessItem)} }

func (m *MemKV) Get(key []byte) []byte {
	it, ok := m.t.Get(item{key: key})
	if !ok {
		return nil
	}
	return it.val
}

func (m *MemKV) Set(key, value []byte) {
	mustValue(key, value)
	m.t.ReplaceOrInsert(item{key: append([]byte(nil), key...), val: append([]byte(nil), value...)})
}

func (m *MemKV) Delete(key []byte) { m.t.Delete(item{key: key}) }

func (m *MemKV) Iterator(start, end []byte) Iterator { return collect(m.t, start, end, false) }

func (m *MemKV) ReverseIterator(start, end []byte) Iterator { return collect(m.t, start, end, true) }

// Len is the number of keys.
func (m *MemKV) Len() int { return m.t.Len() }
