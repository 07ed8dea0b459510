package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/bytepoints/bytepoints/types"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Badger key namespaces. State values are stored raw (reads never walk the
// trie); the trie's buckets and the journal of its in-memory levels
// (top.go) commit to them.
const (
	nsState byte = 's'
	nsNode  byte = 'n' // + depth + prefix: a bucket (trie.go)
	nsMeta  byte = 'm'
	nsRedo  byte = 'r' // + height + chunk: the redo log of a commit too large for one transaction
)

var (
	metaKey = []byte{nsMeta, 'c'}
	// loadKey marks a first commit too large for one Badger transaction
	// being written (a state-sync restore); Open wipes a store that has it.
	loadKey = []byte{nsMeta, 'l'}
	// redoKey marks a commit written through the redo log (redo.go): once
	// it is set the commit has happened, and Open finishes applying it.
	redoKey = []byte{nsMeta, 'r'}
)

// Options configure Open.
type Options struct {
	Dir      string // Badger directory; ignored when InMemory
	InMemory bool
	// NodeCacheSize bounds the cache of committed trie buckets (decoded),
	// in buckets. 0 = default.
	NodeCacheSize int
	// ValueCacheEntries bounds the cache of committed state values (raw
	// records and absences, values.go), in entries. 0 = default
	// (DefaultValueCacheEntries).
	ValueCacheEntries int
	// MemTableSize is Badger's memtable size in bytes. One atomic commit
	// holds about 15% of it; a larger one goes through the redo log
	// (redo.go). 0 = 128 MB.
	MemTableSize int64
	// CommitHook, when set, is called at the named points of every commit
	// ("before-atomic-write", "after-atomic-write"); an error it returns
	// fails the commit there. Crash tests stop the process at these points.
	CommitHook func(height int64, point string) error
	Logger     badger.Logger

	// memDepth and topParts choose the trie's storage layout (layout,
	// trie.go); 0 = the default. Unexported: only the store's own tests
	// change them, since a store must be reopened with the layout it was
	// written with.
	memDepth, topParts int
}

// DB is the committed store: Badger plus the Merkle commitment (trie.go).
//
// A block's life: Stage(changes) folds the block's writes into the trie in
// memory and returns the new root (the app hash FinalizeBlock reports);
// Commit(height) then writes, in one atomic Badger transaction, the state
// writes, the rewritten buckets (overwritten in place under their prefix),
// the journal entry of the in-memory levels and the commit record (height,
// app hash, time). A crash at any instant leaves the previous commit or the
// new one, never a mix; Open rebuilds the in-memory levels from what was
// committed.
//
// Stage and Commit are called by one goroutine (the consensus connection);
// View may be called concurrently from queries and sees only committed state.
type DB struct {
	bdb    *badger.DB
	lay    layout
	hook   func(height int64, point string) error // Options.CommitHook, never nil
	cache  *lru.Cache[hash, cachedNode]
	values *valueCache
	// warming counts the goroutines of Warm still reading; Close waits.
	warming sync.WaitGroup
	stats   CommitStats // of the last commit

	mu     sync.RWMutex // guards height, root, timeNs and top against View
	height int64
	root   []byte
	timeNs int64
	top    *node // committed root node; the in-memory part of the trie hangs off it

	gen     uint64
	b       *batch      // the block being staged, nil when none
	rtxn    *badger.Txn // reads of the committed buckets for b
	pending [][]Change  // staged but uncommitted state writes, one slice per Stage
	failed  error       // a Stage that failed midway: the block cannot commit
}

// cachedNode is a committed bucket's root and the height that wrote it: it
// is the bucket of every commit from that height on, until replaced.
type cachedNode struct {
	n      *node
	height int64
}

const defaultMemTableSize int64 = 128 << 20

