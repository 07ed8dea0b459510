package store

import (
	"bytes"
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
// Storage: nodes at depth >= memDepth are persisted in Badger under their
// path and overwritten in place; the nodes above (at most 16^memDepth-1 /
// 15 of them) live only in memory and are rebuilt at Open from the
// persisted depth-memDepth nodes plus the few leaves that sit above that
// depth (stored under nsUpper). The app never reads the trie to read state:
// values are stored raw under nsState.

// memDepth is the first depth whose nodes are persisted. Changing it
// changes the storage layout (not the root): a store written with one value
// must be opened with the same. A variable only so that tests can move the
// boundary up and exercise persisted nodes with few keys.
var memDepth = 5

type hash = [32]byte

type kind uint8

const (
	kEmpty kind = iota
	kLeaf
	kNode
)

type leaf struct{ kh, vh hash }

// kid is one occupied slot of a node.
type kid struct {
	kind kind
	hash hash  // leaf or node hash
	leaf *leaf // kLeaf
	n    *node // kNode above memDepth (always loaded); nil for persisted children
}

// node is an internal node. Nodes of an older generation than the batch
// being staged are shared with committed views and never modified: a batch
// clones them first.
type node struct {
	gen  uint64
	occ  uint16
	kids []kid // one per set bit of occ, in slot order
}

func (n *node) index(s int) int { return bits.OnesCount16(n.occ & (1<<s - 1)) }

func (n *node) get(s int) kid {
	if n.occ&(1<<s) == 0 {
		return kid{}
	}
	return n.kids[n.index(s)]
}

func (n *node) set(s int, k kid) {
	i, has := n.index(s), n.occ&(1<<s) != 0
	switch {
	case k.kind == kEmpty && has:
		n.kids = slices.Delete(n.kids, i, i+1)
		n.occ &^= 1 << s
	case k.kind == kEmpty:
	case has:
		n.kids[i] = k
	default:
		n.kids = slices.Insert(n.kids, i, k)
		n.occ |= 1 << s
	}
}

func (n *node) clone(gen uint64) *node {
	return &node{gen: gen, occ: n.occ, kids: slices.Clone(n.kids)}
}

func (n *node) hash() hash {
	var buf [3 + 16*32]byte
	buf[0] = 0x01
	binary.BigEndian.PutUint16(buf[1:], n.occ)
	p := 3
	for i := range n.kids {
		p += copy(buf[p:], n.kids[i].hash[:])
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

// pathKey names the node at depth d on kh's path: the depth, then the
// first d nibbles packed two to a byte (an odd last nibble padded with 0).
func pathKey(kh *hash, d int) []byte {
	k := make([]byte, 1+(d+1)/2)
	k[0] = byte(d)
	copy(k[1:], kh[:(d+1)/2])
	if d%2 == 1 {
		k[len(k)-1] &= 0xf0
	}
	return k
}

var emptyRoot = (&node{}).hash()

// ---- persisted node encoding ----
//
//	occupancy uint16 | leaf mask uint16 | per occupied slot: a leaf's key hash
//	and value hash (64 bytes), or a node's hash (32 bytes)

func encodeNode(n *node) []byte {
	var leaves uint16
	size := 4
	for s := 0; s < 16; s++ {
		if n.occ&(1<<s) == 0 {
			continue
		}
		if k := n.kids[n.index(s)]; k.kind == kLeaf {
			leaves |= 1 << s
			size += 64
		} else {
			size += 32
		}
	}
	out := make([]byte, 4, size)
	binary.BigEndian.PutUint16(out, n.occ)
	binary.BigEndian.PutUint16(out[2:], leaves)
	for i := range n.kids {
		if k := &n.kids[i]; k.kind == kLeaf {
			out = append(out, k.leaf.kh[:]...)
			out = append(out, k.leaf.vh[:]...)
		} else {
			out = append(out, k.hash[:]...)
		}
	}
	return out
}

var errCorruptNode = errors.New("corrupt trie node")

func decodeNode(b []byte) (*node, error) {
	if len(b) < 4 {
		return nil, errCorruptNode
	}
	occ, leaves := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	if leaves&^occ != 0 {
		return nil, errCorruptNode
	}
	n := &node{occ: occ, kids: make([]kid, 0, bits.OnesCount16(occ))}
	b = b[4:]
	for s := 0; s < 16; s++ {
		if occ&(1<<s) == 0 {
			continue
		}
		if leaves&(1<<s) != 0 {
			if len(b) < 64 {
				return nil, errCorruptNode
			}
			l := &leaf{}
			copy(l.kh[:], b)
			copy(l.vh[:], b[32:])
			n.kids = append(n.kids, kid{kind: kLeaf, hash: leafHash(&l.kh, &l.vh), leaf: l})
			b = b[64:]
			continue
		}
		if len(b) < 32 {
			return nil, errCorruptNode
		}
		k := kid{kind: kNode}
		copy(k.hash[:], b)
		n.kids = append(n.kids, k)
		b = b[32:]
	}
	if len(b) != 0 {
		return nil, errCorruptNode
	}
	return n, nil
}

// ---- batch update ----

// op is one write: a set of kh to vh, or a delete.
type op struct {
	kh, vh hash
	del    bool
}

// sortOps orders ops by key hash and keeps the last write of each key, as
// applying them one by one would.
func sortOps(ops []op) []op {
	slices.SortStableFunc(ops, func(a, b op) int { return bytes.Compare(a.kh[:], b.kh[:]) })
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

// nodeSource reads committed persisted nodes.
type nodeSource interface {
	loadNode(path []byte) (*node, error)
}

// batch is the trie work of one block (several Stage calls) on top of a
// committed root. It never modifies a committed node.
type batch struct {
	gen  uint64
	src  nodeSource
	root *node
	// nodes are the persisted nodes this block rewrote (nil: deleted),
	// by path key.
	nodes map[string]*node
	// upper are the leaves at depth <= memDepth this block placed (vh) or
	// moved away from there (nil), by key hash.
	upper map[hash]*hash
}

func newBatch(gen uint64, src nodeSource, root *node) *batch {
	return &batch{gen: gen, src: src, root: root, nodes: map[string]*node{}, upper: map[hash]*hash{}}
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
	if _, err := b.updateNode(root, 0, ops); err != nil {
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
	switch cur.kind {
	case kNode:
		n, err := b.mutable(cur, d, &ops[0].kh)
		if err != nil {
			return kid{}, err
		}
		return b.updateNode(n, d, ops)
	case kLeaf:
		if d <= memDepth {
			b.upper[cur.leaf.kh] = nil // re-recorded below if it stays up here
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
	return b.updateNode(&node{gen: b.gen}, d, sets)
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
	if d <= memDepth {
		b.upper[l.kh] = &l.vh
	}
	return kid{kind: kLeaf, hash: leafHash(&l.kh, &l.vh), leaf: l}
}

// mutable returns a node of this batch for the node in slot cur at depth
// d on kh's path.
func (b *batch) mutable(cur kid, d int, kh *hash) (*node, error) {
	if d < memDepth {
		if cur.n.gen == b.gen {
			return cur.n, nil
		}
		return cur.n.clone(b.gen), nil
	}
	path := pathKey(kh, d)
	if n := b.nodes[string(path)]; n != nil {
		return n, nil
	}
	n, err := b.src.loadNode(path)
	if err != nil {
		return nil, fmt.Errorf("trie node %x: %w", path, err)
	}
	if n.hash() != cur.hash {
		return nil, fmt.Errorf("trie node %x: %w: hash does not match its parent", path, errCorruptNode)
	}
	return n.clone(b.gen), nil
}

// updateNode applies ops to n (owned by the batch) at depth d and returns
// the slot content it becomes: itself, a leaf (one key left) or empty.
func (b *batch) updateNode(n *node, d int, ops []op) (kid, error) {
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
	var path []byte
	if d >= memDepth {
		path = pathKey(&ops[0].kh, d)
	}
	if d > 0 && (len(n.kids) == 0 || len(n.kids) == 1 && n.kids[0].kind == kLeaf) {
		if path != nil {
			b.nodes[string(path)] = nil
		}
		if len(n.kids) == 0 {
			return kid{}, nil
		}
		return b.leafKid(d, n.kids[0].leaf), nil
	}
	k := kid{kind: kNode, hash: n.hash()}
	if path != nil {
		b.nodes[string(path)] = n
	} else {
		k.n = n
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
func walk(root *node, kh *hash, src nodeSource) ([]proofStep, kid, error) {
	var steps []proofStep
	n := root
	for d := 0; ; d++ {
		s := nibble(kh, d)
		st := proofStep{occ: n.occ}
		for i := 0; i < 16; i++ {
			if i != s && n.occ&(1<<i) != 0 {
				st.siblings = append(st.siblings, n.kids[n.index(i)].hash)
			}
		}
		steps = append(steps, st)
		k := n.get(s)
		if k.kind != kNode {
			return steps, k, nil
		}
		if k.n != nil {
			n = k.n
			continue
		}
		path := pathKey(kh, d+1)
		next, err := src.loadNode(path)
		if err != nil {
			return nil, kid{}, fmt.Errorf("trie node %x: %w", path, err)
		}
		if next.hash() != k.hash {
			return nil, kid{}, fmt.Errorf("trie node %x: %w: hash does not match its parent", path, errCorruptNode)
		}
		n = next
	}
}
