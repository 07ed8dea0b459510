package app

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The ante steps: everything that happens to a transaction before its
// message's handler runs, in order (as Cosmos SDK's x/auth/ante chains its
// decorators). The stateless ones, ParseTx, need nothing but the bytes and
// the chain id; the stateful ones, ante, read the branch of the block:
//
//	decode   the envelope and its body, within MaxTxBytes      (code 2)
//	chain    the body's chain id is this chain's                (code 13)
//	sign     the signer's Ed25519 signature over the sign bytes (code 3)
//	shape    idempotency key and memo are well formed           (code 14)
//	expiry   valid_until_height is not past nor too far ahead   (code 7)
//	signer   the key belongs to an active seller or terminal    (code 4)
//	replay   (signer, idempotency key) booked nothing, or the
//	         same message (code 6, the original result), or a
//	         different one (code 15, naming the original tx)

// MaxTxBytes bounds a transaction's encoding; real ones are a few hundred bytes.
const MaxTxBytes = 16 << 10

// Parsed is a decoded transaction whose signature verified.
type Parsed struct {
	Tx   types.Tx
	Body types.TxBody
	Hash []byte
}

// ParseTx runs the stateless ante steps: decode, chain id, signature and
// field shapes. A signature is verified once per node: the hashes of
// transactions whose signature verified are remembered (verifiedTxs), so
// recheck, PrepareProposal and FinalizeBlock find what CheckTx verified.
func (a *App) ParseTx(txBytes []byte) (*Parsed, error) {
	return parseTx(a.cfg.ChainID, txBytes, a.sigs)
}

