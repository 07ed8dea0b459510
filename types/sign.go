package types

import (
	"crypto/ed25519"
	"crypto/sha256"
)

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
