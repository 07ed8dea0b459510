package program_test

import (
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/types"
)

func TestCreateCampaignRefusals(t *testing.T) {
	c := chain(t)
	ok := func() *types.MsgCreateCampaign {
		return &types.MsgCreateCampaign{Name: "double", MultiplierBps: 20000, BudgetPoints: 1000}
	}
	with := func(f func(m *types.MsgCreateCampaign)) *types.MsgCreateCampaign { m := ok(); f(m); return m }
	cases := []struct {
		name   string
		signer string
		m      *types.MsgCreateCampaign
		code   types.Code
	}{
		{"no name", opA, with(func(m *types.MsgCreateCampaign) { m.Name = "" }), types.CodeInvalidArgument},
		{"name too long", opA, with(func(m *types.MsgCreateCampaign) { m.Name = string(make([]byte, 65)) }), types.CodeInvalidArgument},
		{"neither multiplier nor bonus", opA, with(func(m *types.MsgCreateCampaign) { m.MultiplierBps = 0 }), types.CodeInvalidArgument},
		{"both", opA, with(func(m *types.MsgCreateCampaign) { m.BonusPoints = 5 }), types.CodeInvalidArgument},
		{"multiplier of one", opA, with(func(m *types.MsgCreateCampaign) { m.MultiplierBps = 10000 }), types.CodeInvalidAmount},
		{"multiplier above the bound", opA, with(func(m *types.MsgCreateCampaign) { m.MultiplierBps = 100_001 }), types.CodeInvalidAmount},
		{"bonus above the bound", opA, with(func(m *types.MsgCreateCampaign) { m.MultiplierBps, m.BonusPoints = 0, 10_001 }), types.CodeInvalidAmount},
		{"no budget", opA, with(func(m *types.MsgCreateCampaign) { m.BudgetPoints = 0 }), types.CodeInvalidAmount},
		{"budget above the bound", opA, with(func(m *types.MsgCreateCampaign) { m.BudgetPoints = 100_000_001 }), types.CodeInvalidAmount},
		{"minimum above the largest purchase", opA, with(func(m *types.MsgCreateCampaign) { m.MinAmountPaise = 100_000_001 }), types.CodeInvalidAmount},
		{"window ending before it starts", opA, with(func(m *types.MsgCreateCampaign) { m.From, m.To = c.Time+100, c.Time+50 }), types.CodeInvalidArgument},
		{"unknown terminal", opA, with(func(m *types.MsgCreateCampaign) { m.Terminals = []string{"till-9"} }), types.CodeNotFound},
		{"terminal twice", opA, with(func(m *types.MsgCreateCampaign) { m.Terminals = []string{"till-1", "till-1"} }), types.CodeInvalidArgument},
		{"a tier before tiers exist", opA, with(func(m *types.MsgCreateCampaign) { m.Tier = "gold" }), types.CodeInvalidArgument},
		{"a terminal may not", "seller-a/till-1", ok(), types.CodeUnauthorized},
		{"for another seller", opB, with(func(m *types.MsgCreateCampaign) { m.SellerId = "seller-a" }), types.CodeUnauthorized},
		{"valid", opA, ok(), types.CodeOK},
		{"same name while active", opA, ok(), types.CodeInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, c.Do(tc.signer, tc.m), tc.code) })
	}
	wantCode(t, c.Do(opA, &types.MsgEndCampaign{CampaignId: 9}), types.CodeNotFound)
	wantCode(t, c.Do(opB, &types.MsgEndCampaign{CampaignId: 1}), types.CodeNotFound) // seller-b has none
	r := apptest.MustOK(t, c.Do(opA, &types.MsgEndCampaign{CampaignId: 1})).GetCampaign()
	if r.Status != types.CampaignStatus_CAMPAIGN_STATUS_ENDED || r.Name != "double" {
		t.Fatalf("%+v", r)
	}
	wantCode(t, c.Do(opA, &types.MsgEndCampaign{CampaignId: 1}), types.CodeInvalidArgument)
	apptest.MustOK(t, c.Do(opA, ok())) // the name is free again
}

