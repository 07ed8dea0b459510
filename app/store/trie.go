package store

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// The commitment is a 16-ary sparse Merkle trie over SHA-256(key), in the
// shape of Aptos' Jellyfish Merkle tree: a key's path is the 64 nibbles of
// its hash; a subtree holding no key is empty, one holding exactly one key
// is that key's leaf, placed as high as it can go; only subtrees with two or
// more keys are internal nodes. The root is always an internal node. The
// shape, and so the root, is a function of the set of (key, value) pairs
// alone: not of write order, batching or history.
//
//	leaf hash = SHA-256(0x00 || SHA-256(key) || SHA-256(value))
//	node hash = SHA-256(0x01 || occupancy (2 bytes, bit i = slot i) || hash of each occupied slot, in slot order)
//
// Nodes are hashed flat (one SHA-256 over up to 16 child hashes) rather
// than as a 4-level binary tree as Jellyfish does: a third of the hashing
// per update, for proofs that carry up to 15 siblings per level.
//
// Storage: the subtree in each slot at depth memDepth (a "bucket": the
// keys sharing their first memDepth nibbles) is persisted in Badger as one
// entry under its prefix and overwritten in place when it changes, unless
// it is small enough to stay in memory; the nodes above (at most
// (16^memDepth-1)/15 of them) live only in memory. What the in-memory part
// hangs on is journaled and checkpointed (top.go) and rebuilt at Open. The
// app never reads the trie to read state: values are stored raw under
// nsState.

// smallBucket is the most leaves a bucket may have and stay in memory (and
// in the journal) rather than in a Badger entry of its own: at 10^6 keys
// nine keys in ten are in such buckets or above them, so a changed key
// costs one Badger entry besides its value in one case in ten. Memory stays
// bounded: at most 16^memDepth small buckets.
const smallBucket = 3

// layout is where the trie meets Badger: memDepth is the depth of the
// buckets, topParts the number of checkpoint partitions of the in-memory
// levels (top.go). Changing either (or smallBucket) changes the storage
// layout, not the root: a store written with one layout must be opened
// with the same. Production stores use defaultMemDepth and fullParts; tests pick others
// (Options) to exercise persisted buckets and the partitions' roll with
// few keys.
type layout struct {
	memDepth int
	topParts int
}

const defaultMemDepth = 5

type hash = [32]byte

type kind uint8

const (
	kEmpty kind = iota
	kLeaf
	kNode
)

type leaf struct{ kh, vh hash }

// kid is the content of a slot: empty (zero hash), a leaf, or a node.
type kid struct {
	hash hash  // leaf or node hash
	leaf *leaf // for a leaf
	n    *node // for a node, except a persisted bucket seen from above (loaded on demand)
}

func (k *kid) kind() kind {
	switch {
	case k.leaf != nil:
		return kLeaf
	case k.n == nil && k.hash == hash{}:
		return kEmpty
	}
	return kNode
}

// node is an internal node. Nodes of an older generation than the batch
// being staged are shared with committed views and never modified: a batch
// clones them first. The slots' hashes and references are kept apart so
// that a clone copies the hashes as plain memory.
type node struct {
	gen    uint64
	occ    uint16
	hashes []hash // one per set bit of occ, in slot order
	refs   []ref  // likewise
}

type ref struct {
	leaf *leaf
	n    *node
}

func (n *node) index(s int) int { return bits.OnesCount16(n.occ & (1<<s - 1)) }

func (n *node) count() int { return len(n.hashes) }

// at is the content of the i-th occupied slot.
func (n *node) at(i int) kid { return kid{hash: n.hashes[i], leaf: n.refs[i].leaf, n: n.refs[i].n} }

func (n *node) get(s int) kid {
	if n.occ&(1<<s) == 0 {
		return kid{}
	}
	return n.at(n.index(s))
}

func (n *node) set(s int, k kid) {
	i, has := n.index(s), n.occ&(1<<s) != 0
	switch {
	case k.kind() == kEmpty && has:
		n.hashes = slices.Delete(n.hashes, i, i+1)
		n.refs = slices.Delete(n.refs, i, i+1)
		n.occ &^= 1 << s
	case k.kind() == kEmpty:
	case has:
		n.hashes[i], n.refs[i] = k.hash, ref{k.leaf, k.n}
	default:
		n.hashes = slices.Insert(n.hashes, i, k.hash)
		n.refs = slices.Insert(n.refs, i, ref{k.leaf, k.n})
		n.occ |= 1 << s
	}
}

// add appends a slot's content (decoding, in slot order).
func (n *node) add(k kid) {
	n.hashes = append(n.hashes, k.hash)
	n.refs = append(n.refs, ref{k.leaf, k.n})
}

