package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/bytepoints/bytepoints/types"
	"github.com/dgraph-io/badger/v4"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/pokt-network/smt"
)

// Badger key namespaces. State values are stored raw (reads never walk the
// trie); the trie holds their hashes and commits to them.
const (
	nsState byte = 's'
	nsNode  byte = 'n'
	nsMeta  byte = 'm'
)

var metaKey = []byte{nsMeta, 'c'}

// Options configure Open.
type Options struct {
	Dir      string // Badger directory; ignored when InMemory
	InMemory bool
	// NodeCacheSize bounds the cache of committed trie nodes (immutable,
	// content addressed, so caching them is always safe). 0 = default.
	NodeCacheSize int
	Logger        badger.Logger
}

// DB is the committed store: Badger plus the sparse Merkle commitment.
//
// A block's life: Stage(changes) folds the block's writes into the trie and
// returns the new root (the app hash FinalizeBlock reports); Commit(height)
// then persists, in this order, (1) the new trie nodes, which are content
// addressed and unreferenced until step 2, so writing them early is harmless
// if the process dies; (2) in one atomic Badger transaction the state
// writes, the removal of orphaned nodes, and the commit record (height and
// app hash). A crash at any instant leaves either the previous commit or the
// new one, never a mix.
//
// Stage and Commit are called by one goroutine (the consensus connection);
// View may be called concurrently from queries and sees only committed state.
type DB struct {
	bdb   *badger.DB
	cache *lru.Cache[string, []byte]

	mu     sync.RWMutex // guards height, root and timeNs against View
	height int64
	root   []byte
	timeNs int64

	trie    *smt.SMT
	nodes   *nodeStore
	pending *Cache // staged but uncommitted state writes
	staged  bool
}

// Open opens (or creates) the store.
func Open(o Options) (*DB, error) {
	bo := badger.DefaultOptions(o.Dir)
	if o.InMemory {
		bo = badger.DefaultOptions("").WithInMemory(true)
	}
	// One writer (the consensus connection) and read-only views: no need
	// for Badger's write-conflict tracking.
	bo = bo.WithSyncWrites(true).WithLogger(o.Logger).WithDetectConflicts(false).
		WithNumVersionsToKeep(1).WithMemTableSize(128 << 20)
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open badger at %q: %w", o.Dir, err)
	}
	size := o.NodeCacheSize
	if size <= 0 {
		size = 1 << 18
	}
	c, _ := lru.New[string, []byte](size)
	db := &DB{bdb: bdb, cache: c}
	var info types.CommitInfo
	err = bdb.View(func(txn *badger.Txn) error {
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
		bdb.Close()
		return nil, fmt.Errorf("read commit record: %w", err)
	}
	db.height, db.root, db.timeNs = info.Height, info.AppHash, info.TimeNs
	db.resetTrie()
	return db, nil
}

// Close closes Badger. Uncommitted staged writes are dropped.
func (db *DB) Close() error { return db.bdb.Close() }

// EmptyRoot is the app hash of an empty state.
func EmptyRoot() []byte {
	return smt.NewSparseMerkleTrie(nil, sha256.New()).Root()
}

func (db *DB) resetTrie() {
	db.nodes = &nodeStore{db: db, ops: map[string][]byte{}}
	db.trie = importTrie(db.nodes, db.root)
	db.pending = NewCache(emptyReader{})
	db.staged = false
}

func importTrie(ns smtStore, root []byte) *smt.SMT {
	if len(root) == 0 || bytes.Equal(root, EmptyRoot()) {
		return smt.NewSparseMerkleTrie(ns, sha256.New())
	}
	return smt.ImportSparseMerkleTrie(ns, sha256.New(), root)
}

// LastCommit is the height and app hash of the last commit (0, nil before
// the first).
func (db *DB) LastCommit() (int64, []byte) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.height, append([]byte(nil), db.root...)
}

