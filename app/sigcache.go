package app

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// verifiedTxsSize bounds the cache of verified transactions: more than two
// full mempools (CometBFT's default holds 5,000) plus a block in flight.
const verifiedTxsSize = 16_384

// verifiedTxs remembers the hashes of transactions whose signature
// verified, so each signature is verified once per node. A hash commits to
// the whole envelope, body and signatures, so finding it is exactly as good
// as verifying again; the cache can only save work, never change a result,
// which keeps it safe in consensus code. It is bounded (LRU) and safe for
// the concurrent CheckTx and consensus connections.
type verifiedTxs struct {
	c *lru.Cache[[32]byte, struct{}]
}

func newVerifiedTxs(n int) *verifiedTxs {
	c, err := lru.New[[32]byte, struct{}](n)
	if err != nil {
		panic(err)
	}
	return &verifiedTxs{c: c}
}

func (v *verifiedTxs) has(hash []byte) bool { _, ok := v.c.Get([32]byte(hash)); return ok }

func (v *verifiedTxs) add(hash []byte) { v.c.Add([32]byte(hash), struct{}{}) }