func (n *node) clone(gen uint64) *node {
	c := newNode(gen, len(n.hashes))
	c.occ = n.occ
	c.hashes = append(c.hashes, n.hashes...)
	c.refs = append(c.refs, n.refs...)
	return c
}

// newNode returns an empty node with room for k slots in the same
// allocation: one object to allocate, and to fetch from memory later,
// instead of three. (A node that outgrows it moves its slots to the heap.)
func newNode(gen uint64, k int) *node {
	var n *node
	switch {
	case k <= 2:
		b := &struct {
			node
			h [2]hash
			r [2]ref
		}{}
		n = &b.node
		n.hashes, n.refs = b.h[:0], b.r[:0]
	case k <= 4:
		b := &struct {
			node
			h [4]hash
			r [4]ref
		}{}
		n = &b.node
		n.hashes, n.refs = b.h[:0], b.r[:0]
	case k <= 8:
		b := &struct {
			node
			h [8]hash
			r [8]ref
		}{}
		n = &b.node
		n.hashes, n.refs = b.h[:0], b.r[:0]
	default:
		b := &struct {
			node
			h [16]hash
			r [16]ref
		}{}
		n = &b.node
		n.hashes, n.refs = b.h[:0], b.r[:0]
	}
	n.gen = gen
	return n
}

func (n *node) hash() hash {
	var buf [3 + 16*32]byte
	buf[0] = 0x01
	binary.BigEndian.PutUint16(buf[1:], n.occ)
	p := 3
	for i := range n.hashes {
		p += copy(buf[p:], n.hashes[i][:])
	}
	return sha256.Sum256(buf[:p])
}

func leafHash(kh, vh *hash) hash {
	var buf [65]byte
	copy(buf[1:], kh[:])
	copy(buf[33:], vh[:])
	return sha256.Sum256(buf[:])
}

func nibble(kh *hash, d int) int {
	b := kh[d/2]
	if d%2 == 0 {
		return int(b >> 4)
	}
	return int(b & 0x0f)
}

// bucketOf is the prefix naming kh's bucket: its first memDepth nibbles,
// the rest zero.
func (l layout) bucketOf(kh *hash) hash {
	var b hash
	copy(b[:l.memDepth/2], kh[:])
	if l.memDepth%2 == 1 {
		b[l.memDepth/2] = kh[l.memDepth/2] & 0xf0
	}
	return b
}

// prefixLen is the length of a bucket prefix packed two nibbles to a byte.
func (l layout) prefixLen() int { return (l.memDepth + 1) / 2 }

// bucketKey is the Badger key of a bucket: the namespace, the depth, then
// the prefix's nibbles packed two to a byte.
func (l layout) bucketKey(b *hash) []byte {
	return append([]byte{nsNode, byte(l.memDepth)}, b[:l.prefixLen()]...)
}

var emptyRoot = (&node{}).hash()

// ---- bucket encoding ----
//
// A bucket is its root node, each node written as
//
//	occupancy uint16 | leaf mask uint16 | per occupied slot, in slot order: a
//	leaf's key hash and value hash (64 bytes), or the child node, nested
//
// Node hashes are not stored: decoding recomputes them, and the caller
// checks the root's against the hash its parent holds.

func encodeBucket(n *node) []byte { return appendNode(nil, n) }

func appendNode(out []byte, n *node) []byte {
	var leaves uint16
	for s := 0; s < 16; s++ {
		if n.occ&(1<<s) != 0 && n.refs[n.index(s)].leaf != nil {
			leaves |= 1 << s
		}
	}
	out = binary.BigEndian.AppendUint16(out, n.occ)
	out = binary.BigEndian.AppendUint16(out, leaves)
	for _, r := range n.refs {
		if r.leaf != nil {
			out = append(out, r.leaf.kh[:]...)
			out = append(out, r.leaf.vh[:]...)
		} else {
			out = appendNode(out, r.n)
		}
	}
	return out
}

var errCorruptNode = errors.New("corrupt trie node")

func decodeBucket(b []byte) (*node, error) {
	n, rest, err := decodeNode(b, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errCorruptNode
	}
	return n, nil
}

func decodeNode(b []byte, depth int) (*node, []byte, error) {
	if len(b) < 4 || depth > 64 {
		return nil, nil, errCorruptNode
	}
	occ, leaves := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	if leaves&^occ != 0 {
		return nil, nil, errCorruptNode
	}
	c := bits.OnesCount16(occ)
	n := newNode(0, c)
	n.occ = occ
	b = b[4:]
	for s := 0; s < 16; s++ {
		if occ&(1<<s) == 0 {
			continue
		}
		if leaves&(1<<s) != 0 {
			if len(b) < 64 {
				return nil, nil, errCorruptNode
			}
			l := &leaf{}
			copy(l.kh[:], b)
			copy(l.vh[:], b[32:])
			n.add(kid{hash: leafHash(&l.kh, &l.vh), leaf: l})
			b = b[64:]
			continue
		}
		c, rest, err := decodeNode(b, depth+1)
		if err != nil {
			return nil, nil, err
		}
		n.add(kid{hash: c.hash(), n: c})
		b = rest
	}
	return n, b, nil
}

