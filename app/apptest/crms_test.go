package apptest

import (
	"fmt"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/types"
)

func decision(t *testing.T, c *Chain, cust string, paise uint64, seller string) *types.DecisionResponse {
	t.Helper()
	q := c.App.Query(fmt.Sprintf("/crms/%s/%d/%s/0", cust, paise, seller), false)
	if q.Code != 0 {
		t.Fatalf("crms query: %s", q.Log)
	}
	var d types.DecisionResponse
	if err := d.Unmarshal(q.Value); err != nil {
		t.Fatal(err)
	}
	return &d
}

func sellerEpoch(t *testing.T, c *Chain, s string) *types.SellerEpoch {
	q := c.App.Query("/seller/"+s, false)
	var r types.SellerResponse
	if err := r.Unmarshal(q.Value); err != nil {
		t.Fatal(err)
	}
	return r.OpenEpoch
}

const week = 7 * 86400

// regular builds a card with n PIN payments a week apart at seller-a.
func regular(t *testing.T, c *Chain, cust string, n int) {
	for i := 0; i < n; i++ {
		c.Block(week-5, c.Tx(Operator("seller-a"), &types.MsgPurchase{CustomerId: cust, AmountPaise: 100000, Flow: Flow()}))
		MustOK(t, c.Results[0])
	}
}

func TestCRMSInConsensus(t *testing.T) {
	p := app.DefaultParams()
	p.LotValiditySeconds = 10 * 365 * 86400
	// The record retention is at least the lot validity.
	p.RecordRetentionSeconds = p.LotValiditySeconds
	p.Crms.DefaultRiskMaxNano = 20_000_000 // 0.020: skip limit Rs 200 at R = 1
	c := New(t, []string{"seller-a", "seller-b"}, p)
	a, b := Operator("seller-a"), Operator("seller-b")
	c.Block(5)

	// A new card always needs verification.
	d := decision(t, c, "newcard", 100, "seller-a")
	if !d.CvmRequired || d.Reason != "new_card" || d.ReputationNano != 0 {
		t.Fatalf("new card: %+v", d)
	}
	// Its claimed CRMS skip is a violation, but the points are issued.
	r := MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "newcard", AmountPaise: 5000,
		Flow: &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_NO_CVM_CRMS, Auth: types.AuthResult_AUTH_RESULT_APPROVED}})).GetPurchase()
	if !r.CrmsViolation || r.PointsIssued != 50 {
		t.Fatalf("violation not recorded: %+v", r)
	}
	if e := sellerEpoch(t, c, "seller-a"); e.CrmsViolations != 1 || e.RiskUsedNano != p.Crms.EpochRiskBudgetNano {
		t.Fatalf("seller epoch after violation: %+v", e)
	}

	// A regular PIN customer earns a reputation; the offline engine agrees.
	regular(t, c, "regular", 20)
	d = decision(t, c, "regular", 5000, "seller-b")
	eng, _ := crms.NewEngine(risk.EngineParams(p.Crms))
	var hist []crms.Flow
	for i := 0; i < 20; i++ {
		hist = append(hist, crms.Flow{TimeMs: (GenesisTime + 5 + int64(i+1)*(week-5)) * 1000, RatingNano: crms.DefaultRatings().Rating(6, 1, 1)})
	}
	// The first purchase block came after the violation block (dt 5).
	for i := range hist {
		hist[i].TimeMs += 5 * 1000
	}
	want := eng.Evaluate(hist, c.Time*1000, 5000, p.Crms.DefaultRiskMaxNano, 0, 0)
	if d.ReputationNano != want.R || d.CvmRequired != want.CVMRequired || d.SkipLimitPaise != want.SkipLimitPaise {
		t.Fatalf("on-chain decision %+v differs from the engine's %+v", d, want)
	}
	if d.CvmRequired || d.ReputationNano <= 0 || d.SkipLimitPaise < 5000 {
		t.Fatalf("regular customer cannot skip Rs 50: %+v", d)
	}
	// Redemption authorised by the CRMS alone, its risk charged to B.
	red := MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "regular", Points: 50, BillPaise: 6000})).GetRedeem()
	if red.AuthorisedBy != "crms" {
		t.Fatalf("authorised by %q", red.AuthorisedBy)
	}
	if e := sellerEpoch(t, c, "seller-b"); e.CrmsSkips != 1 || e.RiskUsedNano <= 0 {
		t.Fatalf("seller-b epoch: %+v", e)
	}
	// Above the skip limit, verification is required...
	big := d.SkipLimitPaise/100 + 1
	res := c.Do(b, &types.MsgRedeem{CustomerId: "regular", Points: big, BillPaise: big * 100})
	if res.Code != types.CodeCVMRequired {
		t.Fatalf("above the limit: %d %s", res.Code, res.Log)
	}
	// ...unless the customer's wallet signs; binding it needs a PIN flow.
	if r := c.Do(b, &types.MsgBindWallet{CustomerId: "regular", WalletPubkey: Pub("wallet"),
		Flow: &types.PaymentFlow{ReadType: 6, Cvm: types.CVM_CVM_SIGNATURE, Auth: 1}}); r.Code != types.CodeCVMRequired {
		t.Fatalf("bind without PIN: %d", r.Code)
	}
	MustOK(t, c.Do(b, &types.MsgBindWallet{CustomerId: "regular", WalletPubkey: Pub("wallet"), Flow: Flow()}))
	body := c.Body(b, &types.MsgRedeem{CustomerId: "regular", Points: big, BillPaise: big * 100})
	bz, _ := body.Marshal()
	tx := &types.Tx{Body: bz, Signature: sign(b, bz), WalletSignature: sign("wallet", bz)}
	txb, _ := tx.Marshal()
	if got := MustOK(t, c.Block(5, txb)[0]).GetRedeem(); got.AuthorisedBy != "wallet" {
		t.Fatalf("authorised by %q", got.AuthorisedBy)
	}
	tx.WalletSignature = sign("someone-else", bz)
	body.IdempotencyKey += "-2"
	bz, _ = body.Marshal()
	tx = &types.Tx{Body: bz, Signature: sign(b, bz), WalletSignature: sign("someone-else", bz)}
	txb, _ = tx.Marshal()
	if r := c.Block(5, txb)[0]; r.Code != types.CodeBadSignature {
		t.Fatalf("forged wallet signature: %d", r.Code)
	}
}