func parseTx(chainID string, txBytes []byte, sigs *verifiedTxs) (*Parsed, error) {
	p, err := decodeTx(chainID, txBytes)
	if err != nil {
		return nil, err
	}
	if !sigs.has(p.Hash) {
		if !types.VerifySignature(p.Body.Signer, types.SignBytes(p.Tx.Body), p.Tx.Signature) {
			return nil, types.Errorf(types.CodeBadSignature, "signature does not verify for signer %x", p.Body.Signer[:8])
		}
		sigs.add(p.Hash)
	}
	if err := types.ValidateIdempotencyKey(p.Body.IdempotencyKey); err != nil {
		return nil, err
	}
	if err := types.ValidateText("memo", p.Body.Memo, types.MaxMemoLen); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodeTx decodes an envelope and checks its chain id and the shapes of
// its signer and signature, verifying nothing: for reading transactions
// the chain has already committed.
func DecodeTx(chainID string, txBytes []byte) (*Parsed, error) { return decodeTx(chainID, txBytes) }

func decodeTx(chainID string, txBytes []byte) (*Parsed, error) {
	p := &Parsed{Hash: types.TxHash(txBytes)}
	if len(txBytes) == 0 {
		return nil, types.Errorf(types.CodeDecode, "empty transaction")
	}
	if len(txBytes) > MaxTxBytes {
		return nil, types.Errorf(types.CodeDecode, "transaction is %d bytes, at most %d allowed", len(txBytes), MaxTxBytes)
	}
	if err := p.Tx.Unmarshal(txBytes); err != nil {
		return nil, types.Errorf(types.CodeDecode, "not a Byte Points transaction envelope: %v", err)
	}
	if err := p.Body.Unmarshal(p.Tx.Body); err != nil {
		return nil, types.Errorf(types.CodeDecode, "transaction body does not decode: %v", err)
	}
	if p.Body.Msg == nil {
		return nil, types.Errorf(types.CodeDecode, "transaction carries no message")
	}
	if p.Body.ChainId != chainID {
		return nil, types.Errorf(types.CodeWrongChain, "transaction is for chain %q, this is %q", clip(p.Body.ChainId), chainID)
	}
	if len(p.Body.Signer) != ed25519.PublicKeySize {
		return nil, types.Errorf(types.CodeBadSignature, "signer must be a 32-byte Ed25519 public key, got %d bytes", len(p.Body.Signer))
	}
	if len(p.Tx.Signature) != ed25519.SignatureSize {
		return nil, types.Errorf(types.CodeBadSignature, "signature must be %d bytes, got %d", ed25519.SignatureSize, len(p.Tx.Signature))
	}
	return p, nil
}

// SigCheck is one transaction signature to verify.
type SigCheck struct {
	TxHash, PubKey, Msg, Sig []byte
}

// Unverified lists the signatures of txs this node has not verified yet
// (skipping what does not decode: it fails in the block anyway), for
// batch verification before a block is executed.
func (a *App) Unverified(txs [][]byte) []SigCheck {
	var out []SigCheck
	for _, tx := range txs {
		p, err := decodeTx(a.cfg.ChainID, tx)
		if err != nil || a.sigs.has(p.Hash) {
			continue
		}
		out = append(out, SigCheck{TxHash: p.Hash, PubKey: p.Body.Signer, Msg: types.SignBytes(p.Tx.Body), Sig: p.Tx.Signature})
	}
	return out
}

// MarkVerified records transactions whose signature verified (in a batch).
// Only a verification under types' rule may call it.
func (a *App) MarkVerified(txHash []byte) { a.sigs.add(txHash) }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// MsgDigest identifies a message for idempotency: SHA-256 of the body's
// message alone, re-encoded canonically (its type and fields; not the
// chain id, signer, key, expiry or memo of the envelope).
func MsgDigest(b *types.TxBody) []byte {
	bz, err := (&types.TxBody{Msg: b.Msg}).Marshal()
	if err != nil {
		panic(err) // a decoded message always re-encodes
	}
	d := sha256.Sum256(bz)
	return d[:]
}

// admitted is what the stateful ante steps resolved for the handler.
type admitted struct {
	signer *members.Signer
	digest []byte
}

// ante runs the stateful ante steps on kv. A refusal or a replay comes
// back as the transaction's result.
func ante(kv store.Reader, c *state.Ctx, p *Parsed) (*admitted, *TxResult) {
	b := &p.Body
	if b.ValidUntilHeight < uint64(c.Height) {
		return nil, refusal(types.Errorf(types.CodeExpired, "transaction was valid until height %d; the chain is at %d", b.ValidUntilHeight, c.Height))
	}
	if b.ValidUntilHeight > uint64(c.Height)+c.Params.MaxValidAheadBlocks {
		return nil, refusal(types.Errorf(types.CodeExpired, "valid_until_height %d is more than %d blocks ahead of %d",
			b.ValidUntilHeight, c.Params.MaxValidAheadBlocks, c.Height))
	}
	signer, err := members.Resolve(kv, b.Signer)
	if err != nil {
		return nil, refusal(err)
	}
	digest := MsgDigest(b)
	var seen types.IdempotencyRecord
	if state.Get(kv, types.IdemKey(b.Signer, b.IdempotencyKey), &seen) {
		return nil, replay(signer, b, &seen, digest)
	}
	return &admitted{signer: signer, digest: digest}, nil
}

// replay answers a transaction whose (signer, key) already booked: the
// original result for the same message (data: the original's, with
// ReplayOf), idempotency_conflict for another (data: only ConflictWith).
// Either way Info is the original transaction's hash (lower-case hex); data
// carries it too, because CometBFT's broadcast_tx_sync drops Info.
func replay(s *members.Signer, b *types.TxBody, seen *types.IdempotencyRecord, digest []byte) *TxResult {
	orig := hex.EncodeToString(seen.TxHash)
	ref := &types.ReplayOf{TxHash: seen.TxHash, Height: seen.Height, Time: seen.Time}
	if !bytes.Equal(seen.MsgDigest, digest) {
		r := refusal(types.Errorf(types.CodeIdempotencyConflict,
			"idempotency key %q of %s was used at height %d by tx %s for a different %s; use a new key for a new operation",
			b.IdempotencyKey, s.Actor(), seen.Height, orig, seen.MsgType))
		r.Info = orig
		bz, err := (&types.TxResultData{ConflictWith: ref}).Marshal()
		if err != nil {
			panic(err)
		}
		r.Data = bz
		return r
	}
	var data types.TxResultData
	if len(seen.Result) > 0 {
		if err := data.Unmarshal(seen.Result); err != nil {
			panic(store.Fault{Err: err})
		}
	}
	data.ReplayOf = ref
	bz, err := data.Marshal()
	if err != nil {
		panic(err)
	}
	return &TxResult{
		Code: types.CodeDuplicate, Info: orig, Data: bz,
		Log: "duplicate: idempotency key " + quote(b.IdempotencyKey) + " of " + s.Actor() + " already booked this " +
			seen.MsgType + " in tx " + orig + "; nothing was booked again (the original result is in data)",
	}
}

// remember records a booked transaction's (signer, key) with its message
// digest, result and envelope validity. The record is kept until both the
// offline window has passed in block time and the envelope's
// valid_until_height is behind the chain (SPEC §10): the window alone
// would let the same signed bytes book again after a halt longer than the
// window, or under a window shorter than the height bound in block time.
func remember(kv store.KV, c *state.Ctx, p *Parsed, a *admitted, result []byte) {
	b := &p.Body
	state.Put(kv, types.IdemKey(b.Signer, b.IdempotencyKey), &types.IdempotencyRecord{
		TxHash: p.Hash, Height: c.Height, Time: c.Time, MsgDigest: a.digest, MsgType: MsgName(b), Result: result,
		ValidUntilHeight: b.ValidUntilHeight,
	})
	kv.Set(types.IdemExpiryKey(c.Time+c.Params.IdempotencyWindowSeconds, b.Signer, b.IdempotencyKey), []byte{1})
}

// pruneIdempotency forgets, oldest first and at most limit per block, the
// (signer, key) pairs whose offline window ended before now and whose
// envelope can no longer be included (valid_until_height < height). A
// record whose window ended first moves to the hold index, by its
// valid_until_height, and is forgotten from there once the chain passes it.
func pruneIdempotency(kv store.KV, now, height int64, limit int) {
	done := 0
	// Held records first: their window is over and only the height remains.
	var dead [][]byte
	it := kv.Iterator([]byte{types.PrefixIdemHold}, types.IdemHoldBound(uint64(height)))
	for ; it.Valid() && len(dead) < limit; it.Next() {
		dead = append(dead, append([]byte(nil), it.Key()...))
	}
	it.Close()
	for _, k := range dead {
		_, idem, err := types.ParseIdemHoldKey(k)
		if err != nil {
			panic(store.Fault{Err: err})
		}
		kv.Delete(idem)
		kv.Delete(k)
	}
	done += len(dead)
	dead = dead[:0]
	it = kv.Iterator([]byte{types.PrefixIdemExpiry}, types.IdemExpiryBound(now))
	for ; it.Valid() && done+len(dead) < limit; it.Next() {
		dead = append(dead, append([]byte(nil), it.Key()...))
	}
	it.Close()
	for _, k := range dead {
		_, idem, err := types.ParseIdemExpiryKey(k)
		if err != nil {
			panic(store.Fault{Err: err})
		}
		kv.Delete(k)
		var rec types.IdempotencyRecord
		if !state.Get(kv, idem, &rec) {
			panic(store.Fault{Err: fmt.Errorf("idempotency expiry entry %x has no record", idem)})
		}
		if rec.ValidUntilHeight >= uint64(height) {
			// The envelope could still be included: hold the record.
			kv.Set(types.IdemHoldKey(rec.ValidUntilHeight, idem), []byte{1})
			continue
		}
		kv.Delete(idem)
	}
}

func refusal(err error) *TxResult {
	r := failed(err)
	return &r
}

func failed(err error) TxResult {
	return TxResult{Code: types.CodeOf(err), Log: err.Error()}
}

func quote(s string) string { return "\"" + s + "\"" }
