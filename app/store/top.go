package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// The in-memory part of the trie (the levels above memDepth and the small
// buckets) is never written node by node. What it hangs on, the "top
// leaves" (each persisted bucket's root hash and each leaf held in memory),
// is persisted in the commit's own atomic transaction as
//
//   - a journal entry: the top leaves this commit changed ('t' 'j' height);
//   - one partition of a rolling checkpoint: the top leaves are split into
//     topParts partitions by the first 10 bits of their key hash (or bucket
//     prefix), and commit h rewrites partition h mod topParts in full,
//     stamped with h ('t' 'p' partition). Every partition is thus at most
//     topParts-1 commits old, and commit h deletes the journal entry of
//     commit h-topParts+1, which no partition needs any more.
//
// Open reads the partitions, replays each journal entry into the
// partitions older than it, rebuilds the in-memory levels and checks their
// root against the committed app hash. Its cost is bounded by the number
// of top leaves plus topParts journal entries, not by the size of the
// state; a commit pays its journal entry and one partition (1/topParts of
// the top leaves): two Badger entries, however many keys it changed.

const nsTop byte = 't'

// topParts is the number of checkpoint partitions. With about as many
// partitions as a block's journal entry is smaller than the whole top, a
// commit writes about as much checkpoint as journal, and Open reads about
// as much journal as checkpoint: 1,024 for 10^6 keys and 1,000-key blocks.
// Tests use fewer (layout) to roll through all of them in a few commits.
const fullParts = 1 << 10

func journalKey(h int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{nsTop, 'j'}, uint64(h))
}

func partKey(p int) []byte { return binary.BigEndian.AppendUint16([]byte{nsTop, 'p'}, uint16(p)) }

func (l layout) partOf(h *hash) int { return int(binary.BigEndian.Uint16(h[:2])>>6) % l.topParts }

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
	for kh, vh := range b.upper { // sorted below
		if old, ok := b.prior[kh]; ok && vh != nil && *vh == old {
			continue // moved within the in-memory levels, value unchanged
		}
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
func (t *topDelta) encode(l layout) []byte {
	out := binary.AppendUvarint(nil, uint64(len(t.upperKeys)))
	for i := range t.upperKeys {
		out = append(out, t.upperKeys[i][:]...)
		out = appendOptHash(out, t.upper[i])
	}
	out = binary.AppendUvarint(out, uint64(len(t.bucketIDs)))
	for i := range t.bucketIDs {
		out = append(out, t.bucketIDs[i][:l.prefixLen()]...)
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

var errCorruptTop = errors.New("corrupt trie journal or checkpoint partition")

// applyDelta decodes an encoded delta into the top leaves, keeping only
// the records for which keep(partition) holds.
func (l layout) applyDelta(b []byte, upper, buckets map[hash]hash, keep func(p int) bool) error {
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
		switch {
		case !keep(l.partOf(&kh)):
		case vh == nil:
			delete(upper, kh)
		default:
			upper[kh] = *vh
		}
	}
	n, k = binary.Uvarint(b)
	if k <= 0 {
		return errCorruptTop
	}
	b = b[k:]
	for ; n > 0; n-- {
		plen := l.prefixLen()
		if len(b) < plen {
			return errCorruptTop
		}
		var id hash
		copy(id[:], b[:plen])
		b = b[plen:]
		if l.bucketOf(&id) != id {
			return errCorruptTop
		}
		h, ok := optHash()
		if !ok {
			return errCorruptTop
		}
		switch {
		case !keep(l.partOf(&id)):
		case h == nil:
			delete(buckets, id)
		default:
			buckets[id] = *h
		}
	}
	if len(b) != 0 {
		return errCorruptTop
	}
	return nil
}

// topLeaves lists the top leaves of partition p (all of them if p < 0)
// under root, in key order (the walk goes through slots in order).
func (l layout) topLeaves(root *node, p int) *topDelta {
	t := &topDelta{}
	var walk func(n *node, d int, prefix hash)
	walk = func(n *node, d int, prefix hash) {
		for s := 0; s < 16; s++ {
			if n.occ&(1<<s) == 0 {
				continue
			}
			pre := prefix
			if d%2 == 0 {
				pre[d/2] |= byte(s) << 4
			} else {
				pre[d/2] |= byte(s)
			}
			k := n.at(n.index(s))
			switch {
			case k.leaf != nil:
				if p < 0 || l.partOf(&k.leaf.kh) == p {
					t.upperKeys = append(t.upperKeys, k.leaf.kh)
					t.upper = append(t.upper, &k.leaf.vh)
				}
			case k.n == nil: // a persisted bucket, at depth memDepth
				if p < 0 || l.partOf(&pre) == p {
					h := k.hash
					t.bucketIDs = append(t.bucketIDs, pre)
					t.bucketRoot = append(t.bucketRoot, &h)
				}
			case p >= 0 && l.topParts == fullParts && !canReach(&pre, d+1, p):
			default:
				walk(k.n, d+1, pre)
			}
		}
	}
	walk(root, 0, hash{})
	return t
}

// canReach says whether a key hash or bucket prefix starting with the
// first d nibbles of pre can be in partition p (of fullParts).
func canReach(pre *hash, d, p int) bool {
	bits10 := int(binary.BigEndian.Uint16(pre[:2]) >> 6)
	if d >= 3 {
		return bits10 == p
	}
	return bits10>>(10-4*d) == p>>(10-4*d)
}

// encodePart is partition p as of commit h.
func (l layout) encodePart(root *node, p int, h int64) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(h)), l.topLeaves(root, p).encode(l)...)
}

