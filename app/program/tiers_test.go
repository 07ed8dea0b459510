package program_test

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/program/tiers"
	"github.com/bytepoints/bytepoints/types"
)

func setTiers(t *testing.T, c *apptest.Chain, table *types.TierTable) *types.VoteResult {
	t.Helper()
	id := apptest.MustOK(t, c.Do(opA, &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: table}})).GetPropose().ProposalId
	apptest.MustOK(t, c.Do(opB, &types.MsgVote{ProposalId: id, Yes: true}))
	return apptest.MustOK(t, c.Do(apptest.Operator("seller-c"), &types.MsgVote{ProposalId: id, Yes: true})).GetVote()
}

func twoTiers() *types.TierTable {
	return &types.TierTable{Tiers: []*types.Tier{{Name: "silver", ThresholdPaise: 500_000}, {Name: "gold", ThresholdPaise: 2_000_000}}}
}

func TestSetTiersRefusals(t *testing.T) {
	c := chain(t)
	tier := func(n string, p uint64) *types.Tier { return &types.Tier{Name: n, ThresholdPaise: p} }
	cases := []struct {
		name  string
		table *types.TierTable
		code  types.Code
	}{
		{"no table", nil, types.CodeInvalidArgument},
		{"too many", &types.TierTable{Tiers: []*types.Tier{tier("a", 1), tier("b", 2), tier("c", 3), tier("d", 4), tier("e", 5), tier("f", 6)}}, types.CodeInvalidArgument},
		{"bad name", &types.TierTable{Tiers: []*types.Tier{tier("Gold", 1)}}, types.CodeInvalidArgument},
		{"name twice", &types.TierTable{Tiers: []*types.Tier{tier("gold", 1), tier("gold", 2)}}, types.CodeInvalidArgument},
		{"zero threshold", &types.TierTable{Tiers: []*types.Tier{tier("gold", 0)}}, types.CodeInvalidAmount},
		{"not ascending", &types.TierTable{Tiers: []*types.Tier{tier("gold", 5), tier("platinum", 5)}}, types.CodeInvalidAmount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, c.Do(opA, &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: tc.table}}), tc.code)
		})
	}
	if !setTiers(t, c, twoTiers()).Executed {
		t.Fatal("two tiers did not pass")
	}
}

func tierOf(t *testing.T, c *apptest.Chain, cust string) *types.TierStatus {
	t.Helper()
	var b types.BalanceResponse
	if err := b.Unmarshal(c.App.Query("/balance/"+cust, false).Value); err != nil {
		t.Fatal(err)
	}
	return b.Tier
}

// TestTiers: a customer climbs by spend at any seller, a refund takes the
// spend back, spend older than the 12 buckets stops counting, and a gold
// campaign pays gold customers (and above) only, funded by its seller.
func TestTiers(t *testing.T) {
	c := chain(t) // alice spent ₹1,000 at seller-b
	setTiers(t, c, twoTiers())
	if s := tierOf(t, c, "alice"); s.Tier != "" || s.SpendPaise != 100_000 || s.NextTier != "silver" || s.NextTierNeedsPaise != 400_000 {
		t.Fatalf("alice %+v", s)
	}
	apptest.MustOK(t, c.Do(opA, &types.MsgCreateCampaign{Name: "gold bonus", BonusPoints: 500, Tier: "gold", BudgetPoints: 10_000}))
	wantCode(t, c.Do(opA, &types.MsgCreateCampaign{Name: "bronze", BonusPoints: 1, Tier: "bronze", BudgetPoints: 10}), types.CodeInvalidArgument)
	// ₹19,000 at seller-c: alice reaches ₹20,000, gold from the next
	// purchase on (a purchase qualifies by the tier before it).
	buy := purchase(t, c.Do(apptest.Operator("seller-c"), &types.MsgPurchase{CustomerId: "alice", AmountPaise: 1_900_000, Flow: apptest.Flow()}))
	if s := tierOf(t, c, "alice"); s.Tier != "gold" || s.SpendPaise != 2_000_000 || s.NextTier != "" {
		t.Fatalf("after ₹20,000: %+v", s)
	}
	// Gold at seller-a: the bonus, charged to seller-a.
	before := positionOf(t, c, "seller-a")
	p := purchase(t, c.Do(opA, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10_000, Flow: apptest.Flow()}))
	if p.BonusPoints != 500 || p.Campaign != "gold bonus" || before-positionOf(t, c, "seller-a") != 100*600 {
		t.Fatalf("gold purchase %+v", p)
	}
	// bob is no one: no bonus.
	if p := purchase(t, c.Do(opA, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 10_000, Flow: apptest.Flow()})); p.BonusPoints != 0 {
		t.Fatalf("bob %+v", p)
	}
	// A refund of ₹2,000 of the big purchase: back to silver (₹18,100 counted).
	apptest.MustOK(t, c.Do(apptest.Operator("seller-c"), &types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 200_000}))
	if s := tierOf(t, c, "alice"); s.Tier != "silver" || s.SpendPaise != 1_810_000 || s.NextTierNeedsPaise != 190_000 {
		t.Fatalf("after the refund %+v", s)
	}
	if p := purchase(t, c.Do(opA, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10_000, Flow: apptest.Flow()})); p.BonusPoints != 0 {
		t.Fatalf("silver got the gold bonus %+v", p)
	}
	// A year later none of it counts.
	c.Block(tiers.BucketSeconds * tiers.Buckets)
	if s := tierOf(t, c, "alice"); s.Tier != "" || s.SpendPaise != 0 {
		t.Fatalf("a year on %+v", s)
	}
	// A platinum tier above gold: gold campaigns admit it.
	setTiers(t, c, &types.TierTable{Tiers: []*types.Tier{{Name: "gold", ThresholdPaise: 100}, {Name: "platinum", ThresholdPaise: 200}}})
	purchase(t, c.Do(opB, &types.MsgPurchase{CustomerId: "erin", AmountPaise: 300, Flow: apptest.Flow()}))
	if p := purchase(t, c.Do(opA, &types.MsgPurchase{CustomerId: "erin", AmountPaise: 100, Flow: apptest.Flow()})); p.BonusPoints != 500 {
		t.Fatalf("platinum %+v (tier %+v)", p, tierOf(t, c, "erin"))
	}
}
