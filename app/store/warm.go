package store

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
)

// Reading state off the critical path. The state machine runs a block's
// transactions one by one on one goroutine; what they read from Badger,
// and the trie buckets the block's writes land in, can be read beforehand
// and in parallel, so that execution and staging find them in memory.
// Nothing here changes a result: the value and bucket caches hold exactly
// what Badger holds for the last commit (values.go, cachedNode).

// warmWorkers is how many goroutines read at once: Badger reads are short
// and partly wait on the page cache, so a few per core.
func warmWorkers(n int) int {
	w := 4 * runtime.GOMAXPROCS(0)
	if w > 16 {
		w = 16
	}
	if per := (n + 31) / 32; per < w {
		w = per
	}
	return max(w, 1)
}

// Warm reads, as of the last commit, the given keys (into the value
// cache, absences included), the trie bucket each key's hash falls in
// (into the bucket cache), and every entry under the given prefixes (into
// Badger's own block cache), in parallel goroutines. It returns at once;
// the returned function waits for the reads to finish. A proposal's keys
// are warmed at ProcessProposal or at the start of FinalizeBlock.
func (db *DB) Warm(keys, prefixes [][]byte) (wait func()) {
	var wg sync.WaitGroup
	n := len(keys) + len(prefixes)
	if n == 0 {
		return wg.Wait
	}
	var next atomic.Int64
	workers := warmWorkers(n)
	db.warming.Add(workers)
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer db.warming.Done()
			defer wg.Done()
			v := db.View()
			defer v.Discard()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if i < len(keys) {
					v.warmKey(keys[i])
				} else {
					v.warmPrefix(prefixes[i-len(keys)])
				}
			}
		}()
	}
	return wg.Wait
}

func (v *View) warmKey(key []byte) {
	defer func() { recover() }() // a storage fault is reported by the real read
	v.Get(key)
	kh := sha256.Sum256(key)
	lay := v.db.lay
	h, ok := lay.persistedBucket(v.top, &kh)
	if !ok {
		return
	}
	id := lay.bucketOf(&kh)
	if _, ok := v.db.cache.Peek(id); ok {
		return
	}
	n, err := lay.readBucket(v.txn, &id, &h)
	if err != nil {
		return
	}
	v.db.rememberBucket(id, n, v.Height)
}

func (v *View) warmPrefix(prefix []byte) {
	defer func() { recover() }()
	it := v.Iterator(prefix, prefixEnd(prefix))
	defer it.Close()
	for n := 0; it.Valid() && n < 64; it.Next() {
		n++
	}
}

// rememberBucket caches a bucket read at height h, unless a later commit
// has landed since (it may have rewritten the bucket; Commit removes the
// buckets it rewrites under db.mu and caches their new versions after).
func (db *DB) rememberBucket(id hash, n *node, h int64) {
	db.mu.RLock()
	if db.height == h {
		db.cache.Add(id, cachedNode{n: n, height: h})
	}
	db.mu.RUnlock()
}

// persistedBucket returns the hash of the persisted bucket kh falls in
// under root, if it falls in one.
func (l layout) persistedBucket(root *node, kh *hash) (hash, bool) {
	n := root
	for d := 0; d < l.memDepth; d++ {
		k := n.get(nibble(kh, d))
		if k.kind() != kNode {
			return hash{}, false
		}
		if k.n == nil {
			return k.hash, d == l.memDepth-1
		}
		n = k.n
	}
	return hash{}, false
}

// preload reads, in parallel, the committed buckets that a Stage's sorted
// ops fall in and that are neither cached nor already rewritten by this
// block, so that the sequential update finds them in the cache. Failures
// are left to the sequential path, which reports them.
func (db *DB) preload(b *batch, ops []op) {
	type req struct{ id, h hash }
	var need []req
	var last hash
	for i := range ops {
		id := db.lay.bucketOf(&ops[i].kh)
		if i > 0 && id == last {
			continue
		}
		last = id
		if _, ok := b.buckets[id]; ok {
			continue
		}
		if _, ok := db.cache.Peek(id); ok {
			continue // before the walk: a cached bucket is the common case
		}
		if h, ok := db.lay.persistedBucket(b.root, &ops[i].kh); ok {
			need = append(need, req{id, h})
		}
	}
	if len(need) < 16 {
		return
	}
	got := make([]*node, len(need))
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := warmWorkers(len(need))
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			// No commit can land during Stage (both run on the consensus
			// goroutine): a new read transaction sees the last commit.
			txn := db.bdb.NewTransaction(false)
			defer txn.Discard()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(need) {
					return
				}
				if n, err := db.lay.readBucket(txn, &need[i].id, &need[i].h); err == nil {
					got[i] = n
				}
			}
		}()
	}
	wg.Wait()
	for i, n := range got {
		if n != nil {
			db.cache.Add(need[i].id, cachedNode{n: n, height: db.height})
		}
	}
}