func TestLatePaymentsAndTimeBounds(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	a := Operator("seller-a")
	c.Block(10 * 86400)
	now := c.Time * 1000
	MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "k", AmountPaise: 100, Flow: Flow()}))
	// An offline terminal's payment from 3 days ago lands before it.
	MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "k", AmountPaise: 100, Flow: Flow(), PaymentTimeMs: now - 3*86400*1000}))
	v := c.DB.View()
	defer v.Discard()
	h, w := risk.Window(v, "k")
	if len(w) != 2 || w[0].TimeMs >= w[1].TimeMs || h.Payments != 2 {
		t.Fatalf("history not ordered by time: %+v (%d payments)", w, h.Payments)
	}
	for _, ms := range []int64{now - 8*86400*1000, now + 10*60*1000} {
		if r := c.Do(a, &types.MsgPurchase{CustomerId: "k", AmountPaise: 100, Flow: Flow(), PaymentTimeMs: ms}); r.Code != types.CodeInvalidArgument {
			t.Fatalf("payment time %d accepted: %d", ms, r.Code)
		}
	}
}

func TestRiskBudgetCapsSkips(t *testing.T) {
	p := app.DefaultParams()
	p.Crms.DefaultRiskMaxNano = 20_000_000
	c := New(t, []string{"seller-a"}, p)
	regular(t, c, "r", 20)
	d := decision(t, c, "r", 10000, "seller-a")
	if d.CvmRequired {
		t.Fatalf("%+v", d)
	}
	// Shrink the budget by governance to just above one skip's risk.
	p2 := *p
	cp := *p.Crms
	cp.EpochRiskBudgetNano = d.RiskNano + d.RiskNano/2
	p2.Crms = &cp
	MustOK(t, c.Do(Operator("seller-a"), &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: &p2}}))
	MustOK(t, c.Do(Operator("seller-a"), &types.MsgRedeem{CustomerId: "r", Points: 100, BillPaise: 10000}))
	if d2 := decision(t, c, "r", 10000, "seller-a"); !d2.CvmRequired || d2.Reason != "budget_exhausted" {
		t.Fatalf("after the budget is spent: %+v", d2)
	}
	if r := c.Do(Operator("seller-a"), &types.MsgRedeem{CustomerId: "r", Points: 100, BillPaise: 10000}); r.Code != types.CodeCVMRequired {
		t.Fatalf("second skip: %d %s", r.Code, r.Log)
	}
}

func TestDeclinedPurchaseEarnsNothing(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	declined := &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: types.AuthResult_AUTH_RESULT_DECLINED}
	p := MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "d", AmountPaise: 10000, Flow: declined})).GetPurchase()
	if p.PointsIssued != 0 || p.SellerPaymentPaise != 0 {
		t.Fatalf("declined purchase earned: %+v", p)
	}
	if d := decision(t, c, "d", 100, "seller-a"); d.Payments != 1 || d.ReputationNano != 0 {
		t.Fatalf("declined flow not in the card history: %+v", d)
	}
	if r := c.Do(Operator("seller-a"), &types.MsgRefund{PurchaseId: p.PurchaseId}); r.Code != types.CodeNotFound {
		t.Fatalf("refund of a declined payment: %d", r.Code)
	}
}
