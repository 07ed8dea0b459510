package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// The in-memory levels of the trie (depth < memDepth) are never written
// node by node. What they hang on, the "top leaves" (each bucket's root
// hash and each leaf above depth memDepth), is persisted as
//
//   - a journal: one entry per commit with the top leaves it changed,
//     written in the commit's atomic transaction ('t' 'j' height);
//   - a checkpoint: every top leaf as of some height C, in chunks
//     ('t' 'c' C chunk), adopted by one transaction that also records C
//     (topMetaKey) and deletes the journal up to C and the previous
//     checkpoint. Chunks are written before they are adopted, so a crash
//     while writing them leaves only unreferenced chunks, removed at Open.
//
// Open loads the checkpoint, replays the journal after it, rebuilds the
// in-memory levels and checks their root against the committed app hash.
// Its cost is bounded by the number of top leaves (at most 16^memDepth
// bucket hashes plus as many upper leaves), not by the size of the state.

const nsTop byte = 't'

var topMetaKey = []byte{nsMeta, 't'} // height of the checkpoint in use (uint64)

// checkpointMin is the journal size below which no checkpoint is taken; a
// variable only so that tests can checkpoint with few keys.
var checkpointMin = 4 << 20

const checkpointChunk = 256 << 10

func journalKey(h int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{nsTop, 'j'}, uint64(h))
}

func chunkKey(c int64, i int) []byte {
	k := binary.BigEndian.AppendUint64([]byte{nsTop, 'c'}, uint64(c))
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

// topDelta is a set of top-leaf changes: upper leaves (key hash -> value
// hash, nil = gone) and bucket roots (prefix -> root hash, nil = gone).
type topDelta struct {
	upperKeys  []hash
	upper      []*hash
	bucketIDs  []hash
	bucketRoot []*hash
}

func (t *topDelta) len() int { return len(t.upperKeys) + len(t.bucketIDs) }

func cmpHash(a, b hash) int { return bytes.Compare(a[:], b[:]) }

// deltaOf is the top-leaf change of a staged block.
func deltaOf(b *batch) *topDelta {
	t := &topDelta{}
	for kh := range b.upper {
		t.upperKeys = append(t.upperKeys, kh)
	}
	slices.SortFunc(t.upperKeys, cmpHash)
	for _, kh := range t.upperKeys {
		t.upper = append(t.upper, b.upper[kh])
	}
	for id := range b.buckets {
		t.bucketIDs = append(t.bucketIDs, id)
	}
	slices.SortFunc(t.bucketIDs, cmpHash)
	for _, id := range t.bucketIDs {
		var h *hash
		if n := b.buckets[id]; n != nil {
			nh := n.hash()
			h = &nh
		}
		t.bucketRoot = append(t.bucketRoot, h)
	}
	return t
}

// encoding: uvarint count, then per upper leaf key hash, 0 | 1 and the value
// hash; uvarint count, then per bucket its packed prefix, 0 | 1 and the root
// hash.
func (t *topDelta) encode() []byte {
	out := binary.AppendUvarint(nil, uint64(len(t.upperKeys)))
	for i := range t.upperKeys {
		out = append(out, t.upperKeys[i][:]...)
		out = appendOptHash(out, t.upper[i])
	}
	out = binary.AppendUvarint(out, uint64(len(t.bucketIDs)))
	for i := range t.bucketIDs {
		out = append(out, t.bucketIDs[i][:(memDepth+1)/2]...)
		out = appendOptHash(out, t.bucketRoot[i])
	}
	return out
}

func appendOptHash(out []byte, h *hash) []byte {
	if h == nil {
		return append(out, 0)
	}
	return append(append(out, 1), h[:]...)
}

var errCorruptTop = errors.New("corrupt trie journal or checkpoint")

// apply decodes an encoded delta into the top leaves.
func applyDelta(b []byte, upper, buckets map[hash]hash) error {
	optHash := func() (*hash, bool) {
		if len(b) < 1 {
			return nil, false
		}
		if b[0] == 0 {
			b = b[1:]
			return nil, true
		}
		if b[0] != 1 || len(b) < 33 {
			return nil, false
		}
		var h hash
		copy(h[:], b[1:])
		b = b[33:]
		return &h, true
	}
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return errCorruptTop
	}
	b = b[k:]
	for ; n > 0; n-- {
		if len(b) < 32 {
			return errCorruptTop
		}
		var kh hash
		copy(kh[:], b)
		b = b[32:]
		vh, ok := optHash()
		if !ok {
			return errCorruptTop
		}
		if vh == nil {
			delete(upper, kh)
		} else {
			upper[kh] = *vh
		}
	}
	n, k = binary.Uvarint(b)
	if k <= 0 {
		return errCorruptTop
	}
	b = b[k:]
	for ; n > 0; n-- {
		plen := (memDepth + 1) / 2
		if len(b) < plen {
			return errCorruptTop
		}
		var id hash
		copy(id[:], b[:plen])
		b = b[plen:]
		if bucketOf(&id) != id {
			return errCorruptTop
		}
		h, ok := optHash()
		if !ok {
			return errCorruptTop
		}
		if h == nil {
			delete(buckets, id)
		} else {
			buckets[id] = *h
		}
	}
	if len(b) != 0 {
		return errCorruptTop
	}
	return nil
}

