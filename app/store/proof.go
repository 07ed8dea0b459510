package store

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/bytepoints/bytepoints/types"
)

// Proof format (ProvenEntry.Proof), for the key hash kh = SHA-256(key):
//
//	version byte (1) | number of levels n (1 byte, 1..64)
//	per level, root first: the node's occupancy (uint16, big-endian), then the
//	  hashes of its occupied slots other than slot nibble(kh, level), in slot order
//	terminal: 0 = the path ends in an empty slot; 1 = in a leaf, followed by
//	  its key hash and value hash (32 bytes each)
//
// The path's slot is occupied at every level but the last, where it is
// occupied exactly when the terminal is a leaf. The verifier recomputes the
// hashes from the terminal up and compares the top one with the app hash.
const proofVersion = 1

// Prove returns key's committed value (or its absence) with a Merkle proof
// against v.Root.
func (v *View) Prove(key []byte) (*types.ProvenEntry, error) {
	val := v.Get(key)
	kh := sha256.Sum256(key)
	steps, end, err := v.db.lay.walk(v.top, &kh, v)
	if err != nil {
		return nil, fmt.Errorf("prove %x: %w", key, err)
	}
	if (end.leaf != nil && end.leaf.kh == kh) != (val != nil) {
		return nil, fmt.Errorf("prove %x: %w: the trie and the state disagree", key, errCorruptNode)
	}
	size := 3
	for _, st := range steps {
		size += 2 + 32*len(st.siblings)
	}
	out := make([]byte, 0, size+64)
	out = append(out, proofVersion, byte(len(steps)))
	for _, st := range steps {
		out = binary.BigEndian.AppendUint16(out, st.occ)
		for i := range st.siblings {
			out = append(out, st.siblings[i][:]...)
		}
	}
	if end.leaf != nil {
		out = append(out, 1)
		out = append(out, end.leaf.kh[:]...)
		out = append(out, end.leaf.vh[:]...)
	} else {
		out = append(out, 0)
	}
	return &types.ProvenEntry{Key: slices.Clone(key), Value: val, Exists: val != nil, Proof: out}, nil
}

var errBadProof = errors.New("malformed proof")

// VerifyEntry checks e against an app hash: that e.Value is stored under
// e.Key, or, when !e.Exists, that nothing is.
func VerifyEntry(e *types.ProvenEntry, appHash []byte) error {
	if e == nil {
		return fmt.Errorf("no proof")
	}
	if e.Exists != (len(e.Value) > 0) {
		return fmt.Errorf("proof for %x: exists flag disagrees with value", e.Key)
	}
	kh := sha256.Sum256(e.Key)
	root, err := proofRoot(e.Proof, &kh, e.Exists, e.Value)
	if err != nil {
		return fmt.Errorf("proof for %x: %w", e.Key, err)
	}
	if string(root[:]) != string(appHash) {
		if e.Exists {
			return fmt.Errorf("proof for %x does not show this value under app hash %X", e.Key, appHash)
		}
		return fmt.Errorf("proof for %x does not show absence under app hash %X", e.Key, appHash)
	}
	return nil
}

// proofRoot parses p and returns the root it proves for kh holding value
// (exists) or nothing.
func proofRoot(p []byte, kh *hash, exists bool, value []byte) (hash, error) {
	var zero hash
	if len(p) < 3 || p[0] != proofVersion || p[1] == 0 || p[1] > 64 {
		return zero, errBadProof
	}
	n := int(p[1])
	type level struct {
		occ      uint16
		siblings []byte
	}
	levels := make([]level, n)
	rest := p[2:]
	for i := 0; i < n; i++ {
		if len(rest) < 2 {
			return zero, errBadProof
		}
		occ := binary.BigEndian.Uint16(rest)
		onPath := occ&(1<<nibble(kh, i)) != 0
		if !onPath && i < n-1 {
			return zero, errBadProof
		}
		count := bits.OnesCount16(occ)
		if onPath {
			count--
		}
		if len(rest) < 2+32*count {
			return zero, errBadProof
		}
		levels[i] = level{occ: occ, siblings: rest[2 : 2+32*count]}
		rest = rest[2+32*count:]
	}
	if len(rest) == 0 {
		return zero, errBadProof
	}
	lastOnPath := levels[n-1].occ&(1<<nibble(kh, n-1)) != 0
	var h hash
	switch rest[0] {
	case 0:
		if len(rest) != 1 || lastOnPath || exists {
			return zero, errBadProof
		}
	case 1:
		if len(rest) != 65 || !lastOnPath {
			return zero, errBadProof
		}
		var l leaf
		copy(l.kh[:], rest[1:])
		copy(l.vh[:], rest[33:])
		for d := 0; d < n; d++ {
			if nibble(&l.kh, d) != nibble(kh, d) {
				return zero, errBadProof // the leaf is not on this path
			}
		}
		if exists && (l.kh != *kh || l.vh != sha256.Sum256(value)) {
			return zero, errors.New("the proven leaf holds another value")
		}
		if !exists && l.kh == *kh {
			return zero, errors.New("the key is present")
		}
		h = leafHash(&l.kh, &l.vh)
	default:
		return zero, errBadProof
	}
	var buf [3 + 16*32]byte
	buf[0] = 0x01
	for d := n - 1; d >= 0; d-- {
		lv := levels[d]
		binary.BigEndian.PutUint16(buf[1:], lv.occ)
		at, sib := 3, lv.siblings
		for s := 0; s < 16; s++ {
			if lv.occ&(1<<s) == 0 {
				continue
			}
			if s == nibble(kh, d) {
				at += copy(buf[at:], h[:])
			} else {
				at += copy(buf[at:], sib[:32])
				sib = sib[32:]
			}
		}
		h = sha256.Sum256(buf[:at])
	}
	return h, nil
}

// ProofRoot returns the root that proof shows for key holding value, or,
// with value nil, holding nothing. A caller compares it with an app hash
// (VerifyEntry does both).
func ProofRoot(key, value, proof []byte) ([]byte, error) {
	kh := sha256.Sum256(key)
	root, err := proofRoot(proof, &kh, value != nil, value)
	if err != nil {
		return nil, fmt.Errorf("proof for %x: %w", key, err)
	}
	return root[:], nil
}
