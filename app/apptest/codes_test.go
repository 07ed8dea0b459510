package apptest

import (
	"crypto/ed25519"
	"testing"

	"github.com/bytepoints/bytepoints/types"
)

// TestEveryErrorCode sends one bad input per SPEC §4 code through the whole
// state machine (decode, authentication, dispatch, handlers) and checks the
// code, that the log says something, and that CheckTx agrees where it can.
func TestEveryErrorCode(t *testing.T) {
	c := New(t, []string{"seller-a", "seller-b"}, nil)
	opA, opB := Operator("seller-a"), Operator("seller-b")
	MustOK(t, c.Do(opA, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: Pub("a/till-1")}))
	MustOK(t, c.Do(opA, &types.MsgRegisterTerminal{TerminalId: "till-2", Pubkey: Pub("a/till-2")}))
	MustOK(t, c.Do(opA, &types.MsgRevokeTerminal{TerminalId: "till-2"}))
	buy := MustOK(t, c.Do("a/till-1", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})).GetPurchase()

	withBody := func(signer string, msg any, edit func(b *types.TxBody)) []byte {
		b := c.Body(signer, msg)
		edit(b)
		return Sign(b, signer)
	}
	dupBody := c.Body(opA, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: Flow()})
	MustOK(t, c.Block(1, Sign(dupBody, opA))[0])
	badSig := func() []byte {
		tx := &types.Tx{}
		if err := tx.Unmarshal(c.Tx(opA, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: Flow()})); err != nil {
			t.Fatal(err)
		}
		tx.Signature[0] ^= 1
		bz, _ := tx.Marshal()
		return bz
	}
	noMsg := func() []byte {
		b := &types.TxBody{ChainId: ChainID, Signer: Pub(opA), IdempotencyKey: "x", ValidUntilHeight: 100}
		bz, _ := b.Marshal()
		tx, _ := (&types.Tx{Body: bz, Signature: ed25519.Sign(Key(opA), types.SignBytes(bz))}).Marshal()
		return tx
	}
	purchase := func(cust string, paise uint64) *types.MsgPurchase {
		return &types.MsgPurchase{CustomerId: cust, AmountPaise: paise, Flow: Flow()}
	}
	cases := []struct {
		name string
		code types.Code
		tx   []byte
	}{
		{"garbage bytes", types.CodeDecode, []byte("\xff\xfe garbage")},
		{"empty transaction", types.CodeDecode, nil},
		{"envelope without a message", types.CodeDecode, noMsg()},
		{"bad signature", types.CodeBadSignature, badSig()},
		{"unknown signer", types.CodeUnknownSigner, c.Tx("stranger", purchase("cust", 100))},
		{"revoked terminal", types.CodeUnknownSigner, c.Tx("a/till-2", purchase("cust", 100))},
		{"terminal of A acting for B", types.CodeUnauthorized, c.Tx("a/till-1", &types.MsgPurchase{SellerId: "seller-b", CustomerId: "cust", AmountPaise: 100, Flow: Flow()})},
		{"terminal registering terminals", types.CodeUnauthorized, c.Tx("a/till-1", &types.MsgRegisterTerminal{TerminalId: "till-9", Pubkey: Pub("x")})},
		{"refund of another seller's purchase", types.CodeUnauthorized, c.Tx(opB, &types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 100})},
		{"duplicate idempotency key", types.CodeDuplicate, Sign(dupBody, opA)},
		{"expired", types.CodeExpired, withBody(opA, purchase("cust", 100), func(b *types.TxBody) { b.ValidUntilHeight = 1 })},
		{"too far ahead", types.CodeExpired, withBody(opA, purchase("cust", 100), func(b *types.TxBody) { b.ValidUntilHeight = 1_000_000 })},
		{"overflow", types.CodeOverflow, c.Tx(opA, &types.MsgRedeem{CustomerId: "cust", Points: 1 << 62, BillPaise: 100000, Flow: Flow()})},
		{"purchase above the governed maximum", types.CodeInvalidAmount, c.Tx(opA, purchase("cust", 100_000_001))},
		{"idempotency key reused for another message", types.CodeIdempotencyConflict, withBody(opA, purchase("cust", 9900), func(b *types.TxBody) { b.IdempotencyKey = dupBody.IdempotencyKey })},
		{"operator naming an unregistered terminal", types.CodeNotFound, c.Tx(opA, &types.MsgPurchase{TerminalId: "till-9", CustomerId: "cust", AmountPaise: 100, Flow: Flow()})},
		{"operator naming another seller's terminal", types.CodeNotFound, c.Tx(opB, &types.MsgPurchase{TerminalId: "till-1", CustomerId: "cust", AmountPaise: 100, Flow: Flow()})},
		{"operator naming a revoked terminal", types.CodeUnauthorized, c.Tx(opA, &types.MsgPurchase{TerminalId: "till-2", CustomerId: "cust", AmountPaise: 100, Flow: Flow()})},
		{"terminal naming another terminal", types.CodeUnauthorized, c.Tx("a/till-1", &types.MsgPurchase{TerminalId: "till-3", CustomerId: "cust", AmountPaise: 100, Flow: Flow()})},
		{"over-redeem", types.CodeInsufficientPoints, c.Tx(opA, &types.MsgRedeem{CustomerId: "cust", Points: 102, BillPaise: 100000, Flow: Flow()})},
		{"redeem above the bill", types.CodeInvalidAmount, c.Tx(opA, &types.MsgRedeem{CustomerId: "cust", Points: 50, BillPaise: 4999, Flow: Flow()})},
		{"zero purchase", types.CodeInvalidAmount, c.Tx(opA, purchase("cust", 0))},
		{"unknown purchase", types.CodeNotFound, c.Tx(opA, &types.MsgRefund{PurchaseId: make([]byte, 32)})},
		{"redeem without verification", types.CodeCVMRequired, c.Tx(opA, &types.MsgRedeem{CustomerId: "cust", Points: 50, BillPaise: 5000})},
		{"wrong chain id", types.CodeWrongChain, withBody(opA, purchase("cust", 100), func(b *types.TxBody) { b.ChainId = "other-chain" })},
		{"malformed customer id", types.CodeInvalidArgument, c.Tx(opA, purchase("card number 4111 1111", 100))},
		{"malformed seller id", types.CodeInvalidArgument, c.Tx(opA, &types.MsgPurchase{SellerId: "Seller_A", CustomerId: "cust", AmountPaise: 100, Flow: Flow()})},
		{"malformed purchase id", types.CodeInvalidArgument, c.Tx(opA, &types.MsgRefund{PurchaseId: []byte{1, 2, 3}})},
		{"malformed idempotency key", types.CodeInvalidArgument, withBody(opA, purchase("cust", 100), func(b *types.TxBody) { b.IdempotencyKey = "has space" })},
		{"contradictory flow: aborted PIN reported approved", types.CodeInvalidArgument, c.Tx(opA, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100,
			Flow: &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACT_EMV, Cvm: types.CVM_CVM_WRONG_PIN_ABORTED, Auth: types.AuthResult_AUTH_RESULT_APPROVED}})},
		{"contradictory flow on a redemption", types.CodeInvalidArgument, c.Tx(opA, &types.MsgRedeem{CustomerId: "cust", Points: 1, BillPaise: 100,
			Flow: &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACT_EMV, Cvm: types.CVM_CVM_WRONG_PIN_ABORTED, Auth: types.AuthResult_AUTH_RESULT_APPROVED}})},
		{"unknown flow enum", types.CodeInvalidArgument, c.Tx(opA, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: &types.PaymentFlow{ReadType: 4, Cvm: 1, Auth: 1}})},
	}
	covered := map[types.Code]bool{}
	var txs [][]byte
	for _, tc := range cases {
		txs = append(txs, tc.tx)
		covered[tc.code] = true
		// CheckTx sees committed state; every case is decidable there.
		if r := c.App.CheckTx(tc.tx); r.Code != tc.code {
			t.Errorf("CheckTx %s: got %d (%s) %q, want %s", tc.name, r.Code, r.Code.Name(), r.Log, tc.code.Name())
		}
	}
	res := c.Block(1, txs...)
	for i, tc := range cases {
		if res[i].Code != tc.code {
			t.Errorf("%s: got code %d (%s) %q, want %s", tc.name, res[i].Code, res[i].Code.Name(), res[i].Log, tc.code.Name())
		}
		if res[i].Log == "" {
			t.Errorf("%s: empty log", tc.name)
		}
	}
	covered[types.CodeRecordPruned] = prunedRefundRefused(t)
	for _, code := range types.AllCodes() {
		if code != types.CodeOK && code != types.CodeInternal && code.FromChain() && !covered[code] {
			t.Errorf("no test input for code %d (%s)", code, code.Name())
		}
	}
	// Nothing above changed the customer's balance.
	v := c.DB.View()
	defer v.Discard()
	if got := c.App.Query("/balance/cust", false); got.Code != 0 {
		t.Fatal(got.Log)
	}
}

