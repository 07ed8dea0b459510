package store

import "fmt"

// Iterator walks keys in order. Key and Value are valid until Next.
type Iterator interface {
	Valid() bool
	Next()
	Key() []byte
	Value() []byte
	Close()
}

// Reader reads an ordered key space. Get returns nil for an absent key;
// values are never empty (see KV.Set).
type Reader interface {
	Get(key []byte) []byte
	// Iterator yields keys in [start, end) ascending; a nil end means no
	// upper bound.
	Iterator(start, end []byte) Iterator
	// ReverseIterator yields keys in [start, end) descending.
	ReverseIterator(start, end []byte) Iterator
}

// KV is a Reader that can be written.
type KV interface {
	Reader
	// Set stores value under key. An empty value is a programming error: the
	// Merkle trie cannot tell it from absence, so callers store a marker byte.
	Set(key, value []byte)
	Delete(key []byte)
}

// Change is one write of a block: a set, or a delete when Value is nil.
type Change struct {
	Key   []byte
	Value []byte
}

// Fault is the panic value for a storage failure. It is never converted into
// a transaction result.
type Fault struct{ Err error }

func (f Fault) Error() string { return fmt.Sprintf("storage fault: %v", f.Err) }

func mustValue(key, value []byte) {
	if len(value) == 0 {
		panic(fmt.Sprintf("store: empty value for key %x", key))
	}
}

// Has reports whether key is present.
func Has(r Reader, key []byte) bool { return r.Get(key) != nil }

// Each calls fn for every key with the given prefix, ascending, until fn
// returns false.
func Each(r Reader, prefix []byte, fn func(key, value []byte) bool) {
	it := r.Iterator(prefix, prefixEnd(prefix))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (nil when p is all 0xff: iterate to the end). Callers outside the store
// iterate a prefix with Each.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
