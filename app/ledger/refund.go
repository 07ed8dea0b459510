package ledger

import (
	"bytes"
	"encoding/hex"

	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// Refund reverses all or part of a purchase. The points the refunded amount
// earned are clawed back from what the customer still holds of that seller's
// points, the purchase's own lot first; the seller is credited for what came
// back. Points already spent cannot come back: that shortfall stays a cost of
// the seller and is reported.
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
	toReverse := target - p.PointsReversed

	cust, _ := Customer(c.KV, p.CustomerId)
	totals := state.Totals(c.KV)
	var clawed uint64
	take := func(lot *types.Lot) {
		n := min(toReverse-clawed, lot.Points)
		if n == 0 {
			return
		}
		clawed += n
		takeFromLot(c, cust, totals, lot, n)
	}
	if toReverse > 0 {
		if own, ok := lotAt(c.KV, p.CustomerId, p.LotExpiresAt, p.LotSeq); ok && p.PointsIssued > 0 {
			take(own)
		}
		for _, lot := range Lots(c.KV, p.CustomerId) {
			if clawed == toReverse {
				break
			}
			if lot.Issuer == sellerID && !(lot.Seq == p.LotSeq && bytes.Equal(lot.PurchaseId, p.PurchaseId)) {
				take(lot)
			}
		}
	}
	shortfall := toReverse - clawed
	credit, err := types.PaiseOfPoints(clawed)
	if err != nil {
		return nil, err
	}
	cust.Points -= clawed
	totals.OutstandingPoints -= clawed
	totals.ClawedBackPoints += clawed
	if err := settle.Move(c, totals, sellerID, credit, "refund_clawback"); err != nil {
		return nil, err
	}
	state.PutTotals(c.KV, totals)
	if err := settle.Activity(c, sellerID, func(e *types.SellerEpoch) error {
		e.ClawedBackPoints += clawed
		e.RefundShortfallPoints += shortfall
		return nil
	}); err != nil {
		return nil, err
	}
	p.RefundedPaise = refunded
	p.PointsReversed += toReverse
	p.PointsClawedBack += clawed
	p.PointsShortfall += shortfall
	putPurchase(c.KV, p)
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_REFUND, -int64(clawed), sellerID)
	putCustomer(c.KV, cust)
	c.Emit(types.EventPointsClawed, "customer", p.CustomerId, "issuer", sellerID, "points", state.U(clawed),
		"shortfall", state.U(shortfall), "refunded_paise", state.U(amount), "reason", "refund", "actor", c.Actor,
		"purchase_id", hex.EncodeToString(purchaseID))
	return &types.RefundResult{
		RefundedPaise: amount, PointsClawedBack: clawed, PointsShortfall: shortfall,
		SellerCreditPaise: uint64(credit), Balance: cust.Points,
	}, nil
}