// topLeaves lists every top leaf of the committed in-memory levels under
// root (in key order: the walk goes through slots in order).
func topLeaves(root *node) *topDelta {
	t := &topDelta{}
	var walk func(n *node, d int, prefix hash)
	walk = func(n *node, d int, prefix hash) {
		for s := 0; s < 16; s++ {
			if n.occ&(1<<s) == 0 {
				continue
			}
			k := n.at(n.index(s))
			p := prefix
			if d%2 == 0 {
				p[d/2] |= byte(s) << 4
			} else {
				p[d/2] |= byte(s)
			}
			switch {
			case k.leaf != nil:
				t.upperKeys = append(t.upperKeys, k.leaf.kh)
				t.upper = append(t.upper, &k.leaf.vh)
			case d+1 == memDepth:
				h := k.hash
				t.bucketIDs = append(t.bucketIDs, p)
				t.bucketRoot = append(t.bucketRoot, &h)
			default:
				walk(k.n, d+1, p)
			}
		}
	}
	walk(root, 0, hash{})
	return t
}

// chunks splits a full set of top leaves into checkpoint chunks.
func (t *topDelta) chunks() [][]byte {
	var out [][]byte
	per := checkpointChunk / 66
	for i, j := 0, 0; i < len(t.upperKeys) || j < len(t.bucketIDs); {
		c := &topDelta{}
		for ; i < len(t.upperKeys) && c.len() < per; i++ {
			c.upperKeys = append(c.upperKeys, t.upperKeys[i])
			c.upper = append(c.upper, t.upper[i])
		}
		for ; j < len(t.bucketIDs) && c.len() < per; j++ {
			c.bucketIDs = append(c.bucketIDs, t.bucketIDs[j])
			c.bucketRoot = append(c.bucketRoot, t.bucketRoot[j])
		}
		out = append(out, c.encode())
	}
	return out
}

// topState is what Open learns about the top leaves.
type topState struct {
	checkpoint int64 // height of the checkpoint in use (0: none)
	chunks     int   // its number of chunks
	journal    []int64
	bytes      int // journal bytes since the checkpoint
	ckptBytes  int
}