// Open opens (or creates) the store.
func Open(o Options) (*DB, error) {
	bo := badger.DefaultOptions(o.Dir)
	if o.InMemory {
		bo = badger.DefaultOptions("").WithInMemory(true)
	}
	// One writer (the consensus connection) and read-only views: no need
	// for Badger's write-conflict tracking. The memtable bounds one atomic
	// commit to 15% of its size (about 19 MB).
	mts := o.MemTableSize
	if mts <= 0 {
		mts = defaultMemTableSize
	}
	bo = bo.WithSyncWrites(true).WithLogger(o.Logger).WithDetectConflicts(false).
		WithNumVersionsToKeep(1).WithMemTableSize(mts).WithCompression(options.None)
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open badger at %q: %w", o.Dir, err)
	}
	size := o.NodeCacheSize
	if size <= 0 {
		size = 1 << 16 // every persisted bucket at 10^6 keys; ~90 MB at 10^7
	}
	c, _ := lru.New[hash, cachedNode](size)
	lay := layout{memDepth: defaultMemDepth, topParts: fullParts}
	if o.memDepth > 0 {
		lay.memDepth = o.memDepth
	}
	if o.topParts > 0 {
		lay.topParts = o.topParts
	}
	hook := o.CommitHook
	if hook == nil {
		hook = func(int64, string) error { return nil }
	}
	db := &DB{bdb: bdb, lay: lay, hook: hook, cache: c, values: newValueCache(o.ValueCacheEntries)}
	if err := db.load(); err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) load() error {
	if err := db.finishRedo(); err != nil {
		return err
	}
	var info types.CommitInfo
	loading := false
	err := db.bdb.View(func(txn *badger.Txn) error {
		if _, err := txn.Get(loadKey); err == nil {
			loading = true
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		it, err := txn.Get(metaKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error { return info.Unmarshal(v) })
	})
	if err != nil {
		return fmt.Errorf("read commit record: %w", err)
	}
	if loading {
		// A first commit written in pieces never finished: nothing was
		// committed, so start empty.
		if err := db.bdb.DropAll(); err != nil {
			return fmt.Errorf("drop an unfinished first commit: %w", err)
		}
	}
	top, err := db.loadTop(info.Height)
	if err != nil {
		return err
	}
	if h := top.hash(); info.Height > 0 && !bytes.Equal(h[:], info.AppHash) {
		return fmt.Errorf("trie root %X does not match the app hash %X committed at height %d", h, info.AppHash, info.Height)
	}
	db.height, db.root, db.timeNs, db.top = info.Height, info.AppHash, info.TimeNs, top
	return nil
}

// placeNode hangs the bucket root with hash h at depth memDepth on kh's
// path, creating the in-memory nodes above it.
func (l layout) placeNode(n *node, kh *hash, h hash) error {
	for d := 0; d < l.memDepth-1; d++ {
		s := nibble(kh, d)
		k := n.get(s)
		switch k.kind() {
		case kEmpty:
			k = kid{n: newNode(0, 16)}
			n.set(s, k)
		case kLeaf:
			return fmt.Errorf("rebuild trie: %w: leaf above node %x", errCorruptNode, kh[:l.prefixLen()])
		}
		n = k.n
	}
	s := nibble(kh, l.memDepth-1)
	if k := n.get(s); k.kind() != kEmpty {
		return fmt.Errorf("rebuild trie: %w: slot of node %x taken", errCorruptNode, kh[:l.prefixLen()])
	}
	n.set(s, kid{hash: h})
	return nil
}

// placeLeaf inserts l under n at depth d, splitting a slot held by another
// leaf; leaves in memory never go into a persisted bucket.
func placeLeaf(n *node, d int, l *leaf) error {
	s := nibble(&l.kh, d)
	k := n.get(s)
	switch {
	case k.kind() == kEmpty:
		n.set(s, kid{hash: leafHash(&l.kh, &l.vh), leaf: l})
		return nil
	case k.n != nil:
		return placeLeaf(k.n, d+1, l)
	case k.leaf != nil && d+1 < 64:
		m := newNode(0, 2)
		n.set(s, kid{n: m})
		if err := placeLeaf(m, d+1, k.leaf); err != nil {
			return err
		}
		return placeLeaf(m, d+1, l)
	}
	return fmt.Errorf("rebuild trie: %w: leaf %x falls in a persisted bucket", errCorruptNode, l.kh)
}

// rehash fills in the hashes of the in-memory nodes under n.
func rehash(n *node) {
	for i, r := range n.refs {
		if r.n != nil {
			rehash(r.n)
			n.hashes[i] = r.n.hash()
		}
	}
}

// Close closes Badger. Uncommitted staged writes are dropped.
func (db *DB) Close() error {
	db.warming.Wait()
	db.Discard()
	return db.bdb.Close()
}

// EmptyRoot is the app hash of an empty state.
func EmptyRoot() []byte { return slices.Clone(emptyRoot[:]) }

// LastCommit is the height and app hash of the last commit (0, nil before
// the first).
func (db *DB) LastCommit() (int64, []byte) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.height, slices.Clone(db.root)
}

