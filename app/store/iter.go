package store

import "bytes"

// sliceIter iterates over pre-collected pairs.
type sliceIter struct {
	keys, vals [][]byte
	i          int
}

func (s *sliceIter) Valid() bool   { return s.i < len(s.keys) }
func (s *sliceIter) Next()         { s.i++ }
func (s *sliceIter) Key() []byte   { return s.keys[s.i] }
func (s *sliceIter) Value() []byte { return s.vals[s.i] }
func (s *sliceIter) Close()        {}

// mergeIter overlays a branch's pending writes (over; deletes have nil
// values) on its parent's iterator (under). Over wins on equal keys.
type mergeIter struct {
	under   Iterator
	over    *sliceIter
	reverse bool
	key     []byte
	val     []byte
	valid   bool
}

func newMergeIter(under Iterator, over *sliceIter, reverse bool) *mergeIter {
	m := &mergeIter{under: under, over: over, reverse: reverse}
	m.advance()
	return m
}

// cmp orders keys in the iteration direction.
func (m *mergeIter) cmp(a, b []byte) int {
	c := bytes.Compare(a, b)
	if m.reverse {
		return -c
	}
	return c
}

func (m *mergeIter) advance() {
	for {
		uValid, oValid := m.under.Valid(), m.over.Valid()
		if !uValid && !oValid {
			m.valid = false
			return
		}
		var useOver bool
		switch {
		case !uValid:
			useOver = true
		case !oValid:
			useOver = false
		default:
			c := m.cmp(m.over.Key(), m.under.Key())
			if c == 0 {
				m.under.Next() // shadowed by the branch
				continue
			}
			useOver = c < 0
		}
		if useOver {
			k, v := m.over.Key(), m.over.Value()
			m.over.Next()
			if v == nil {
				continue // deleted in the branch
			}
			m.key, m.val, m.valid = k, v, true
			return
		}
		m.key, m.val, m.valid = m.under.Key(), m.under.Value(), true
		m.under.Next()
		return
	}
}

func (m *mergeIter) Valid() bool   { return m.valid }
func (m *mergeIter) Next()         { m.advance() }
func (m *mergeIter) Key() []byte   { return m.key }
func (m *mergeIter) Value() []byte { return m.val }
func (m *mergeIter) Close()        { m.under.Close() }