// loadTop reads the checkpoint and the journal after it, up to height, and
// rebuilds the in-memory levels.
func (db *DB) loadTop(height int64) (*node, error) {
	upper, buckets := map[hash]hash{}, map[hash]hash{}
	st := topState{}
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	if it, err := txn.Get(topMetaKey); err == nil {
		err = it.Value(func(v []byte) error {
			if len(v) != 8 {
				return errCorruptTop
			}
			st.checkpoint = int64(binary.BigEndian.Uint64(v))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("trie checkpoint record: %w", err)
		}
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, err
	}
	var garbage [][]byte
	scan := func(prefix []byte, fn func(k, v []byte) error) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
				return fmt.Errorf("trie top at %x: %w", item.Key(), err)
			}
		}
		return nil
	}
	err := scan([]byte{nsTop, 'c'}, func(k, v []byte) error {
		if len(k) != 14 {
			return errCorruptTop
		}
		if int64(binary.BigEndian.Uint64(k[2:])) != st.checkpoint {
			garbage = append(garbage, slices.Clone(k)) // an unadopted checkpoint
			return nil
		}
		if int(binary.BigEndian.Uint32(k[10:])) != st.chunks {
			return fmt.Errorf("%w: checkpoint chunk missing", errCorruptTop)
		}
		st.chunks++
		st.ckptBytes += len(v)
		return applyDelta(v, upper, buckets)
	})
	if err != nil {
		return nil, err
	}
	err = scan([]byte{nsTop, 'j'}, func(k, v []byte) error {
		if len(k) != 10 {
			return errCorruptTop
		}
		h := int64(binary.BigEndian.Uint64(k[2:]))
		if h <= st.checkpoint {
			garbage = append(garbage, slices.Clone(k))
			return nil
		}
		if h > height {
			return fmt.Errorf("%w: journal entry %d above the committed height %d", errCorruptTop, h, height)
		}
		st.journal = append(st.journal, h)
		st.bytes += len(v)
		return applyDelta(v, upper, buckets)
	})
	if err != nil {
		return nil, err
	}
	if len(garbage) > 0 {
		wb := db.bdb.NewWriteBatch()
		for _, k := range garbage {
			if err := wb.Delete(k); err != nil {
				wb.Cancel()
				return nil, err
			}
		}
		if err := wb.Flush(); err != nil {
			return nil, err
		}
	}
	root := &node{}
	ids := slices.SortedFunc(mapKeys(buckets), cmpHash)
	for _, id := range ids {
		if err := placeNode(root, &id, buckets[id]); err != nil {
			return nil, err
		}
	}
	khs := slices.SortedFunc(mapKeys(upper), cmpHash)
	for _, kh := range khs {
		if err := placeLeaf(root, 0, &leaf{kh: kh, vh: upper[kh]}); err != nil {
			return nil, err
		}
	}
	rehash(root)
	db.topSt = st
	return root, nil
}

func mapKeys(m map[hash]hash) func(func(hash) bool) {
	return func(yield func(hash) bool) {
		for k := range m { // sorted by the caller
			if !yield(k) {
				return
			}
		}
	}
}

// maybeCheckpoint writes a checkpoint of the top as of the last commit when
// the journal has grown past the checkpoint's own size, so that Open never
// replays more than about twice the top's size.
func (db *DB) maybeCheckpoint() error {
	st := &db.topSt
	if st.bytes < max(checkpointMin, st.ckptBytes) {
		return nil
	}
	return db.writeCheckpoint(topLeaves(db.top), db.height, nil)
}

// writeCheckpoint writes the full top leaves t as the checkpoint of height
// c, then adopts it in one transaction (with extra, if given, the commit
// record of a first commit written in pieces).
func (db *DB) writeCheckpoint(t *topDelta, c int64, extra func(*badger.Txn) error) error {
	chunks := t.chunks()
	wb := db.bdb.NewWriteBatch()
	size := 0
	for i, ch := range chunks {
		size += len(ch)
		if err := wb.Set(chunkKey(c, i), ch); err != nil {
			wb.Cancel()
			return fmt.Errorf("write trie checkpoint: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write trie checkpoint: %w", err)
	}
	if err := commitHook(c, "before-checkpoint-adopt"); err != nil {
		return err
	}
	old := db.topSt
	err := db.bdb.Update(func(txn *badger.Txn) error {
		if err := txn.Set(topMetaKey, binary.BigEndian.AppendUint64(nil, uint64(c))); err != nil {
			return err
		}
		for _, h := range old.journal {
			if h <= c {
				if err := txn.Delete(journalKey(h)); err != nil {
					return err
				}
			}
		}
		if old.checkpoint != c {
			for i := 0; i < old.chunks; i++ {
				if err := txn.Delete(chunkKey(old.checkpoint, i)); err != nil {
					return err
				}
			}
		}
		if extra != nil {
			return extra(txn)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("adopt trie checkpoint %d: %w", c, err)
	}
	db.topSt = topState{checkpoint: c, chunks: len(chunks), ckptBytes: size}
	return nil
}