// writeTop writes the top's share of commit h: its journal entry,
// partition h mod topParts of the new top, and the deletion of the journal
// entry no partition needs any more.
func (l layout) writeTop(set func(k, v []byte) error, del func(k []byte) error, b *batch, h int64) error {
	if err := set(journalKey(h), deltaOf(b).encode(l)); err != nil {
		return err
	}
	p := int(h % int64(l.topParts))
	if err := set(partKey(p), l.encodePart(b.root, p, h)); err != nil {
		return err
	}
	if old := h - int64(l.topParts) + 1; old > 0 {
		return del(journalKey(old))
	}
	return nil
}

// writeAllParts writes every partition as of commit h, for a first commit
// written in pieces (it has no journal entry).
func (l layout) writeAllParts(set func(k, v []byte) error, root *node, h int64) error {
	for p := 0; p < l.topParts; p++ {
		if err := set(partKey(p), l.encodePart(root, p, h)); err != nil {
			return err
		}
	}
	return nil
}

// loadTop reads the partitions and the journal, up to height, and
// rebuilds the in-memory levels.
func (db *DB) loadTop(height int64) (*node, error) {
	upper, buckets := map[hash]hash{}, map[hash]hash{}
	l := db.lay
	partAt := make([]int64, l.topParts) // height of each partition (0: none yet)
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
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
	err := scan([]byte{nsTop, 'p'}, func(k, v []byte) error {
		if len(k) != 4 || int(binary.BigEndian.Uint16(k[2:])) >= l.topParts || len(v) < 8 {
			return errCorruptTop
		}
		p := int(binary.BigEndian.Uint16(k[2:]))
		partAt[p] = int64(binary.BigEndian.Uint64(v))
		return l.applyDelta(v[8:], upper, buckets, func(q int) bool { return q == p })
	})
	if err != nil {
		return nil, err
	}
	err = scan([]byte{nsTop, 'j'}, func(k, v []byte) error { // in height order
		if len(k) != 10 {
			return errCorruptTop
		}
		h := int64(binary.BigEndian.Uint64(k[2:]))
		if h > height {
			return fmt.Errorf("%w: journal entry %d above the committed height %d", errCorruptTop, h, height)
		}
		return l.applyDelta(v, upper, buckets, func(p int) bool { return h > partAt[p] })
	})
	if err != nil {
		return nil, err
	}
	root := newNode(0, 16)
	for _, id := range slices.SortedFunc(mapKeys(buckets), cmpHash) {
		if err := l.placeNode(root, &id, buckets[id]); err != nil {
			return nil, err
		}
	}
	for _, kh := range slices.SortedFunc(mapKeys(upper), cmpHash) {
		if err := placeLeaf(root, 0, &leaf{kh: kh, vh: upper[kh]}); err != nil {
			return nil, err
		}
	}
	rehash(root)
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
