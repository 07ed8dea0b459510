package program_test

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/types"
)

func balanceOf(t *testing.T, c *apptest.Chain, cust string) *types.BalanceResponse {
	t.Helper()
	var b types.BalanceResponse
	if err := b.Unmarshal(c.App.Query("/balance/"+cust, false).Value); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestReferralOfferBounds(t *testing.T) {
	c := chain(t)
	wantCode(t, c.Do(opA, &types.MsgSetReferralOffer{ReferrerPoints: 1001}), types.CodeInvalidAmount, "1000 points (₹1000.00)")
	wantCode(t, c.Do(opA, &types.MsgSetReferralOffer{RefereePoints: 1001}), types.CodeInvalidAmount)
	wantCode(t, c.Do(opA, &types.MsgSetReferralOffer{RefereePoints: 1, MinAmountPaise: 100_000_001}), types.CodeInvalidAmount)
	wantCode(t, c.Do("seller-a/till-1", &types.MsgSetReferralOffer{RefereePoints: 1}), types.CodeUnauthorized)
	wantCode(t, c.Do(opA, &types.MsgSetReferralOffer{ReferrerPoints: 1000, RefereePoints: 1000}), types.CodeOK)
}

// TestReferral: alice (who bought at seller-b) refers frank at his first
// purchase at seller-a, whose offer pays both bonuses; every refusal; a
// refund of the qualifying purchase claws both back.
func TestReferral(t *testing.T) {
	c := chain(t)
	code := program.Code("alice")
	if len(code) != program.CodeLen || code == "alice" {
		t.Fatalf("code %q", code)
	}
	buy := func(signer, cust string, paise uint64, code string) (*types.PurchaseResult, types.Code, string) {
		r := c.Do(signer, &types.MsgPurchase{CustomerId: cust, AmountPaise: paise, Flow: apptest.Flow(), ReferralCode: code})
		if r.Code != 0 {
			return nil, r.Code, r.Log
		}
		return purchase(t, r), 0, ""
	}
	refuse := func(name, signer, cust string, paise uint64, code string, want types.Code) {
		t.Helper()
		if _, got, log := buy(signer, cust, paise, code); got != want {
			t.Fatalf("%s: code %d (%s), want %s", name, got, log, want.Name())
		}
	}
	refuse("no offer at seller-a yet", opA, "frank", 10_000, code, types.CodeInvalidArgument)
	apptest.MustOK(t, c.Do(opA, &types.MsgSetReferralOffer{ReferrerPoints: 200, RefereePoints: 100, MinAmountPaise: 5_000}))
	refuse("a code of no one", opA, "frank", 10_000, program.Code("nobody"), types.CodeNotFound)
	refuse("a malformed code", opA, "frank", 10_000, "abc", types.CodeInvalidArgument)
	refuse("below the minimum", opA, "frank", 4_999, code, types.CodeInvalidAmount)
	refuse("self-referral", opA, "alice", 10_000, code, types.CodeInvalidArgument)
	refuse("alice has bought before", opA, "alice", 10_000, program.Code("bob-never"), types.CodeNotFound)
	posA := positionOf(t, c, "seller-a")
	p, got, log := buy(opA, "frank", 10_000, code)
	if got != 0 {
		t.Fatalf("referral: %d %s", got, log)
	}
	if p.BasePoints != 100 || p.RefereePoints != 100 || p.ReferrerPoints != 200 || p.PointsIssued != 200 || p.SellerPaymentPaise != 40_000 {
		t.Fatalf("%+v", p)
	}
	if posA-positionOf(t, c, "seller-a") != 40_000 {
		t.Fatal("seller-a was not charged both bonuses")
	}
	if b := balanceOf(t, c, "alice"); b.Points != 1000+200 {
		t.Fatalf("alice %d", b.Points)
	}
	// Once and forever: no second referrer, no referral after a first purchase.
	apptest.MustOK(t, c.Do(opB, &types.MsgPurchase{CustomerId: "gina", AmountPaise: 100, Flow: apptest.Flow()}))
	refuse("frank is referred already", opA, "frank", 10_000, program.Code("gina"), types.CodeInvalidArgument)
	refuse("gina has bought before", opA, "gina", 10_000, code, types.CodeInvalidArgument)
	// frank's code works for others (his purchase registered it).
	if p, got, _ := buy(opA, "hari", 10_000, p.ReferralCode); got != 0 || p.ReferrerPoints != 200 {
		t.Fatalf("frank's code: %d %+v", got, p)
	}
	// Half of frank's purchase refunded: 50 + 50 of his points and 100 of
	// alice's come back (frank also holds 200 for referring hari). Then alice spends hers at seller-b, and the rest
	// of the refund finds nothing of alice's left from seller-a: shortfall.
	posA = positionOf(t, c, "seller-a")
	r := apptest.MustOK(t, c.Do(opA, &types.MsgRefund{PurchaseId: p.PurchaseId, AmountPaise: 5_000})).GetRefund()
	if r.PointsClawedBack != 200 || r.ReferrerClawedBack != 100 || r.PointsShortfall != 0 || r.Balance != 300 {
		t.Fatalf("half refund %+v", r)
	}
	apptest.MustOK(t, c.Do(opB, &types.MsgRedeem{CustomerId: "alice", Points: 1100, BillPaise: 200_000, Flow: apptest.Flow()}))
	r = apptest.MustOK(t, c.Do(opA, &types.MsgRefund{PurchaseId: p.PurchaseId})).GetRefund()
	if r.PointsClawedBack != 100 || r.ReferrerClawedBack != 0 || r.ReferrerShortfall != 100 || r.PointsShortfall != 100 || r.Balance != 200 {
		t.Fatalf("the rest %+v", r)
	}
	// seller-a got back 300 of the 400 points it paid for: alice spent 100.
	if got := positionOf(t, c, "seller-a") - posA; got != 30_000 {
		t.Fatalf("seller-a credited %d", got)
	}
	if b := balanceOf(t, c, "frank"); b.Points != 200 { // what he earned referring hari
		t.Fatalf("frank %+v", b)
	}
}
