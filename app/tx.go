package app

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"runtime/debug"

	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// MaxTxBytes bounds a transaction's encoding; real ones are a few hundred bytes.
const MaxTxBytes = 16 << 10

// Parsed is a decoded transaction whose signature verified.
type Parsed struct {
	Tx   types.Tx
	Body types.TxBody
	Hash []byte
}

// ParseTx decodes txBytes and checks everything that needs no state: the
// encoding, the chain id, the signature and field shapes.
func ParseTx(chainID string, txBytes []byte) (*Parsed, error) {
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
	if len(p.Tx.Signature) != ed25519.SignatureSize || !ed25519.Verify(p.Body.Signer, types.SignBytes(p.Tx.Body), p.Tx.Signature) {
		return nil, types.Errorf(types.CodeBadSignature, "signature does not verify for signer %x", p.Body.Signer[:8])
	}
	if err := types.ValidateIdempotencyKey(p.Body.IdempotencyKey); err != nil {
		return nil, err
	}
	if err := types.ValidateText("memo", p.Body.Memo, types.MaxMemoLen); err != nil {
		return nil, err
	}
	return p, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// CheckTx validates a transaction against the last committed state without
// writing anything: the mempool's admission check.
func (a *App) CheckTx(txBytes []byte) TxResult {
	p, err := ParseTx(a.cfg.ChainID, txBytes)
	if err != nil {
		return failed(err) // stateless refusals need no state
	}
	view := a.db.View()
	defer view.Discard()
	// Decoded once per committed height, shared read-only by CheckTx calls.
	params := a.engines.paramsAt(view)
	if params == nil {
		return TxResult{Code: types.CodeInternal, Log: "chain not initialised: no block committed yet"}
	}
	kv := store.NewCache(view)
	c := &state.Ctx{KV: kv, Height: view.Height + 1, Params: params, Actor: types.ActorChain}
	// Block time is unknown before the block; the last block's time stands in.
	c.TimeMs = lastBlockTimeMs(view)
	c.Time = floorDiv(c.TimeMs, 1000)
	return a.runTx(kv, c, p)
}

// lastBlockTimeMs is the committed block's time: what CheckTx and queries
// use for "now" (the next block's time is not known yet).
func lastBlockTimeMs(v *store.View) int64 { return floorDiv(v.TimeNs, 1e6) }

// deliverTx runs one transaction of a block.
func (a *App) deliverTx(blk *store.Cache, chain *state.Ctx, txBytes []byte) TxResult {
	p, err := ParseTx(a.cfg.ChainID, txBytes)
	if err != nil {
		return failed(err)
	}
	c := &state.Ctx{KV: blk, Height: chain.Height, Time: chain.Time, TimeMs: chain.TimeMs, Params: chain.Params}
	return a.runTx(blk, c, p)
}

// runTx authenticates, de-duplicates and executes a transaction on kv. The
// (signer, idempotency key) pair is recorded in kv even when the message
// fails, so a replay of a failed transaction is refused too; the message's
// own writes go to a branch that is kept only on success.
func (a *App) runTx(kv store.KV, c *state.Ctx, p *Parsed) (res TxResult) {
	c.TxHash = p.Hash
	b := &p.Body
	if b.ValidUntilHeight < uint64(c.Height) {
		return failed(types.Errorf(types.CodeExpired, "transaction was valid until height %d; the chain is at %d", b.ValidUntilHeight, c.Height))
	}
	if b.ValidUntilHeight > uint64(c.Height)+c.Params.MaxValidAheadBlocks {
		return failed(types.Errorf(types.CodeExpired, "valid_until_height %d is more than %d blocks ahead of %d",
			b.ValidUntilHeight, c.Params.MaxValidAheadBlocks, c.Height))
	}
	signer, err := members.Resolve(kv, b.Signer)
	if err != nil {
		return failed(err)
	}
	c.Actor = signer.Actor()
	idemKey := types.IdemKey(b.Signer, b.IdempotencyKey)
	var seen types.IdempotencyRecord
	if state.Get(kv, idemKey, &seen) {
		r := failed(types.Errorf(types.CodeDuplicate, "idempotency key %q of %s was already used by tx %X at height %d",
			b.IdempotencyKey, c.Actor, seen.TxHash, seen.Height))
		r.Info = hex.EncodeToString(seen.TxHash)
		return r
	}
	state.Put(kv, idemKey, &types.IdempotencyRecord{ValidUntilHeight: b.ValidUntilHeight, TxHash: p.Hash, Height: c.Height})
	kv.Set(types.IdemExpiryKey(b.ValidUntilHeight, b.Signer, b.IdempotencyKey), []byte{1})

	branch := store.NewCache(kv)
	tc := *c
	tc.KV = branch
	data, err := a.execute(&tc, signer, p)
	if err != nil {
		return failed(err)
	}
	branch.Write(kv)
	tc.Emit(types.EventTx, "msg", msgName(b), "actor", c.Actor, "idempotency_key", b.IdempotencyKey,
		"tx_hash", hex.EncodeToString(p.Hash))
	res = TxResult{Code: types.CodeOK, Events: tc.Events()}
	if data != nil {
		bz, err := data.Marshal()
		if err != nil {
			panic(err)
		}
		res.Data = bz
	}
	return res
}

func failed(err error) TxResult {
	return TxResult{Code: types.CodeOf(err), Log: err.Error()}
}

// execute dispatches the message. A panic that is not a storage fault is a
// bug in a handler; it is deterministic, so it fails the transaction on
// every validator alike rather than halting the chain.
func (a *App) execute(c *state.Ctx, s *members.Signer, p *Parsed) (data *types.TxResultData, err error) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(store.Fault); ok {
				panic(f)
			}
			data, err = nil, types.Errorf(types.CodeInternal, "internal error: %v\n%s", r, debug.Stack())
		}
	}()
	open := state.Epoch(c.KV).Epoch
	switch m := p.Body.Msg.(type) {
	case *types.TxBody_Purchase:
		return a.purchase(c, s, m.Purchase)
	case *types.TxBody_Redeem:
		return a.redeem(c, s, m.Redeem, &p.Tx, open)
	case *types.TxBody_Refund:
		x := m.Refund
		if err := members.Authorize(s, &x.SellerId, &x.TerminalId, false, false); err != nil {
			return nil, err
		}
		if err := types.ValidateTxID("purchase id", x.PurchaseId); err != nil {
			return nil, err
		}
		r, err := ledger.Refund(c, x.SellerId, x.PurchaseId, x.AmountPaise)
		if err != nil {
			return nil, err
		}
		return &types.TxResultData{Result: &types.TxResultData_Refund{Refund: r}}, nil
	case *types.TxBody_VoidRedemption:
		x := m.VoidRedemption
		if err := members.Authorize(s, &x.SellerId, &x.TerminalId, false, false); err != nil {
			return nil, err
		}
		if err := types.ValidateTxID("redemption id", x.RedemptionId); err != nil {
			return nil, err
		}
		r, err := ledger.Void(c, x.SellerId, x.RedemptionId, open)
		if err != nil {
			return nil, err
		}
		return &types.TxResultData{Result: &types.TxResultData_Void{Void: r}}, nil
	case *types.TxBody_RegisterTerminal:
		x := m.RegisterTerminal
		if err := members.Authorize(s, &x.SellerId, nil, true, false); err != nil {
			return nil, err
		}
		return nil, members.RegisterTerminal(c, x.SellerId, x.TerminalId, x.Pubkey)
	case *types.TxBody_RevokeTerminal:
		x := m.RevokeTerminal
		if err := members.Authorize(s, &x.SellerId, nil, true, false); err != nil {
			return nil, err
		}
		return nil, members.RevokeTerminal(c, x.SellerId, x.TerminalId)
	case *types.TxBody_ConfirmSettlement:
		x := m.ConfirmSettlement
		if err := members.Authorize(s, &x.SellerId, nil, true, true); err != nil {
			return nil, err
		}
		return nil, settle.Confirm(c, x.SellerId, x.Epoch, x.BankReference)
	case *types.TxBody_SetSellerConfig:
		x := m.SetSellerConfig
		if err := members.Authorize(s, &x.SellerId, nil, true, false); err != nil {
			return nil, err
		}
		return nil, members.SetSellerConfig(c, x.SellerId, x.EarnRateBps, x.RiskMaxNano)
	case *types.TxBody_BindWallet:
		return nil, a.bindWallet(c, s, m.BindWallet)
	case *types.TxBody_Propose:
		return a.propose(c, s, m.Propose)
	case *types.TxBody_Vote:
		return a.vote(c, s, m.Vote)
	default:
		return nil, types.Errorf(types.CodeDecode, "unknown message type %T", m)
	}
}

