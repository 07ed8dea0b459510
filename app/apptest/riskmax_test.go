package apptest

import (
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

func sellerResponse(t *testing.T, c *Chain, s string) *types.SellerResponse {
	t.Helper()
	q := c.App.Query("/seller/"+s, false)
	require.Equal(t, types.CodeOK, q.Code, q.Log)
	var r types.SellerResponse
	require.NoError(t, r.Unmarshal(q.Value))
	return &r
}

// A seller that never set its own Risk_max follows the governed default,
// also after governance changes it; one that set its own keeps it. The
// decision and the seller query agree on which applies.
func TestSellersFollowTheGovernedDefaultRiskMax(t *testing.T) {
	sellers := []string{"seller-a", "seller-b", "seller-c", "seller-d"}
	c := New(t, sellers, nil)
	MustOK(t, c.Do(Operator("seller-b"), &types.MsgSetSellerConfig{RiskMaxNano: 10_000_000}))

	a, b := sellerResponse(t, c, "seller-a"), sellerResponse(t, c, "seller-b")
	require.True(t, a.RiskMaxIsDefault)
	require.Equal(t, int64(5_000_000), a.EffectiveRiskMaxNano)
	require.False(t, b.RiskMaxIsDefault)
	require.Equal(t, int64(10_000_000), b.EffectiveRiskMaxNano)
	require.Equal(t, int64(5_000_000), decision(t, c, "card", 1000, "seller-a").RiskMaxNano)

	p := app.DefaultParams()
	p.Crms.DefaultRiskMaxNano = 20_000_000
	res := MustOK(t, c.Do(Operator("seller-a"), &types.MsgPropose{Description: "raise Risk_max",
		Action: &types.MsgPropose_SetParams{SetParams: p}})).GetPropose()
	for _, s := range sellers[1:3] {
		MustOK(t, c.Do(Operator(s), &types.MsgVote{ProposalId: res.ProposalId, Yes: true}))
	}
	require.Equal(t, int64(20_000_000), sellerResponse(t, c, "seller-a").EffectiveRiskMaxNano)
	require.Equal(t, int64(20_000_000), decision(t, c, "card", 1000, "seller-a").RiskMaxNano, "the default's follower decides at the new value")
	require.Equal(t, int64(10_000_000), decision(t, c, "card", 1000, "seller-b").RiskMaxNano, "its own Risk_max is kept")
	got, isDefault, _ := risk.RiskMaxOf(p.Crms, sellerResponse(t, c, "seller-a").Seller)
	require.Equal(t, int64(20_000_000), got)
	require.True(t, isDefault)
}

// The decision query refuses what a redemption refuses: an out-of-range
// context multiplier is invalid_argument, never silently clamped.
func TestDecisionRefusesOutOfRangeContext(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	c.Block(5)
	for _, ctx := range []string{"100", "5000000000", "-1"} {
		q := c.App.Query("/crms/card/1000/seller-a/"+ctx, false)
		require.Equal(t, types.CodeInvalidArgument, q.Code, "context %s: %s", ctx, q.Log)
	}
	require.Equal(t, types.CodeOK, c.App.Query("/crms/card/1000/seller-a/1500000000", false).Code)
	// A redemption with the same context is refused the same way.
	MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "card", AmountPaise: 10000, Flow: Flow()}))
	r := c.Do(Operator("seller-a"), &types.MsgRedeem{CustomerId: "card", Points: 1, BillPaise: 100, ContextNano: 100})
	require.Equal(t, types.CodeInvalidArgument, r.Code, r.Log)
}

// SPEC §6.2 on chain: a card's reputation decays with silence. One PIN
// payment seven days old no longer lets a Rs 4 payment skip the PIN, and a
// steady card that goes quiet for a year keeps (almost) nothing.
func TestReputationOnChainDecaysWithSilence(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "once", AmountPaise: 10000, Flow: Flow()}))
	c.Block(7 * 86400)
	d := decision(t, c, "once", 400, "seller-a")
	require.True(t, d.CvmRequired, "%+v", d)

	for i := 0; i < 20; i++ {
		MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "steady", AmountPaise: 10000, Flow: Flow()}))
		c.Block(86400)
	}
	before := decision(t, c, "steady", 400, "seller-a").ReputationNano
	c.Block(365 * 86400)
	after := decision(t, c, "steady", 400, "seller-a").ReputationNano
	require.Greater(t, before, int64(500_000_000), "a steady daily PIN card has a good reputation")
	require.Less(t, after, int64(10_000_000), "a year of silence leaves it below 0.01")
}
