package apptest

import (
	"bytes"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
)

// Signing modes of FuzzTxDecode's input: the bytes as the whole
// transaction, or as the body of an envelope the fuzz function signs (so
// arbitrary bodies get past the signature to the stateful ante steps and
// the handlers, which CheckTx runs in admission mode).
const (
	fuzzRawTx        = iota // the bytes are the transaction
	fuzzSignedBody          // the bytes are the body, signed by the chosen key
	fuzzWalletBody          // ... and counter-signed by the customer's wallet key
	fuzzResignedBody        // the bytes decode as a body; its signer is set to the chosen key
	fuzzModes
)

// fuzzSigners are the keys a fuzzed body is signed with: an operator, a
// registered terminal, another seller's operator, a revoked terminal and
// a stranger.
var fuzzSigners = []string{Operator("seller-a"), "seller-a/t1", Operator("seller-b"), "seller-a/t2", "stranger"}

// fuzzTx turns a fuzz input into transaction bytes.
func fuzzTx(raw []byte, mode uint8) []byte {
	m := int(mode) % fuzzModes
	signer := fuzzSigners[int(mode)/fuzzModes%len(fuzzSigners)]
	body := raw
	switch m {
	case fuzzRawTx:
		return raw
	case fuzzResignedBody:
		var b types.TxBody
		if err := b.Unmarshal(raw); err != nil {
			return raw
		}
		b.Signer = Pub(signer)
		bz, err := b.Marshal()
		if err != nil {
			return raw
		}
		body = bz
	}
	tx := types.Tx{Body: body, Signature: sign(signer, body)}
	if m == fuzzWalletBody {
		tx.WalletSignature = sign("wallet", body)
	}
	bz, err := tx.Marshal()
	if err != nil {
		panic(err)
	}
	return bz
}

// remarshal checks that a decoded message encodes deterministically: twice
// the same bytes, and decoding those and encoding again gives them back.
func remarshal[T any, PT interface {
	*T
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}](t *testing.T, what string, m PT) []byte {
	t.Helper()
	a, err := m.Marshal()
	if err != nil {
		t.Fatalf("decoded %s does not encode: %v", what, err)
	}
	b, _ := m.Marshal()
	if !bytes.Equal(a, b) {
		t.Fatalf("%s encodes differently twice: %x vs %x", what, a, b)
	}
	var again T
	if err := PT(&again).Unmarshal(a); err != nil {
		t.Fatalf("%s's own encoding does not decode: %v", what, err)
	}
	c, err := PT(&again).Marshal()
	if err != nil || !bytes.Equal(a, c) {
		t.Fatalf("%s does not re-encode to the same bytes: %x vs %x (%v)", what, a, c, err)
	}
	return a
}