func TestActiveCampaignLimit(t *testing.T) {
	p := app.DefaultParams()
	p.MaxActiveCampaigns = 2
	c := apptest.New(t, []string{"seller-a"}, p)
	a := apptest.Operator("seller-a")
	apptest.MustOK(t, c.Do(a, &types.MsgCreateCampaign{Name: "one", BonusPoints: 1, BudgetPoints: 10, To: c.Time + 100}))
	apptest.MustOK(t, c.Do(a, &types.MsgCreateCampaign{Name: "two", BonusPoints: 1, BudgetPoints: 10}))
	wantCode(t, c.Do(a, &types.MsgCreateCampaign{Name: "three", BonusPoints: 1, BudgetPoints: 10}), types.CodeInvalidArgument, "2 active campaigns")
	c.Block(100) // "one"'s window closes: it stops counting
	r := apptest.MustOK(t, c.Do(a, &types.MsgCreateCampaign{Name: "three", BonusPoints: 1, BudgetPoints: 10})).GetCampaign()
	if r.CampaignId != 3 {
		t.Fatalf("%+v", r)
	}
	var cr types.CampaignsResponse
	if err := cr.Unmarshal(c.App.Query("/campaigns/seller-a", false).Value); err != nil {
		t.Fatal(err)
	}
	if len(cr.Campaigns) != 2 || cr.Campaigns[0].Name != "two" || cr.Campaigns[1].Name != "three" {
		t.Fatalf("%+v", cr.Campaigns)
	}
}

func purchase(t *testing.T, r app.TxResult) *types.PurchaseResult {
	t.Helper()
	return apptest.MustOK(t, r).GetPurchase()
}

// TestCampaignBonus: who qualifies, what the bonus is, who pays for it.
func TestCampaignBonus(t *testing.T) {
	c := chain(t)
	apptest.MustOK(t, c.Do(opA, &types.MsgCreateCampaign{Name: "double at till-1", MultiplierBps: 20000,
		MinAmountPaise: 50_000, Terminals: []string{"till-1"}, BudgetPoints: 10_000, To: c.Time + 1000}))
	apptest.MustOK(t, c.Do(opA, &types.MsgCreateCampaign{Name: "fifty extra", BonusPoints: 50, BudgetPoints: 10_000, From: c.Time + 100}))
	cases := []struct {
		name              string
		signer            string
		paise             uint64
		wait              int64
		base, bonus       uint64
		campaign, noneWhy string
	}{
		{"qualifies for the double", "seller-a/till-1", 60_000, 0, 600, 600, "double at till-1", ""},
		{"below the minimum", "seller-a/till-1", 49_999, 0, 499, 0, "", ""},
		{"another till", "seller-a/till-2", 60_000, 0, 600, 0, "", ""},
		{"the operator's own sale", opA, 60_000, 0, 600, 0, "", ""},
		{"the fixed bonus once it starts", "seller-a/till-2", 100, 100, 1, 50, "fifty extra", ""},
		{"the larger of the two", "seller-a/till-1", 60_000, 0, 600, 600, "double at till-1", ""},
		{"the double is over; the fixed one applies", "seller-a/till-1", 60_000, 1000, 600, 50, "fifty extra", ""},
		{"another seller's sale earns no bonus", opB, 60_000, 0, 600, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := positionOf(t, c, "seller-a")
			r := c.Block(5+tc.wait, c.Tx(tc.signer, &types.MsgPurchase{CustomerId: "bob", AmountPaise: tc.paise, Flow: apptest.Flow()}))
			p := purchase(t, r[0])
			if p.BasePoints != tc.base || p.BonusPoints != tc.bonus || p.PointsIssued != tc.base+tc.bonus || p.Campaign != tc.campaign {
				t.Fatalf("%+v", p)
			}
			if tc.signer == opB {
				return
			}
			if got := before - positionOf(t, c, "seller-a"); got != int64(100*(tc.base+tc.bonus)) {
				t.Fatalf("seller-a charged %d paise for %d points", got, tc.base+tc.bonus)
			}
		})
	}
}

func positionOf(t *testing.T, c *apptest.Chain, seller string) int64 {
	t.Helper()
	var s types.SellerResponse
	if err := s.Unmarshal(c.App.Query("/seller/"+seller, false).Value); err != nil {
		t.Fatal(err)
	}
	return s.Seller.PositionPaise
}

