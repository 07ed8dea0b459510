package apptest

import (
	"fmt"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// skipFlow claims "no CVM granted by the CRMS".
func skipFlow() *types.PaymentFlow {
	return &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_NO_CVM_CRMS, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
}

func decisionAt(t *testing.T, c *Chain, cust string, paise uint64, seller string, ctx int64) *types.DecisionResponse {
	t.Helper()
	q := c.App.Query(fmt.Sprintf("/crms/%s/%d/%s/%d", cust, paise, seller, ctx), false)
	require.Equal(t, types.CodeOK, q.Code, q.Log)
	var d types.DecisionResponse
	require.NoError(t, d.Unmarshal(q.Value))
	return &d
}

// passParams enacts p by a proposal of seller-a (the only member).
func passParams(t *testing.T, c *Chain, p *types.Params) {
	t.Helper()
	MustOK(t, c.Do(Operator("seller-a"), &types.MsgPropose{Description: "params", Action: &types.MsgPropose_SetParams{SetParams: p}}))
}

// A till that decided at context x2.0 and skipped books a skip: the
// purchase carries its context and the re-check uses it (it used x1.0, and
// booked an honest skip as a violation). A context outside the governed
// bounds is refused, as the decision query refuses it.
func TestSkipAtContextIsRecheckedWithThatContext(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	regular(t, c, "card", 20)
	const x2 = 2 * crms.Nano
	at1, at2 := decision(t, c, "card", 100, "seller-a"), decisionAt(t, c, "card", 100, "seller-a", x2)
	require.Less(t, at1.SkipLimitPaise, at2.SkipLimitPaise)
	amount := (at1.SkipLimitPaise + at2.SkipLimitPaise) / 2 // skips at x2.0 only
	require.True(t, decision(t, c, "card", amount, "seller-a").CvmRequired)
	require.False(t, decisionAt(t, c, "card", amount, "seller-a", x2).CvmRequired)

	r := MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "card", AmountPaise: amount, Flow: skipFlow(), ContextNano: x2})).GetPurchase()
	require.False(t, r.CrmsViolation, "an honest skip at x2.0: %+v", r)
	require.Equal(t, crms.ReasonSkip, r.CrmsReason)
	e := sellerEpoch(t, c, "seller-a")
	require.Equal(t, uint64(1), e.CrmsSkips)
	require.Equal(t, uint64(0), e.CrmsViolations)

	// The same amount claimed at x1.0 is a violation.
	r = MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "card", AmountPaise: amount, Flow: skipFlow()})).GetPurchase()
	require.True(t, r.CrmsViolation)
	require.Equal(t, crms.ReasonRiskAboveMax, r.CrmsReason)

	for _, ctx := range []int64{-1, crms.Nano/2 - 1, x2 + 1} {
		tx := c.Tx(Operator("seller-a"), &types.MsgPurchase{CustomerId: "card", AmountPaise: 100, Flow: skipFlow(), ContextNano: ctx})
		require.Equal(t, types.CodeInvalidArgument, c.App.CheckTx(tx).Code, "context %d at admission", ctx)
		res := c.Block(5, tx)[0]
		require.Equal(t, types.CodeInvalidArgument, res.Code, "context %d: %s", ctx, res.Log)
		require.Contains(t, res.Log, "context multiplier")
	}
}