// FuzzTxDecode: arbitrary bytes through the envelope decode and the ante
// chain (ParseTx, CheckTx with its handler run in admission mode,
// RecheckTx) on a chain with sellers, a terminal, a bound wallet, a
// purchase and a redemption. Nothing panics or answers code 1 (internal);
// a stateless refusal has the same code whichever entry point meets it;
// what decodes re-encodes deterministically and its message digest is
// that of its re-encoding.
func FuzzTxDecode(f *testing.F) {
	c := New(f, []string{"seller-a", "seller-b"}, nil)
	MustOK(f, c.Do(Operator("seller-a"), &types.MsgRegisterTerminal{TerminalId: "t1", Pubkey: Pub("seller-a/t1")}))
	MustOK(f, c.Do(Operator("seller-a"), &types.MsgRegisterTerminal{TerminalId: "t2", Pubkey: Pub("seller-a/t2")}))
	MustOK(f, c.Do(Operator("seller-a"), &types.MsgRevokeTerminal{TerminalId: "t2"}))
	buy := MustOK(f, c.Do("seller-a/t1", &types.MsgPurchase{CustomerId: "c1", AmountPaise: 50000, Flow: Flow()})).GetPurchase()
	red := MustOK(f, c.Do("seller-a/t1", &types.MsgRedeem{CustomerId: "c1", Points: 100, BillPaise: 20000, Flow: Flow()})).GetRedeem()
	MustOK(f, c.Do(Operator("seller-b"), &types.MsgBindWallet{CustomerId: "c2", WalletPubkey: Pub("wallet"), Flow: Flow()}))
	p := app.DefaultParams()
	msgs := []struct {
		signer string
		msg    any
	}{
		{"seller-a/t1", &types.MsgPurchase{CustomerId: "c1", AmountPaise: 12345, Flow: Flow()}},
		{Operator("seller-a"), &types.MsgPurchase{SellerId: "seller-a", TerminalId: "t1", CustomerId: "c3", AmountPaise: 1}},
		{"seller-a/t1", &types.MsgRedeem{CustomerId: "c1", Points: 10, BillPaise: 1000, Flow: Flow()}},
		{Operator("seller-b"), &types.MsgRedeem{CustomerId: "c2", Points: 1, BillPaise: 100, ContextNano: 2e9}},
		{"seller-a/t1", &types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 100}},
		{"seller-a/t1", &types.MsgVoidRedemption{RedemptionId: red.RedemptionId}},
		{Operator("seller-a"), &types.MsgRegisterTerminal{TerminalId: "t3", Pubkey: Pub("seller-a/t3")}},
		{Operator("seller-a"), &types.MsgRevokeTerminal{TerminalId: "t1"}},
		{Operator("seller-a"), &types.MsgConfirmSettlement{Epoch: 20454, BankReference: "UTR1"}},
		{Operator("seller-a"), &types.MsgSetSellerConfig{EarnRateBps: 15000, RiskMaxNano: 5e8}},
		{Operator("seller-a"), &types.MsgSetProgramConfig{MinRedeemPoints: 5, MaxRedeemShareBps: 5000, ReturnWindowSeconds: 3600}},
		{Operator("seller-a"), &types.MsgCreateCampaign{Name: "double", MultiplierBps: 20000, BudgetPoints: 100, Terminals: []string{"t1"}}},
		{Operator("seller-a"), &types.MsgEndCampaign{CampaignId: 1}},
		{Operator("seller-a"), &types.MsgSetReferralOffer{ReferrerPoints: 10, RefereePoints: 5}},
		{Operator("seller-a"), &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: &types.TierTable{Tiers: []*types.Tier{{Name: "gold", ThresholdPaise: 100}}}}}},
		{"seller-a/t1", &types.MsgBindWallet{CustomerId: "c1", WalletPubkey: Pub("wallet"), Flow: Flow()}},
		{Operator("seller-a"), &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: p}}},
		{Operator("seller-a"), &types.MsgPropose{Action: &types.MsgPropose_SuspendSeller{SuspendSeller: "seller-b"}}},
		{Operator("seller-b"), &types.MsgVote{ProposalId: 1, Yes: true}},
	}
	for i, m := range msgs {
		b := c.Body(m.signer, m.msg)
		b.Memo = "fuzz seed"
		body, err := b.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(Sign(b, m.signer), uint8(fuzzRawTx))
		for j, s := range fuzzSigners {
			if s == m.signer {
				f.Add(body, uint8(j*fuzzModes+fuzzSignedBody))
				f.Add(body, uint8(((j+i)%len(fuzzSigners))*fuzzModes+fuzzResignedBody))
			}
		}
	}
	redeem := c.Body(Operator("seller-b"), &types.MsgRedeem{CustomerId: "c2", Points: 1, BillPaise: 100})
	rb, _ := redeem.Marshal()
	f.Add(rb, uint8(2*fuzzModes+fuzzWalletBody))
	wrongChain := c.Body("seller-a/t1", &types.MsgPurchase{CustomerId: "c1", AmountPaise: 100})
	wrongChain.ChainId = "other-chain"
	f.Add(Sign(wrongChain, "seller-a/t1"), uint8(fuzzRawTx))
	expired := c.Body("seller-a/t1", &types.MsgPurchase{CustomerId: "c1", AmountPaise: 100})
	expired.ValidUntilHeight = 1
	f.Add(Sign(expired, "seller-a/t1"), uint8(fuzzRawTx))
	f.Add([]byte{}, uint8(fuzzRawTx))
	f.Add([]byte("junk"), uint8(fuzzRawTx))
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00}, uint8(fuzzRawTx))

	f.Fuzz(func(t *testing.T, raw []byte, mode uint8) {
		tx := fuzzTx(raw, mode)
		decoded, derr := app.DecodeTx(ChainID, tx)
		parsed, perr := c.App.ParseTx(tx)
		check := c.App.CheckTx(tx)
		recheck := c.App.RecheckTx(tx)
		for _, r := range []app.TxResult{check, recheck} {
			if r.Code == types.CodeInternal {
				t.Fatalf("internal error on %x: %s", tx, r.Log)
			}
		}
		if derr != nil {
			// Refused before any state is read: the same answer everywhere.
			code := types.CodeOf(derr)
			if perr == nil || types.CodeOf(perr) != code || check.Code != code || recheck.Code != code {
				t.Fatalf("decode refused with %s, ParseTx %v, CheckTx %s, RecheckTx %s", code.Name(), perr, check.Code.Name(), recheck.Code.Name())
			}
			if check.MsgType != "" {
				t.Fatalf("undecodable tx reported as %q", check.MsgType)
			}
			return
		}
		if check.Code == types.CodeDecode || recheck.Code == types.CodeDecode {
			t.Fatalf("decoded tx refused as undecodable: %s", check.Log)
		}
		if perr != nil && (check.Code != types.CodeOf(perr) || recheck.Code != types.CodeOf(perr)) {
			t.Fatalf("ParseTx refused with %v but CheckTx answered %s, RecheckTx %s", perr, check.Code.Name(), recheck.Code.Name())
		}
		if perr == nil && !bytes.Equal(parsed.Hash, decoded.Hash) {
			t.Fatal("ParseTx and DecodeTx disagree on the hash")
		}
		// A stateless refusal (signature, key or memo shape) names no
		// message type; past it, CheckTx names the decoded one.
		if want := app.MsgName(&decoded.Body); check.MsgType != want && (perr == nil || check.MsgType != "") {
			t.Fatalf("CheckTx reports %q for a %q", check.MsgType, want)
		}
		remarshal(t, "envelope", &decoded.Tx)
		body := remarshal(t, "body", &decoded.Body)
		var again types.TxBody
		if err := again.Unmarshal(body); err != nil {
			t.Fatal(err)
		}
		if d := app.MsgDigest(&decoded.Body); !bytes.Equal(d, app.MsgDigest(&decoded.Body)) || !bytes.Equal(d, app.MsgDigest(&again)) {
			t.Fatal("message digest is not a function of the message")
		}
	})
}