func TestCodesAreStable(t *testing.T) {
	// Released numbers never change (SPEC §4).
	want := map[string]uint32{"decode": 2, "bad_signature": 3, "unknown_signer": 4, "unauthorized": 5, "duplicate": 6,
		"expired": 7, "insufficient_points": 8, "invalid_amount": 9, "overflow": 10, "not_found": 11, "cvm_required": 12,
		"wrong_chain": 13, "invalid_argument": 14, "idempotency_conflict": 15,
		"rate_limited": 16, "not_committed": 17, "verification_failed": 18, "record_pruned": 19}
	for _, c := range types.AllCodes() {
		if n, ok := want[c.Name()]; ok && uint32(c) != n {
			t.Errorf("%s is %d, released as %d", c.Name(), c, n)
		}
		delete(want, c.Name())
	}
	if len(want) != 0 {
		t.Errorf("codes missing: %v", want)
	}
}

func TestRetryNeverIssuesTwice(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	body := c.Body(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})
	first := Sign(body, op)
	// The POS retries with the same key after a timeout, re-signed with a
	// later validity (different bytes, different tx hash), twice in one
	// block and again later.
	body.ValidUntilHeight++
	retry := Sign(body, op)
	res := c.Block(1, first, retry, first)
	if res[0].Code != 0 || res[1].Code != types.CodeDuplicate || res[2].Code != types.CodeDuplicate {
		t.Fatalf("codes %d %d %d", res[0].Code, res[1].Code, res[2].Code)
	}
	if res[1].Info == "" {
		t.Fatal("duplicate does not name the original tx")
	}
	res = c.Block(1, retry)
	if res[0].Code != types.CodeDuplicate {
		t.Fatalf("later retry: %d", res[0].Code)
	}
	q := c.App.Query("/balance/cust", false)
	var b types.BalanceResponse
	if err := b.Unmarshal(q.Value); err != nil || b.Points != 100 {
		t.Fatalf("balance %d %v", b.Points, err)
	}
}
