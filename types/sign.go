package types

import (
	"crypto/ed25519"
	"crypto/sha256"
	"io"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519/extra/cache"
)

// Signatures are verified under one rule everywhere, single or in a batch:
// Ed25519 with ZIP-215 validation (curve25519-voi, the rule CometBFT itself
// uses). ZIP-215 makes batch and single verification agree on every input,
// so a validator that verified a transaction alone and one that verified it
// in its block's batch can never disagree about it.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// sigVerifier caches the expanded form of recently seen public keys (a
// till signs many transactions), which saves a fifth of each verification.
// It changes no result.
var sigVerifier = cache.NewVerifier(cache.NewLRUCache(4096))

// VerifySignature checks an Ed25519 signature of msg by pub.
func VerifySignature(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return sigVerifier.VerifyWithOptions(pub, msg, sig, zip215)
}

// BatchVerifier checks many signatures at once under the same rule as
// VerifySignature, about three times faster per signature.
type BatchVerifier struct {
	bv *voi.BatchVerifier
	n  int
}

// NewBatchVerifier returns an empty batch with room for n signatures.
func NewBatchVerifier(n int) *BatchVerifier {
	return &BatchVerifier{bv: voi.NewBatchVerifierWithCapacity(n)}
}

// Add queues one signature; malformed keys or signatures simply fail.
func (b *BatchVerifier) Add(pub, msg, sig []byte) {
	b.n++
	sigVerifier.AddWithOptions(b.bv, pub, msg, sig, zip215)
}

// Verify checks the batch with random coefficients from rand and reports
// each signature's validity, in the order added. The randomness only
// guards the batch equation; the outcome for each signature is what
// VerifySignature gives.
func (b *BatchVerifier) Verify(rand io.Reader) (bool, []bool) {
	if b.n == 0 {
		return true, nil
	}
	return b.bv.Verify(rand)
}

// signDomain separates Byte Points signatures from any other use of a key.
const signDomain = "bytepoints/tx/v1"

// SignBytes are the bytes signed for an encoded TxBody. The body carries the
// chain id, so the signature binds the chain.
func SignBytes(body []byte) []byte {
	out := make([]byte, 0, len(signDomain)+1+len(body))
	out = append(out, signDomain...)
	out = append(out, 0)
	return append(out, body...)
}

// SignTx encodes body and signs it with key, returning the encoded Tx.
func SignTx(body *TxBody, key ed25519.PrivateKey) ([]byte, error) {
	bz, err := body.Marshal()
	if err != nil {
		return nil, err
	}
	tx := &Tx{Body: bz, Signature: ed25519.Sign(key, SignBytes(bz))}
	return tx.Marshal()
}

// TxHash is CometBFT's transaction hash: SHA-256 of the tx bytes. Purchases
// and redemptions are identified by it.
func TxHash(tx []byte) []byte {
	h := sha256.Sum256(tx)
	return h[:]
}