func msgName(b *types.TxBody) string {
	switch b.Msg.(type) {
	case *types.TxBody_Purchase:
		return "purchase"
	case *types.TxBody_Redeem:
		return "redeem"
	case *types.TxBody_Refund:
		return "refund"
	case *types.TxBody_VoidRedemption:
		return "void_redemption"
	case *types.TxBody_RegisterTerminal:
		return "register_terminal"
	case *types.TxBody_RevokeTerminal:
		return "revoke_terminal"
	case *types.TxBody_ConfirmSettlement:
		return "confirm_settlement"
	case *types.TxBody_SetSellerConfig:
		return "set_seller_config"
	case *types.TxBody_BindWallet:
		return "bind_wallet"
	case *types.TxBody_Propose:
		return "propose"
	case *types.TxBody_Vote:
		return "vote"
	}
	return fmt.Sprintf("%T", b.Msg)
}

// checkFlow validates a payment flow's enums.
func checkFlow(f *types.PaymentFlow) error {
	if f == nil {
		return types.Errorf(types.CodeInvalidArgument, "payment flow is required")
	}
	if _, ok := types.ReadType_name[int32(f.ReadType)]; !ok || f.ReadType == types.ReadType_READ_TYPE_UNSPECIFIED {
		return types.Errorf(types.CodeInvalidArgument, "unknown card read type %d", f.ReadType)
	}
	if _, ok := types.CVM_name[int32(f.Cvm)]; !ok || f.Cvm == types.CVM_CVM_UNSPECIFIED {
		return types.Errorf(types.CodeInvalidArgument, "unknown cardholder verification %d", f.Cvm)
	}
	if _, ok := types.AuthResult_name[int32(f.Auth)]; !ok || f.Auth == types.AuthResult_AUTH_RESULT_UNSPECIFIED {
		return types.Errorf(types.CodeInvalidArgument, "unknown authorisation result %d", f.Auth)
	}
	return nil
}

// paymentTime places a terminal's payment time within the allowed window
// around block time (SPEC §6.5); 0 means "now" (block time).
func paymentTime(c *state.Ctx, ms int64) (int64, error) {
	if ms == 0 {
		return c.TimeMs, nil
	}
	lo := c.TimeMs - c.Params.MaxPaymentLagSeconds*1000
	hi := c.TimeMs + c.Params.MaxPaymentLeadSeconds*1000
	if ms < lo || ms > hi {
		return 0, types.Errorf(types.CodeInvalidArgument,
			"payment time %d ms is outside the accepted window [%d, %d] around block time", ms, lo, hi)
	}
	return ms, nil
}
