package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/bytepoints/bytepoints/types"
	"github.com/pokt-network/smt"
)

// Prove returns key's committed value (or its absence) with a compact sparse
// Merkle proof against v.Root.
func (v *View) Prove(key []byte) (*types.ProvenEntry, error) {
	val := v.Get(key)
	trie := importTrie(viewNodes{v}, v.Root)
	p, err := trie.Prove(key)
	if err != nil {
		return nil, fmt.Errorf("prove %x: %w", key, err)
	}
	cp, err := smt.CompactProof(p, trie.Spec())
	if err != nil {
		return nil, err
	}
	bz, err := cp.Marshal()
	if err != nil {
		return nil, err
	}
	return &types.ProvenEntry{Key: append([]byte(nil), key...), Value: val, Exists: val != nil, Proof: bz}, nil
}

// VerifyEntry checks e against an app hash: that e.Value is stored under
// e.Key, or, when !e.Exists, that nothing is.
func VerifyEntry(e *types.ProvenEntry, appHash []byte) error {
	if e == nil {
		return fmt.Errorf("no proof")
	}
	if e.Exists != (len(e.Value) > 0) {
		return fmt.Errorf("proof for %x: exists flag disagrees with value", e.Key)
	}
	var cp smt.SparseCompactMerkleProof
	if err := cp.Unmarshal(e.Proof); err != nil {
		return fmt.Errorf("proof for %x: %w", e.Key, err)
	}
	spec := smt.NewTrieSpec(sha256.New(), false)
	var value []byte
	if e.Exists {
		value = e.Value
	}
	if bytes.Equal(appHash, EmptyRoot()) && !e.Exists {
		return nil // nothing is stored anywhere
	}
	ok, err := smt.VerifyCompactProof(&cp, appHash, e.Key, value, &spec)
	if err != nil {
		return fmt.Errorf("proof for %x: %w", e.Key, err)
	}
	if !ok {
		if e.Exists {
			return fmt.Errorf("proof for %x does not show this value under app hash %X", e.Key, appHash)
		}
		return fmt.Errorf("proof for %x does not show absence under app hash %X", e.Key, appHash)
	}
	return nil
}