// TestBudgetRunsOutMidBlock: a block of purchases against a 250-point
// budget gives 100, 100, then exactly the 50 left, then nothing with the
// reason, all in one block.
func TestBudgetRunsOutMidBlock(t *testing.T) {
	c := chain(t)
	apptest.MustOK(t, c.Do(opA, &types.MsgCreateCampaign{Name: "double", MultiplierBps: 20000, BudgetPoints: 250}))
	var txs [][]byte
	for i := 0; i < 4; i++ {
		txs = append(txs, c.Tx(opA, &types.MsgPurchase{CustomerId: "carol", AmountPaise: 10_000, Flow: apptest.Flow()}))
	}
	res := c.Block(5, txs...)
	want := []uint64{100, 100, 50, 0}
	for i, r := range res {
		p := purchase(t, r)
		if p.BasePoints != 100 || p.BonusPoints != want[i] {
			t.Fatalf("purchase %d: %+v", i, p)
		}
		switch i {
		case 2:
			if p.NoBonusReason != `campaign "double" had 50 points of its budget left, not the 100 points offered` {
				t.Fatalf("reason %q", p.NoBonusReason)
			}
		case 3:
			if p.Campaign != "" || p.NoBonusReason != `campaign "double"'s budget of 250 points is spent` {
				t.Fatalf("no-bonus %+v", p)
			}
		}
	}
	var cr types.CampaignsResponse
	if err := cr.Unmarshal(c.App.Query("/campaigns/seller-a", false).Value); err != nil {
		t.Fatal(err)
	}
	if x := cr.Campaigns[0]; x.SpentPoints != 250 || x.Purchases != 3 {
		t.Fatalf("%+v", x)
	}
	// 400 base + 250 bonus points, all paid by seller-a.
	if got := positionOf(t, c, "seller-a"); got != -65_000 {
		t.Fatalf("seller-a position %d", got)
	}
}

// TestRefundReversesBonus: a refund takes the bonus back in proportion.
func TestRefundReversesBonus(t *testing.T) {
	c := chain(t)
	apptest.MustOK(t, c.Do(opA, &types.MsgCreateCampaign{Name: "triple", MultiplierBps: 30000, BudgetPoints: 10_000}))
	p := purchase(t, c.Do(opA, &types.MsgPurchase{CustomerId: "dave", AmountPaise: 10_000, Flow: apptest.Flow()}))
	if p.BasePoints != 100 || p.BonusPoints != 200 {
		t.Fatalf("%+v", p)
	}
	r := apptest.MustOK(t, c.Do(opA, &types.MsgRefund{PurchaseId: p.PurchaseId, AmountPaise: 2_500})).GetRefund()
	if r.PointsClawedBack != 25+50 || r.Balance != 225 {
		t.Fatalf("quarter refund %+v", r)
	}
	r = apptest.MustOK(t, c.Do(opA, &types.MsgRefund{PurchaseId: p.PurchaseId})).GetRefund()
	if r.PointsClawedBack != 225 || r.Balance != 0 || r.PointsShortfall != 0 {
		t.Fatalf("the rest %+v", r)
	}
	if got := positionOf(t, c, "seller-a"); got != 0 {
		t.Fatalf("seller-a position %d after a full refund", got)
	}
}

// TestBonusCutByEpochCap: the bonus is issuance: it fits in what is left
// of the seller's epoch cap, and the result says it was cut.
func TestBonusCutByEpochCap(t *testing.T) {
	p := app.DefaultParams()
	p.MaxEpochIssuePoints = 250
	c := apptest.New(t, []string{"seller-a"}, p)
	a := apptest.Operator("seller-a")
	apptest.MustOK(t, c.Do(a, &types.MsgCreateCampaign{Name: "double", MultiplierBps: 20000, BudgetPoints: 1000}))
	r := purchase(t, c.Do(a, &types.MsgPurchase{CustomerId: "c1", AmountPaise: 20_000, Flow: apptest.Flow()}))
	if r.BasePoints != 200 || r.BonusPoints != 50 || r.NoBonusReason == "" {
		t.Fatalf("%+v", r)
	}
	var cr types.CampaignsResponse
	if err := cr.Unmarshal(c.App.Query("/campaigns/seller-a", false).Value); err != nil {
		t.Fatal(err)
	}
	if cr.Campaigns[0].SpentPoints != 50 {
		t.Fatalf("budget charged %d, not the 50 issued", cr.Campaigns[0].SpentPoints)
	}
}