// ---- batch update ----

// op is one write: a set of kh to vh, or a delete; seq is its place in
// the Stage call.
type op struct {
	kh, vh hash
	del    bool
	seq    int
}

// sortOps orders ops by key hash and keeps the last write of each key, as
// applying them one by one would.
func sortOps(ops []op) []op {
	slices.SortFunc(ops, func(a, b op) int {
		if x, y := binary.BigEndian.Uint64(a.kh[:8]), binary.BigEndian.Uint64(b.kh[:8]); x != y {
			return cmp.Compare(x, y)
		}
		if c := bytes.Compare(a.kh[8:], b.kh[8:]); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := ops[:0]
	for i := range ops {
		if len(out) > 0 && out[len(out)-1].kh == ops[i].kh {
			out[len(out)-1] = ops[i]
			continue
		}
		out = append(out, ops[i])
	}
	return out
}

// nodeSource reads committed buckets: the root of the bucket with prefix
// id, whose hash is h.
type nodeSource interface {
	loadBucket(id *hash, h *hash) (*node, error)
}

// batch is the trie work of one block (several Stage calls) on top of a
// committed root. It never modifies a committed node.
type batch struct {
	gen  uint64
	lay  layout
	src  nodeSource
	root *node
	// buckets are the roots of the buckets this block rewrote (nil:
	// removed), by prefix.
	buckets map[hash]*node
	// upper are the leaves held in memory (above depth memDepth or in a
	// small bucket) this block placed (vh) or moved away from there (nil),
	// by key hash.
	upper map[hash]*hash
	// prior is, for leaves held in memory in the committed state that this
	// block took out to place again, their committed value hash: a leaf
	// placed again with the same value hash is no change, and the journal
	// leaves it out (deltaOf).
	prior map[hash]hash
}

// unrecord takes the in-memory leaf l out of the top leaves, to be placed
// again (or not) by the update.
func (b *batch) unrecord(l *leaf) {
	if _, seen := b.upper[l.kh]; !seen {
		b.prior[l.kh] = l.vh
	}
	b.upper[l.kh] = nil
}

// newBatch starts a block's batch; hint is the number of writes expected.
func newBatch(gen uint64, lay layout, src nodeSource, root *node, hint int) *batch {
	return &batch{gen: gen, lay: lay, src: src, root: root, buckets: make(map[hash]*node, hint), upper: make(map[hash]*hash, 4*hint), prior: make(map[hash]hash, 2*hint)}
}

// apply folds sorted, deduplicated ops into the trie.
func (b *batch) apply(ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	root := b.root
	if root.gen != b.gen {
		root = root.clone(b.gen)
	}
	if _, err := b.updateNode(root, 0, ops, false); err != nil {
		return err
	}
	b.root = root
	return nil
}

func (b *batch) rootHash() hash { return b.root.hash() }

// updateSlot applies ops, which all share their first d nibbles, to the
// subtree in a slot at depth d whose content is cur, and returns the new
// content.
func (b *batch) updateSlot(cur kid, d int, ops []op) (kid, error) {
	switch cur.kind() {
	case kNode:
		persisted := d == b.lay.memDepth && cur.n == nil
		if d == b.lay.memDepth && !persisted {
			// A small bucket held in memory: its leaves are re-recorded
			// below for as long as it stays small.
			var buf [smallBucket]*leaf
			for _, l := range leavesOf(buf[:0], cur.n, -1) {
				b.unrecord(l)
			}
		}
		n, err := b.mutable(cur, d, &ops[0].kh)
		if err != nil {
			return kid{}, err
		}
		return b.updateNode(n, d, ops, persisted)
	case kLeaf:
		if d <= b.lay.memDepth {
			b.unrecord(cur.leaf) // re-recorded below if it stays up here
		}
		ops = mergeLeaf(ops, cur.leaf)
	}
	sets := ops[:0:0]
	for i := range ops {
		if !ops[i].del {
			sets = append(sets, ops[i])
		}
	}
	switch len(sets) {
	case 0:
		return kid{}, nil
	case 1:
		return b.leafKid(d, &leaf{kh: sets[0].kh, vh: sets[0].vh}), nil
	}
	if d >= 64 {
		return kid{}, fmt.Errorf("two keys with the same SHA-256 hash %x", sets[0].kh)
	}
	return b.updateNode(newNode(b.gen, min(len(sets), 16)), d, sets, false)
}

// leavesOf appends the leaves under n to out, or returns nil as soon as
// there are more than limit (limit < 0: no limit).
func leavesOf(out []*leaf, n *node, limit int) []*leaf {
	for _, r := range n.refs {
		if r.leaf != nil {
			out = append(out, r.leaf)
		} else {
			out = leavesOf(out, r.n, limit)
		}
		if out == nil || limit >= 0 && len(out) > limit {
			return nil
		}
	}
	return out
}

// mergeLeaf returns ops with the existing leaf l added as a set, unless ops
// already write its key.
func mergeLeaf(ops []op, l *leaf) []op {
	i, found := slices.BinarySearchFunc(ops, l.kh, func(o op, kh hash) int { return bytes.Compare(o.kh[:], kh[:]) })
	if found {
		return ops
	}
	out := make([]op, 0, len(ops)+1)
	out = append(out, ops[:i]...)
	out = append(out, op{kh: l.kh, vh: l.vh})
	return append(out, ops[i:]...)
}

func (b *batch) leafKid(d int, l *leaf) kid {
	if d <= b.lay.memDepth {
		b.upper[l.kh] = &l.vh
	}
	return kid{hash: leafHash(&l.kh, &l.vh), leaf: l}
}

// mutable returns a node of this batch for the node in slot cur at depth
// d on kh's path.
func (b *batch) mutable(cur kid, d int, kh *hash) (*node, error) {
	n := cur.n
	if n == nil { // a persisted bucket, at depth memDepth
		id := b.lay.bucketOf(kh)
		if n = b.buckets[id]; n != nil {
			return n, nil
		}
		var err error
		if n, err = b.src.loadBucket(&id, &cur.hash); err != nil {
			return nil, err
		}
	}
	if n.gen == b.gen {
		return n, nil
	}
	return n.clone(b.gen), nil
}

// updateNode applies ops to n (owned by the batch) at depth d and returns
// the slot content it becomes: itself, a leaf (one key left) or empty.
// persisted says whether n is a bucket root stored in Badger.
func (b *batch) updateNode(n *node, d int, ops []op, persisted bool) (kid, error) {
	for i := 0; i < len(ops); {
		s := nibble(&ops[i].kh, d)
		j := i + 1
		for j < len(ops) && nibble(&ops[j].kh, d) == s {
			j++
		}
		k, err := b.updateSlot(n.get(s), d+1, ops[i:j])
		if err != nil {
			return kid{}, err
		}
		n.set(s, k)
		i = j
	}
	if d > 0 && (n.count() == 0 || n.count() == 1 && n.refs[0].leaf != nil) {
		if persisted {
			b.buckets[b.lay.bucketOf(&ops[0].kh)] = nil
		}
		if n.count() == 0 {
			return kid{}, nil
		}
		return b.leafKid(d, n.refs[0].leaf), nil
	}
	k := kid{hash: n.hash(), n: n}
	if d == b.lay.memDepth {
		var buf [smallBucket + 1]*leaf
		if small := leavesOf(buf[:0], n, smallBucket); small != nil {
			// Small enough to keep in memory with the levels above, its
			// leaves journaled like theirs.
			if persisted {
				b.buckets[b.lay.bucketOf(&ops[0].kh)] = nil
			}
			for _, l := range small {
				b.upper[l.kh] = &l.vh
			}
		} else {
			b.buckets[b.lay.bucketOf(&ops[0].kh)] = n
			k.n = nil // seen from above by hash only
		}
	}
	return k, nil
}

// ---- lookups and proofs ----

// proofStep is one level of a proof: the node's occupancy and the hashes
// of its occupied slots other than the one on the key's path.
type proofStep struct {
	occ      uint16
	siblings []hash
}

// walk follows kh from root to the slot where its path ends and returns
// the steps and that slot's content (empty or a leaf).
func (l layout) walk(root *node, kh *hash, src nodeSource) ([]proofStep, kid, error) {
	var steps []proofStep
	n := root
	for d := 0; ; d++ {
		s := nibble(kh, d)
		st := proofStep{occ: n.occ}
		for i := 0; i < 16; i++ {
			if i != s && n.occ&(1<<i) != 0 {
				st.siblings = append(st.siblings, n.hashes[n.index(i)])
			}
		}
		steps = append(steps, st)
		k := n.get(s)
		if k.kind() != kNode {
			return steps, k, nil
		}
		if k.n != nil {
			n = k.n
			continue
		}
		if d+1 != l.memDepth {
			return nil, kid{}, fmt.Errorf("trie node at depth %d on %x: %w: not loaded", d+1, kh, errCorruptNode)
		}
		id := l.bucketOf(kh)
		next, err := src.loadBucket(&id, &k.hash)
		if err != nil {
			return nil, kid{}, err
		}
		n = next
	}
}