// Lowering the governed ceiling reaches a seller that set its own Risk_max
// above it, at decision time: the decision query, the purchase re-check and
// the seller query all use the ceiling (they used the seller's value until
// it set its config again). Raising the floor does the same from below.
func TestGovernedBoundsClampASellersOwnRiskMax(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	MustOK(t, c.Do(Operator("seller-a"), &types.MsgSetSellerConfig{RiskMaxNano: 50_000_000}))
	regular(t, c, "card", 20)
	wide := decision(t, c, "card", 100, "seller-a")
	require.Equal(t, int64(50_000_000), wide.RiskMaxNano)

	p := app.DefaultParams()
	p.Crms.MaxRiskMaxNano = 10_000_000
	passParams(t, c, p)
	s := sellerResponse(t, c, "seller-a")
	require.Equal(t, int64(50_000_000), s.Seller.RiskMaxNano, "its own value stays on record")
	require.Equal(t, int64(10_000_000), s.EffectiveRiskMaxNano)
	require.True(t, s.RiskMaxClamped)
	require.False(t, s.RiskMaxIsDefault)
	narrow := decision(t, c, "card", 100, "seller-a")
	require.Equal(t, int64(10_000_000), narrow.RiskMaxNano)
	require.Less(t, narrow.SkipLimitPaise, wide.SkipLimitPaise)

	amount := (narrow.SkipLimitPaise + wide.SkipLimitPaise) / 2 // skipped under the old ceiling only
	r := MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "card", AmountPaise: amount, Flow: skipFlow()})).GetPurchase()
	require.True(t, r.CrmsViolation, "re-checked under the lowered ceiling: %+v", r)
	require.Equal(t, crms.ReasonRiskAboveMax, r.CrmsReason)

	p = app.DefaultParams()
	p.Crms.MinRiskMaxNano, p.Crms.DefaultRiskMaxNano, p.Crms.MaxRiskMaxNano = 60_000_000, 60_000_000, 80_000_000
	passParams(t, c, p)
	s = sellerResponse(t, c, "seller-a")
	require.Equal(t, int64(60_000_000), s.EffectiveRiskMaxNano)
	require.True(t, s.RiskMaxClamped)
	require.Equal(t, int64(60_000_000), decision(t, c, "card", 100, "seller-a").RiskMaxNano)
}

// `set-config --risk-max default`: a seller goes back to following the
// governed default, and later governance changes of it reach the seller.
func TestSetConfigBackToTheGovernedDefault(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	MustOK(t, c.Do(op, &types.MsgSetSellerConfig{RiskMaxNano: 10_000_000}))
	require.False(t, sellerResponse(t, c, "seller-a").RiskMaxIsDefault)

	r := c.Do(op, &types.MsgSetSellerConfig{RiskMaxNano: 10_000_000, RiskMaxDefault: true})
	require.Equal(t, types.CodeInvalidArgument, r.Code, "a value and the default at once: %s", r.Log)

	MustOK(t, c.Do(op, &types.MsgSetSellerConfig{RiskMaxDefault: true}))
	s := sellerResponse(t, c, "seller-a")
	require.True(t, s.RiskMaxIsDefault)
	require.Equal(t, int64(0), s.Seller.RiskMaxNano)
	require.Equal(t, app.DefaultParams().Crms.DefaultRiskMaxNano, s.EffectiveRiskMaxNano)

	p := app.DefaultParams()
	p.Crms.DefaultRiskMaxNano = 20_000_000
	passParams(t, c, p)
	require.Equal(t, int64(20_000_000), sellerResponse(t, c, "seller-a").EffectiveRiskMaxNano)
	require.Equal(t, int64(20_000_000), decision(t, c, "card", 100, "seller-a").RiskMaxNano)

	r = c.Do(op, &types.MsgSetSellerConfig{})
	require.Equal(t, types.CodeInvalidArgument, r.Code, "nothing asked: %s", r.Log)
}

// A never-seen card has one reason name on both paths: the decision query
// and the re-check of a purchase claiming a skip both say new_card (the
// re-check said low_reputation).
func TestNeverSeenCardHasOneReasonName(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	c.Block(5)
	d := decision(t, c, "fresh", 100, "seller-a")
	require.True(t, d.CvmRequired)
	require.Equal(t, crms.ReasonNewCard, d.Reason)
	r := MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "fresh", AmountPaise: 100, Flow: skipFlow()})).GetPurchase()
	require.True(t, r.CrmsViolation)
	require.Equal(t, crms.ReasonNewCard, r.CrmsReason)
}
