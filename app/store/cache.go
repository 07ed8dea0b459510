package store

import "github.com/google/btree"

// Cache is a copy-on-write branch over a parent Reader. Writes stay in the
// branch until Write applies them to a parent KV, or are dropped with the
// branch. A failed transaction is simply a Cache that is never written.
type Cache struct {
	parent Reader
	t      *btree.BTreeG[item]
}

// NewCache branches parent.
func NewCache(parent Reader) *Cache {
	return &Cache{parent: parent, t: btree.NewG(16, lessItem)}
}

func (c *Cache) Get(key []byte) []byte {
	if it, ok := c.t.Get(item{key: key}); ok {
		return it.val
	}
	return c.parent.Get(key)
}

func (c *Cache) Set(key, value []byte) {
	mustValue(key, value)
	c.t.ReplaceOrInsert(item{key: append([]byte(nil), key...), val: append([]byte(nil), value...)})
}

func (c *Cache) Delete(key []byte) {
	c.t.ReplaceOrInsert(item{key: append([]byte(nil), key...)})
}

func (c *Cache) Iterator(start, end []byte) Iterator {
	return newMergeIter(c.parent.Iterator(start, end), collect(c.t, start, end, false), false)
}

func (c *Cache) ReverseIterator(start, end []byte) Iterator {
	return newMergeIter(c.parent.ReverseIterator(start, end), collect(c.t, start, end, true), true)
}

// Write applies the branch's writes to dst in key order and empties the
// branch.
func (c *Cache) Write(dst KV) {
	c.t.Ascend(func(it item) bool {
		if it.val == nil {
			dst.Delete(it.key)
		} else {
			dst.Set(it.key, it.val)
		}
		return true
	})
	c.t.Clear(false)
}

// Changes returns the branch's writes in key order (deletes have nil Value).
func (c *Cache) Changes() []Change {
	out := make([]Change, 0, c.t.Len())
	c.t.Ascend(func(it item) bool {
		out = append(out, Change{Key: it.key, Value: it.val})
		return true
	})
	return out
}

// Len is the number of pending writes.
func (c *Cache) Len() int { return c.t.Len() }

// Reset drops every pending write.
func (c *Cache) Reset() { c.t.Clear(false) }
