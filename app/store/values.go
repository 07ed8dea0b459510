package store

import (
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// The working set in memory: a bounded LRU of committed state values (raw
// bytes, and absences) in front of Badger, read by every View. Records are
// cached raw, not decoded: a decoded protobuf record is mutable, and
// handlers modify what they read, so a shared decoded copy would need a
// clone per read, which costs about what decoding the few hundred bytes of
// a customer record does.
//
// An entry is the value of its key in every commit from height since on,
// until a commit writes the key: the commit then updates the entry (under
// db.mu, before any view of the new height exists), so an entry present in
// the cache is always the latest committed value. A view at height h uses
// an entry only when since <= h; a view inserts what it read from Badger
// only while its height is still the last commit's (checked under db.mu),
// so a reader that lost a race with a commit cannot put an old value back.
type valueCache struct {
	lru          *lru.Cache[string, cachedValue]
	hits, misses atomic.Uint64
}

type cachedValue struct {
	val   []byte // nil: the key is absent
	since int64
}

// DefaultValueCacheEntries is the value cache's default size: about
// 227 bytes of heap per entry besides its value (the key, the LRU's list
// and map entries; docs/state.md), so about 0.55 KB per cached customer
// (its 78-byte record and 16-byte card window, two entries) and ~290 MB
// for the whole cache; a block of 5,000 purchases touches about 30,000
// entries.
const DefaultValueCacheEntries = 1 << 20

func newValueCache(entries int) *valueCache {
	if entries <= 0 {
		entries = DefaultValueCacheEntries
	}
	c, _ := lru.New[string, cachedValue](entries)
	return &valueCache{lru: c}
}

// get returns the cached value of key for a view at height h.
func (c *valueCache) get(key []byte, h int64) (val []byte, ok bool) {
	e, found := c.lru.Get(string(key))
	if !found || e.since > h {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e.val, true
}

// CacheStats are the value cache's counters since Open.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// HitRate is hits / (hits + misses), 0 before any read.
func (s CacheStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// ValueCacheStats reports the value cache's hits, misses and size (the
// node exports the hit rate as a metric).
func (db *DB) ValueCacheStats() CacheStats {
	return CacheStats{Hits: db.values.hits.Load(), Misses: db.values.misses.Load(), Entries: db.values.lru.Len()}
}

// remember caches what a view at height h read from Badger (nil: absent),
// unless a later commit has landed since the view was opened.
func (db *DB) remember(key, val []byte, h int64) {
	db.mu.RLock()
	if db.height == h {
		db.values.lru.Add(string(key), cachedValue{val: val, since: h})
	}
	db.mu.RUnlock()
}

// refreshValues brings the cached entries of the keys a commit at height
// wrote up to date. Called with db.mu held for writing, before the new
// height is visible. Only keys already cached are updated, and a key
// the commit created (cached as absent, now written) is dropped instead:
// most are write-once (purchase and redemption records, history entries,
// lots, idempotency records, all read as absent first), and would push the
// hot records out; one read again is cached by that read.
func (db *DB) refreshValues(changes []Change, height int64) {
	for _, c := range changes {
		k := string(c.Key)
		e, ok := db.values.lru.Peek(k)
		switch {
		case !ok:
		case e.val == nil && c.Value != nil:
			db.values.lru.Remove(k)
		default:
			db.values.lru.Add(k, cachedValue{val: c.Value, since: height})
		}
	}
}
