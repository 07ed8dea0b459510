package program_test

import (
	"strconv"
	"testing"

	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/types"
)

// TestScriptedMonth is issue 18's month at the app level (real store,
// real blocks, invariants after every block): a coalition with two tiers,
// a gold campaign at seller-a with a 7-day return window, a referral offer
// at seller-b. alice climbs to gold, earns the campaign bonus, refers bob,
// returns a purchase inside the window and redeems at seller-b. Every
// figure below is computed by hand.
func TestScriptedMonth(t *testing.T) {
	a, b := apptest.Operator("seller-a"), apptest.Operator("seller-b")
	c := apptest.New(t, []string{"seller-a", "seller-b"}, nil)
	// Set up on day 0 before 01:00.
	id := apptest.MustOK(t, c.Do(a, &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: &types.TierTable{Tiers: []*types.Tier{
		{Name: "silver", ThresholdPaise: 50_000}, {Name: "gold", ThresholdPaise: 200_000}}}}})).GetPropose().ProposalId
	if !apptest.MustOK(t, c.Do(b, &types.MsgVote{ProposalId: id, Yes: true})).GetVote().Executed {
		t.Fatal("tiers did not pass")
	}
	apptest.MustOK(t, c.Do(a, &types.MsgSetProgramConfig{ReturnWindowSeconds: 7 * day}))
	apptest.MustOK(t, c.Do(a, &types.MsgCreateCampaign{Name: "gold double", MultiplierBps: 20000, Tier: "gold", BudgetPoints: 10_000}))
	apptest.MustOK(t, c.Do(b, &types.MsgSetReferralOffer{ReferrerPoints: 100, RefereePoints: 50, MinAmountPaise: 500}))

	at := func(d int64, signer string, msg any) *types.TxResultData {
		t.Helper()
		c.Block(apptest.GenesisTime + d*day + 3600 - 5 - c.Time) // c.Do books 5 s later, at 01:00
		return apptest.MustOK(t, c.Do(signer, msg))
	}
	buy := func(cust string, paise uint64) *types.MsgPurchase {
		return &types.MsgPurchase{CustomerId: cust, AmountPaise: paise, Flow: apptest.Flow()}
	}
	// Day 0: ₹1,500 at seller-b: 1,500 points, available; silver.
	at(0, b, buy("alice", 150_000))
	if s := tierOf(t, c, "alice"); s.Tier != "silver" || s.NextTier != "gold" || s.NextTierNeedsPaise != 50_000 {
		t.Fatalf("day 0 tier %+v", s)
	}
	// Day 1: ₹600 at seller-a as silver: 600 points pending, no bonus; now gold.
	p1 := at(1, a, buy("alice", 60_000)).GetPurchase()
	if p1.BasePoints != 600 || p1.BonusPoints != 0 || p1.PendingUntil != apptest.GenesisTime+8*day+3600 {
		t.Fatalf("day 1 %+v", p1)
	}
	if s := tierOf(t, c, "alice"); s.Tier != "gold" || s.SpendPaise != 210_000 {
		t.Fatalf("day 1 tier %+v", s)
	}
	// Day 2: ₹300 at seller-a as gold: 300 + 300 bonus, pending.
	p2 := at(2, a, buy("alice", 30_000)).GetPurchase()
	if p2.BasePoints != 300 || p2.BonusPoints != 300 || p2.Campaign != "gold double" || p2.SellerPaymentPaise != 60_000 {
		t.Fatalf("day 2 %+v", p2)
	}
	// Day 3: bob's first purchase, ₹10 at seller-b with alice's code.
	ref := &types.MsgPurchase{CustomerId: "bob", AmountPaise: 1_000, Flow: apptest.Flow(), ReferralCode: program.Code("alice")}
	p3 := at(3, b, ref).GetPurchase()
	if p3.BasePoints != 10 || p3.RefereePoints != 50 || p3.ReferrerPoints != 100 || p3.PointsIssued != 60 {
		t.Fatalf("day 3 %+v", p3)
	}
	// Day 4: alice returns the day-2 purchase inside the window: all 600
	// come back from its own pending lots, no shortfall; still gold (₹2,100).
	rf := at(4, a, &types.MsgRefund{PurchaseId: p2.PurchaseId}).GetRefund()
	if rf.PointsClawedBack != 600 || rf.PointsShortfall != 0 || rf.SellerCreditPaise != 60_000 {
		t.Fatalf("day 4 %+v", rf)
	}
	if s := tierOf(t, c, "alice"); s.Tier != "gold" || s.SpendPaise != 210_000 {
		t.Fatalf("day 4 tier %+v", s)
	}
	// Day 5: 1,600 available (1,500 + 100 referral), 600 pending.
	bal := balanceOf(t, c, "alice")
	if bal.Points != 2200 || bal.PendingPoints != 600 || bal.AvailablePoints != 1600 {
		t.Fatalf("day 5 balance %d / %d pending / %d available", bal.Points, bal.PendingPoints, bal.AvailablePoints)
	}
	x := at(5, b, &types.MsgRedeem{CustomerId: "alice", Points: 1600, BillPaise: 200_000, Flow: apptest.Flow()}).GetRedeem()
	if x.SameSellerPoints != 1600 || x.CrossSellerPoints != 0 {
		t.Fatalf("day 5 %+v", x)
	}
	wantCode(t, c.Do(b, &types.MsgRedeem{CustomerId: "alice", Points: 1, BillPaise: 100, Flow: apptest.Flow()}), types.CodeInsufficientPoints, "600 points are pending")
	// Day 9: the day-1 points were released at the first block after day 8 01:00.
	x = at(9, b, &types.MsgRedeem{CustomerId: "alice", Points: 600, BillPaise: 100_000, Flow: apptest.Flow()}).GetRedeem()
	if x.CrossSellerPoints != 600 || x.Balance != 0 {
		t.Fatalf("day 9 %+v", x)
	}
	// Positions: seller-a paid 600+600 points' value and got 600 back;
	// seller-b paid 1,500 + 160, was reimbursed 1,600 + 600.
	if pa, pb := positionOf(t, c, "seller-a"), positionOf(t, c, "seller-b"); pa != -60_000 || pb != 54_000 {
		t.Fatalf("positions a=%d b=%d", pa, pb)
	}
	if bb := balanceOf(t, c, "bob"); bb.Points != 60 {
		t.Fatalf("bob %d", bb.Points)
	}
	// Statement columns, day by day.
	c.Block(day)
	line := func(d int64, seller string) *types.SellerEpoch {
		t.Helper()
		var st types.Statement
		epoch := uint64(apptest.GenesisTime/day + d)
		q := c.App.Query("/statement/"+strconv.FormatUint(epoch, 10), false)
		if err := st.Unmarshal(q.Value); err != nil || q.Code != 0 {
			t.Fatalf("statement of day %d: %v %s", d, err, q.Log)
		}
		for _, l := range st.Lines {
			if l.SellerId == seller {
				return l.Activity
			}
		}
		return &types.SellerEpoch{}
	}
	if e := line(2, "seller-a"); e.IssuedPoints != 600 || e.BonusPoints != 300 {
		t.Fatalf("day 2 seller-a %+v", e)
	}
	if e := line(3, "seller-b"); e.IssuedPoints != 160 || e.ReferralPoints != 150 {
		t.Fatalf("day 3 seller-b %+v", e)
	}
	if e := line(4, "seller-a"); e.ClawedBackPoints != 600 || e.RefundShortfallPoints != 0 {
		t.Fatalf("day 4 seller-a %+v", e)
	}
	if e := line(9, "seller-a"); e.ReleasedPoints != 600 {
		t.Fatalf("day 9 seller-a %+v", e)
	}
	if e := line(9, "seller-b"); e.RedeemedCrossPoints != 600 || e.NetPaise != 60_000 {
		t.Fatalf("day 9 seller-b %+v", e)
	}
}