// Stage folds writes into the Merkle trie and returns the resulting root.
// It may be called several times before Commit (InitChain, then block 1).
func (db *DB) Stage(changes []Change) ([]byte, error) {
	for _, c := range changes {
		var err error
		if c.Value == nil {
			err = db.trie.Delete(c.Key)
			if errors.Is(err, smt.ErrKeyNotFound) {
				err = nil
			}
			db.pending.Delete(c.Key)
		} else {
			err = db.trie.Update(c.Key, c.Value)
			db.pending.Set(c.Key, c.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("stage key %x: %w", c.Key, err)
		}
	}
	db.staged = true
	return db.trie.Root(), nil
}

// Commit persists the staged writes as height, whose block time is timeNs.
func (db *DB) Commit(height, timeNs int64) error {
	if err := db.trie.Commit(); err != nil {
		return fmt.Errorf("trie commit: %w", err)
	}
	root := db.trie.Root()
	// Phase 1: new nodes (never referenced before phase 2 lands).
	wb := db.bdb.NewWriteBatch()
	var deletes [][]byte
	for k, v := range db.nodes.ops { // order is irrelevant: disjoint keys, one batch
		if v == nil {
			deletes = append(deletes, []byte(k))
			continue
		}
		if err := wb.Set(nodeKey([]byte(k)), v); err != nil {
			wb.Cancel()
			return fmt.Errorf("write trie nodes: %w", err)
		}
		// The next block starts from a lazily loaded trie and walks the
		// same upper levels again: keep what was just written at hand.
		db.cache.Add(k, v)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write trie nodes: %w", err)
	}
	// Phase 2: state, orphan removal and the commit record, atomically.
	meta, err := (&types.CommitInfo{Height: height, AppHash: root, TimeNs: timeNs}).Marshal()
	if err != nil {
		return err
	}
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	for _, c := range db.pending.Changes() {
		k := stateKey(c.Key)
		if c.Value == nil {
			err = txn.Delete(k)
		} else {
			err = txn.Set(k, c.Value)
		}
		if err != nil {
			return fmt.Errorf("write state (block too large for one atomic commit?): %w", err)
		}
	}
	for _, d := range deletes {
		if err := txn.Delete(nodeKey(d)); err != nil {
			return fmt.Errorf("delete orphaned nodes: %w", err)
		}
		db.cache.Remove(string(d))
	}
	if err := txn.Set(metaKey, meta); err != nil {
		return err
	}
	if err := commitHook(height, "before-atomic-write"); err != nil {
		return err
	}
	db.mu.Lock()
	err = txn.Commit()
	if err == nil {
		db.height, db.root, db.timeNs = height, root, timeNs
	}
	db.mu.Unlock()
	if err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	if err := commitHook(height, "after-atomic-write"); err != nil {
		return err
	}
	// Start the next block from a lazily loaded trie so memory stays bounded
	// by what one block touches.
	db.resetTrie()
	return nil
}

// Discard drops staged writes (used when InitChain/FinalizeBlock must be
// redone from the last commit).
func (db *DB) Discard() { db.resetTrie() }

// commitHook lets crash tests stop the process at a chosen point of a
// commit. It is nil in production.
var commitHook = func(height int64, point string) error { return nil }

// SetCommitHook installs a test hook called at named points of Commit.
func SetCommitHook(h func(height int64, point string) error) { commitHook = h }

func stateKey(k []byte) []byte { return append([]byte{nsState}, k...) }
func nodeKey(k []byte) []byte  { return append([]byte{nsNode}, k...) }

// ---- committed reads ----

// View is a consistent read-only view of one commit. Discard it when done.
type View struct {
	txn    *badger.Txn
	Height int64
	Root   []byte
	TimeNs int64 // block time of Height
	db     *DB
}

// View opens a read view of the last commit.
func (db *DB) View() *View {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return &View{txn: db.bdb.NewTransaction(false), Height: db.height, Root: append([]byte(nil), db.root...), TimeNs: db.timeNs, db: db}
}

// Discard releases the view.
func (v *View) Discard() { v.txn.Discard() }

func (v *View) Get(key []byte) []byte {
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

// ---- trie node storage ----

// smtStore is the node store interface of the smt package.
type smtStore interface {
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
	Len() (int, error)
	ClearAll() error
}

var errNodeMissing = errors.New("trie node missing")

// nodeStore buffers the trie's node writes until Commit and reads committed
// nodes through an LRU cache.
type nodeStore struct {
	db  *DB
	ops map[string][]byte // digest -> preimage; nil = delete
}

func (n *nodeStore) Get(key []byte) ([]byte, error) {
	if v, ok := n.ops[string(key)]; ok {
		if v == nil {
			return nil, errNodeMissing
		}
		return v, nil
	}
	return n.db.committedNode(key)
}

func (n *nodeStore) Set(key, value []byte) error {
	n.ops[string(key)] = append([]byte(nil), value...)
	return nil
}

func (n *nodeStore) Delete(key []byte) error {
	n.ops[string(key)] = nil
	return nil
}

func (n *nodeStore) Len() (int, error) { return 0, errors.New("nodeStore: Len unsupported") }
func (n *nodeStore) ClearAll() error   { return errors.New("nodeStore: ClearAll unsupported") }

func (db *DB) committedNode(key []byte) ([]byte, error) {
	if v, ok := db.cache.Get(string(key)); ok {
		return v, nil
	}
	var out []byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		it, err := txn.Get(nodeKey(key))
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errNodeMissing
	}
	if err != nil {
		return nil, err
	}
	db.cache.Add(string(key), out)
	return out, nil
}

// viewNodes reads trie nodes as of a View (for proofs).
type viewNodes struct{ v *View }

func (n viewNodes) Get(key []byte) ([]byte, error) {
	if val, ok := n.v.db.cache.Get(string(key)); ok {
		return val, nil
	}
	it, err := n.v.txn.Get(nodeKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errNodeMissing
	}
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}
func (viewNodes) Set([]byte, []byte) error { return errors.New("read-only") }
func (viewNodes) Delete([]byte) error      { return errors.New("read-only") }
func (viewNodes) Len() (int, error)        { return 0, errors.New("unsupported") }
func (viewNodes) ClearAll() error          { return errors.New("read-only") }