// Stage folds writes into the Merkle trie and returns the resulting root.
// It may be called several times before Commit (InitChain, then block 1).
// It keeps changes until Commit: the caller must not modify them.
func (db *DB) Stage(changes []Change) ([]byte, error) {
	if db.failed != nil {
		return nil, db.failed
	}
	if db.b == nil {
		db.gen++
		db.b = newBatch(db.gen, db.lay, db, db.top, len(changes))
		db.rtxn = db.bdb.NewTransaction(false)
	}
	ops := make([]op, len(changes))
	for i, c := range changes {
		ops[i].seq = i
		ops[i].kh = sha256.Sum256(c.Key)
		if c.Value == nil {
			ops[i].del = true
		} else {
			ops[i].vh = sha256.Sum256(c.Value)
		}
	}
	db.pending = append(db.pending, changes)
	ops = sortOps(ops)
	db.preload(db.b, ops)
	if err := db.b.apply(ops); err != nil {
		db.failed = fmt.Errorf("stage: %w", err)
		return nil, db.failed
	}
	h := db.b.rootHash()
	return h[:], nil
}

// loadBucket reads a committed bucket for the batch being staged.
func (db *DB) loadBucket(id, h *hash) (*node, error) {
	if c, ok := db.cache.Get(*id); ok {
		return c.n, nil
	}
	n, err := db.lay.readBucket(db.rtxn, id, h)
	if err != nil {
		return nil, err
	}
	db.cache.Add(*id, cachedNode{n: n, height: db.height})
	return n, nil
}

