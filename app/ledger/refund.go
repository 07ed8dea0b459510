package ledger

import (
	"bytes"
	"encoding/hex"

	"github.com/bytepoints/bytepoints/app/program/tiers"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// Refund reverses all or part of a purchase. The points the refunded amount
// earned (with its campaign and referral bonuses, in proportion) are clawed
// back from what the customer still holds of that seller's points, the
// purchase's own lots first; a referrer's bonus comes back from the
// referrer likewise. The seller is credited for what came back. Points
// already spent cannot come back: that shortfall stays a cost of the seller
// and is reported.
func Refund(c *state.Ctx, sellerID string, purchaseID []byte, amount uint64) (*types.RefundResult, error) {
	p, ok := PurchaseRecord(c.KV, purchaseID)
	if !ok {
		return nil, missingRecord(c, "purchase", purchaseID)
	}
	if pastRetention(c, p.Time) {
		return nil, prunedError(c, "purchase", purchaseID, &p.Time)
	}
	if p.SellerId != sellerID {
		return nil, types.Errorf(types.CodeUnauthorized, "purchase %x was made at %s, not %s", purchaseID, p.SellerId, sellerID)
	}
	left := p.AmountPaise - p.RefundedPaise
	if left == 0 {
		return nil, types.Errorf(types.CodeInvalidAmount, "purchase %x is already fully refunded", purchaseID)
	}
	if amount == 0 {
		amount = left
	}
	if amount > left {
		return nil, types.Errorf(types.CodeInvalidAmount, "refund of %s exceeds the %s of purchase %x not yet refunded", types.RupeesText(amount), types.RupeesText(left), purchaseID)
	}
	refunded := p.RefundedPaise + amount
	// Reverse floor(total refunded × rate) points overall, so partial refunds
	// never reverse more (or fewer) points than one refund of the sum would.
	target, err := PointsFor(refunded, p.EarnRateBps)
	if err != nil {
		return nil, err
	}
	target = min(target, p.PointsIssued)
	share := func(what string, n uint64) (uint64, error) {
		if n == 0 {
			return 0, nil
		}
		return types.MulDivU64(what, n, refunded, p.AmountPaise)
	}
	// Campaign and referral bonuses go back in proportion to the amount refunded.
	for _, n := range []uint64{p.BonusPoints, p.RefereePoints} {
		b, err := share("bonus to reverse", n)
		if err != nil {
			return nil, err
		}
		target += b
	}
	toReverse := target - p.PointsReversed
	referrerTarget, err := share("referral bonus to reverse", p.ReferrerPoints)
	if err != nil {
		return nil, err
	}
	toReverseReferrer := referrerTarget - p.ReferrerReversed

	cust, _ := Customer(c.KV, p.CustomerId)
	totals := state.Totals(c.KV)
	own := []uint64{p.LotSeq, p.BonusLotSeq, p.RefereeLotSeq}
	has := []bool{p.PointsIssued > 0, p.BonusPoints > 0, p.RefereePoints > 0}
	clawed := clawBack(c, totals, cust, sellerID, p, own, has, toReverse)
	shortfall := toReverse - clawed
	var refClawed, refShort uint64
	if toReverseReferrer > 0 {
		ref, _ := Customer(c.KV, p.Referrer)
		refClawed = clawBack(c, totals, ref, sellerID, p, []uint64{p.ReferrerLotSeq}, []bool{true}, toReverseReferrer)
		refShort = toReverseReferrer - refClawed
		ref.Points -= refClawed
		appendHistory(c, ref, types.HistoryKind_HISTORY_KIND_REFUND, -int64(refClawed), sellerID)
		putCustomer(c.KV, ref)
		c.Emit(types.EventPointsClawed, "customer", p.Referrer, "issuer", sellerID, "points", state.U(refClawed),
			"shortfall", state.U(refShort), "reason", "referral_refund", "actor", c.Actor, "purchase_id", hex.EncodeToString(purchaseID))
	}
	allClawed, allShort := clawed+refClawed, shortfall+refShort
	credit, err := types.PaiseOfPoints(allClawed)
	if err != nil {
		return nil, err
	}
	cust.Points -= clawed
	totals.OutstandingPoints -= allClawed
	totals.ClawedBackPoints += allClawed
	if err := settle.Move(c, totals, sellerID, credit, "refund_clawback"); err != nil {
		return nil, err
	}
	state.PutTotals(c.KV, totals)
	if err := settle.Activity(c, sellerID, func(e *types.SellerEpoch) error {
		e.ClawedBackPoints += allClawed
		e.RefundShortfallPoints += allShort
		return nil
	}); err != nil {
		return nil, err
	}
	tiers.Subtract(c.KV, p.CustomerId, p.Time, c.Time, amount) // the refund no longer counts as spend
	p.RefundedPaise = refunded
	p.PointsReversed += toReverse
	p.ReferrerReversed += toReverseReferrer
	p.PointsClawedBack += allClawed
	p.PointsShortfall += allShort
	putPurchase(c.KV, p)
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_REFUND, -int64(clawed), sellerID)
	putCustomer(c.KV, cust)
	c.Emit(types.EventPointsClawed, "customer", p.CustomerId, "issuer", sellerID, "points", state.U(clawed),
		"shortfall", state.U(shortfall), "refunded_paise", state.U(amount), "reason", "refund", "actor", c.Actor,
		"purchase_id", hex.EncodeToString(purchaseID))
	return &types.RefundResult{
		RefundedPaise: amount, PointsClawedBack: allClawed, PointsShortfall: allShort,
		SellerCreditPaise: uint64(credit), Balance: cust.Points,
		ReferrerClawedBack: refClawed, ReferrerShortfall: refShort,
	}, nil
}

// clawBack takes up to n points of seller's from cust: the purchase's own
// lots (seqs, where has) first, then the seller's other pending lots, then
// its available ones, so a refund inside the return window never leaves a
// shortfall that points spent elsewhere would have caused (SPEC §5.9). It
// updates lots and counts (the caller subtracts the result from the
// customer's points and saves it).
func clawBack(c *state.Ctx, totals *types.Totals, cust *types.Customer, sellerID string, p *types.Purchase, seqs []uint64, has []bool, n uint64) uint64 {
	var clawed uint64
	take := func(lot *types.Lot) {
		k := min(n-clawed, lot.Points)
		if k == 0 {
			return
		}
		clawed += k
		takeFromLot(c, cust, totals, lot, k)
	}
	if n == 0 {
		return 0
	}
	for i, seq := range seqs {
		if l, ok := lotAt(c.KV, cust.CustomerId, p.LotExpiresAt, seq); ok && has[i] && bytes.Equal(l.PurchaseId, p.PurchaseId) {
			take(l)
		}
	}
	lots := Lots(c.KV, cust.CustomerId)
	for _, pending := range []bool{true, false} {
		for _, lot := range lots {
			if clawed == n {
				return clawed
			}
			if lot.Issuer != sellerID || (lot.PendingUntil != 0) != pending || lot.Points == 0 {
				continue
			}
			if bytes.Equal(lot.PurchaseId, p.PurchaseId) {
				continue // the purchase's own lots, taken above
			}
			take(lot)
		}
	}
	return clawed
}