// readBucket reads a bucket from Badger and checks it against the hash
// its parent holds.
func (l layout) readBucket(txn *badger.Txn, id, h *hash) (*node, error) {
	key := l.bucketKey(id)
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("trie bucket %x: missing", key)
	}
	if err != nil {
		return nil, fmt.Errorf("trie bucket %x: %w", key, err)
	}
	var n *node
	err = it.Value(func(v []byte) error {
		n, err = decodeBucket(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("trie bucket %x: %w", key, err)
	}
	if n.hash() != *h {
		return nil, fmt.Errorf("trie bucket %x: %w: hash does not match its parent", key, errCorruptNode)
	}
	return n, nil
}

// Commit persists the staged writes as height, whose block time is timeNs.
func (db *DB) Commit(height, timeNs int64) error {
	if db.failed != nil {
		return db.failed
	}
	b := db.b
	if b == nil {
		b = newBatch(db.gen, db.lay, db, db.top, 0) // a block that wrote nothing
	}
	rootHash := b.rootHash()
	root := rootHash[:]
	meta, err := (&types.CommitInfo{Height: height, AppHash: root, TimeNs: timeNs}).Marshal()
	if err != nil {
		return err
	}
	w := db.writes(b)
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	var st CommitStats
	set := func(k, v []byte) error { st.count(k, v, false); return txn.Set(k, v) }
	del := func(k []byte) error { st.count(k, nil, true); return txn.Delete(k) }
	err = w.each(set, del)
	if err == nil {
		err = db.lay.writeTop(set, del, b, height)
	}
	if err == nil {
		err = txn.Set(metaKey, meta)
	}
	if errors.Is(err, badger.ErrTxnTooBig) {
		// More than one Badger transaction holds: a state-sync restore
		// (the first commit) or a very large block.
		txn.Discard()
		if db.height == 0 {
			return db.commitInPieces(b, w, height, timeNs, root, meta)
		}
		return db.commitRedo(b, w, height, timeNs, root, meta)
	}
	if err != nil {
		return fmt.Errorf("commit height %d (block too large for one atomic commit?): %w", height, err)
	}
	return db.land(b, w, height, timeNs, root, landing{write: txn.Commit, stats: st})
}

// commitInPieces writes a first commit too large for one transaction (a
// state-sync restore): the marker, the entries and every partition of the
// in-memory levels' checkpoint in batches, then the commit record and the
// marker's removal in one transaction. A crash before that leaves the marker, and Open starts
// from an empty store again.
func (db *DB) commitInPieces(b *batch, w *writeSet, height, timeNs int64, root, meta []byte) error {
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Set(loadKey, []byte{1}) }); err != nil {
		return err
	}
	wb := db.bdb.NewWriteBatch()
	err := w.each(wb.Set, wb.Delete)
	if err == nil {
		err = db.lay.writeAllParts(wb.Set, b.root, height)
	}
	if err != nil {
		wb.Cancel()
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	return db.land(b, w, height, timeNs, root, landing{write: func() error {
		err := db.bdb.Update(func(txn *badger.Txn) error {
			if err := txn.Set(metaKey, meta); err != nil {
				return err
			}
			return txn.Delete(loadKey)
		})
		if err == nil {
			db.values.lru.Purge() // a whole new state
		}
		return err
	}})
}

// landing is how one commit path reaches its commit point.
type landing struct {
	// mark, when set, is the commit point, written before views are held
	// off (the redo log's mark: a crash after it is a commit that Open
	// finishes).
	mark func() error
	// write makes the commit's writes readable in Badger; it runs with
	// db.mu held, so no view sees them before the commit is published.
	// Without mark it is the commit point itself.
	write func() error
	stats CommitStats // what write put in Badger, for LastCommitStats
}

// land ends every commit path the same way: the commit point between the
// two crash hooks, the writes made readable and published under db.mu,
// then the written buckets cached and the next block started.
func (db *DB) land(b *batch, w *writeSet, height, timeNs int64, root []byte, l landing) error {
	if err := db.hook(height, "before-atomic-write"); err != nil {
		return err
	}
	if l.mark != nil {
		if err := l.mark(); err != nil {
			return fmt.Errorf("commit height %d: %w", height, err)
		}
		if err := db.hook(height, "after-atomic-write"); err != nil {
			return err
		}
	}
	db.mu.Lock()
	err := l.write()
	if err == nil {
		db.publish(w, height, root, timeNs, b.root)
		db.stats = l.stats
	}
	db.mu.Unlock()
	if err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	if l.mark == nil {
		if err := db.hook(height, "after-atomic-write"); err != nil {
			return err
		}
	}
	db.committed(b, height)
	return nil
}

// publish makes commit height visible: called with db.mu held for
// writing once its writes are in Badger. Views of older heights, and warm
// reads that lost the race with this commit, must not find the buckets it
// replaces in the cache as if they were still current (committed caches
// the new ones), and the cached values of the keys it wrote are updated.
func (db *DB) publish(w *writeSet, height int64, root []byte, timeNs int64, top *node) {
	for _, id := range w.bucketIDs {
		db.cache.Remove(id)
	}
	db.refreshValues(w.state, height)
	db.height, db.root, db.timeNs, db.top = height, root, timeNs, top
}

// committed caches the nodes height wrote and starts the next block.
func (db *DB) committed(b *batch, height int64) {
	for id, n := range b.buckets { // cache updates only: order is irrelevant
		if n != nil {
			db.cache.Add(id, cachedNode{n: n, height: height})
		}
	}
	db.Discard()
}

// writeSet is a block's state and bucket writes in key order.
type writeSet struct {
	lay       layout
	state     []Change
	bucketIDs []hash
	buckets   []*node
}

func (db *DB) writes(b *batch) *writeSet {
	w := &writeSet{lay: db.lay, state: db.stagedState()}
	for id := range b.buckets {
		w.bucketIDs = append(w.bucketIDs, id)
	}
	slices.SortFunc(w.bucketIDs, func(a, b hash) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range w.bucketIDs {
		w.buckets = append(w.buckets, b.buckets[id])
	}
	return w
}

func (w *writeSet) each(set func(k, v []byte) error, del func(k []byte) error) error {
	for _, c := range w.state {
		k := append([]byte{nsState}, c.Key...)
		if c.Value == nil {
			if err := del(k); err != nil {
				return err
			}
		} else if err := set(k, c.Value); err != nil {
			return err
		}
	}
	for i := range w.bucketIDs {
		k := w.lay.bucketKey(&w.bucketIDs[i])
		if w.buckets[i] == nil {
			if err := del(k); err != nil {
				return err
			}
		} else if err := set(k, encodeBucket(w.buckets[i])); err != nil {
			return err
		}
	}
	return nil
}

// Discard drops staged writes (used when InitChain/FinalizeBlock must be
// redone from the last commit).
func (db *DB) Discard() {
	if db.rtxn != nil {
		db.rtxn.Discard()
	}
	db.b, db.rtxn, db.failed, db.pending = nil, nil, nil, nil
}

// stagedState is the state writes of every Stage since the last commit; a
// later Stage's write of a key replaces an earlier one's.
func (db *DB) stagedState() []Change {
	switch len(db.pending) {
	case 0:
		return nil
	case 1:
		return db.pending[0] // a block: the common case, no copy
	}
	merged := NewCache(emptyReader{})
	for _, ch := range db.pending {
		for _, c := range ch {
			if c.Value == nil {
				merged.Delete(c.Key)
			} else {
				merged.Set(c.Key, c.Value)
			}
		}
	}
	return merged.Changes()
}

// CommitStats is what one commit wrote to Badger, by kind: state values
// (keys with their values), trie buckets, and the journal entry and
// checkpoint partition of the in-memory levels. Deletes count one key and
// no bytes.
type CommitStats struct {
	StateKeys, StateBytes int
	StateDeletes          int
	Buckets, BucketBytes  int
	TopEntries, TopBytes  int
}

func (s *CommitStats) count(k, v []byte, del bool) {
	n := len(k) + len(v)
	switch k[0] {
	case nsState:
		if del {
			s.StateDeletes++
		} else {
			s.StateKeys++
			s.StateBytes += n
		}
	case nsNode:
		s.Buckets++
		s.BucketBytes += n
	case nsTop:
		s.TopEntries++
		s.TopBytes += n
	}
}

// LastCommitStats is what the last commit through one Badger transaction
// wrote (zero after a commit through the redo log or in pieces).
func (db *DB) LastCommitStats() CommitStats {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.stats
}

func stateKey(k []byte) []byte { return append([]byte{nsState}, k...) }

// ---- committed reads ----

// View is a consistent read-only view of one commit. Discard it when done.
type View struct {
	txn    *badger.Txn
	Height int64
	Root   []byte
	TimeNs int64 // block time of Height
	db     *DB
	top    *node // the in-memory trie levels of Height
}

// View opens a read view of the last commit.
func (db *DB) View() *View {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return &View{txn: db.bdb.NewTransaction(false), Height: db.height, Root: slices.Clone(db.root), TimeNs: db.timeNs, db: db, top: db.top}
}

// loadBucket reads a bucket as of the view's commit: from the cache when
// the cached bucket was written at or before that height (so no later
// commit has replaced it yet), else through the view's transaction.
func (v *View) loadBucket(id, h *hash) (*node, error) {
	if c, ok := v.db.cache.Get(*id); ok && c.height <= v.Height {
		return c.n, nil
	}
	return v.db.lay.readBucket(v.txn, id, h)
}

// Discard releases the view.
func (v *View) Discard() { v.txn.Discard() }

// Get reads key from the value cache, or from Badger (one read: values
// are stored flat under their key, the trie is not walked). The returned
// slice is shared: callers must not modify it.
func (v *View) Get(key []byte) []byte {
	if val, ok := v.db.values.get(key, v.Height); ok {
		return val
	}
	it, err := v.txn.Get(stateKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		v.db.remember(key, nil, v.Height)
		return nil
	}
	if err != nil {
		panic(Fault{err})
	}
	val, err := it.ValueCopy(nil)
	if err != nil {
		panic(Fault{err})
	}
	v.db.remember(key, val, v.Height)
	return val
}

// GetUncached reads key from Badger, bypassing the value cache (the
// benchmarks' measure of a cache miss).
func (v *View) GetUncached(key []byte) []byte {
	it, err := v.txn.Get(stateKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		panic(Fault{err})
	}
	val, err := it.ValueCopy(nil)
	if err != nil {
		panic(Fault{err})
	}
	return val
}

func (v *View) Iterator(start, end []byte) Iterator { return v.newIter(start, end, false) }

func (v *View) ReverseIterator(start, end []byte) Iterator { return v.newIter(start, end, true) }

type badgerIter struct {
	it      *badger.Iterator
	lo, hi  []byte // namespaced bounds, hi exclusive (nil = namespace end)
	reverse bool
	key     []byte
	val     []byte
}

func (v *View) newIter(start, end []byte, reverse bool) Iterator {
	bi := &badgerIter{reverse: reverse, lo: stateKey(start)}
	if end != nil {
		bi.hi = stateKey(end)
	} else {
		bi.hi = []byte{nsState + 1}
	}
	opts := badger.DefaultIteratorOptions
	opts.Reverse = reverse
	opts.PrefetchValues = false
	opts.Prefix = []byte{nsState}
	bi.it = v.txn.NewIterator(opts)
	if reverse {
		bi.it.Seek(bi.hi)
		if bi.it.Valid() && bytes.Equal(bi.it.Item().Key(), bi.hi) {
			bi.it.Next()
		}
	} else {
		bi.it.Seek(bi.lo)
	}
	bi.load()
	return bi
}

func (b *badgerIter) inRange() bool {
	if !b.it.Valid() {
		return false
	}
	k := b.it.Item().Key()
	return bytes.Compare(k, b.lo) >= 0 && bytes.Compare(k, b.hi) < 0
}

func (b *badgerIter) load() {
	if !b.inRange() {
		b.key, b.val = nil, nil
		return
	}
	item := b.it.Item()
	b.key = item.KeyCopy(nil)[1:]
	v, err := item.ValueCopy(nil)
	if err != nil {
		panic(Fault{err})
	}
	b.val = v
}

func (b *badgerIter) Valid() bool   { return b.key != nil }
func (b *badgerIter) Next()         { b.it.Next(); b.load() }
func (b *badgerIter) Key() []byte   { return b.key }
func (b *badgerIter) Value() []byte { return b.val }
func (b *badgerIter) Close()        { b.it.Close() }

type emptyReader struct{}

func (emptyReader) Get([]byte) []byte                       { return nil }
func (emptyReader) Iterator([]byte, []byte) Iterator        { return &sliceIter{} }
func (emptyReader) ReverseIterator([]byte, []byte) Iterator { return &sliceIter{} }
