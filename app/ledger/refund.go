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
// earned are clawed back from what the customer still holds of that seller's
// points, the purchase's own lot first; the seller is credited for what came
// back. Points already spent cannot come back: that shortfall stays a cost of
// the seller and is reported.
func Refund(c *state.Ctx, sellerID string, purchaseID []byte, amount uint64) (*types.RefundResult, error) {
	p, ok := state.Purchase(c.KV, purchaseID)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "purchase %x does not exist", purchaseID)
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
	if p.BonusPoints > 0 {
		// A campaign bonus goes back in proportion to the amount refunded.
		b, err := types.MulDivU64("bonus to reverse", p.BonusPoints, refunded, p.AmountPaise)
		if err != nil {
			return nil, err
		}
		target += b
	}
	toReverse := target - p.PointsReversed

	cust, _ := state.Customer(c.KV, p.CustomerId)
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
		// The purchase's own lots first (base, then bonus), then the
		// seller's other pending points, then its available points: a
		// refund inside the return window never leaves a shortfall that
		// points spent elsewhere would have caused (SPEC §5.9).
		if l, ok := state.Lot(c.KV, p.CustomerId, p.LotExpiresAt, p.LotSeq); ok && p.PointsIssued > 0 && bytes.Equal(l.PurchaseId, p.PurchaseId) {
			take(l)
		}
		if l, ok := state.Lot(c.KV, p.CustomerId, p.LotExpiresAt, p.BonusLotSeq); ok && p.BonusPoints > 0 && bytes.Equal(l.PurchaseId, p.PurchaseId) {
			take(l)
		}
		lots := state.Lots(c.KV, p.CustomerId)
		for _, pending := range []bool{true, false} {
			for _, lot := range lots {
				if clawed == toReverse {
					break
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
	}
	shortfall := toReverse - clawed
	credit, err := types.PaiseOfPoints(clawed)
	if err != nil {
		return nil, err
	}
	cust.Points -= clawed
	totals.OutstandingPoints -= clawed
	totals.ClawedBackPoints += clawed
	state.PutTotals(c.KV, totals)
	if err := settle.Move(c, sellerID, credit, "refund_clawback"); err != nil {
		return nil, err
	}
	if err := settle.Activity(c, sellerID, func(e *types.SellerEpoch) error {
		e.ClawedBackPoints += clawed
		e.RefundShortfallPoints += shortfall
		return nil
	}); err != nil {
		return nil, err
	}
	tiers.Subtract(c.KV, p.CustomerId, p.Time, c.Time, amount) // the refund no longer counts as spend
	p.RefundedPaise = refunded
	p.PointsReversed += toReverse
	p.PointsClawedBack += clawed
	p.PointsShortfall += shortfall
	state.PutPurchase(c.KV, p)
	state.AppendHistory(c, cust, types.HistoryKind_HISTORY_KIND_REFUND, -int64(clawed), sellerID)
	state.PutCustomer(c.KV, cust)
	c.Emit(types.EventPointsClawed, "customer", p.CustomerId, "issuer", sellerID, "points", state.U(clawed),
		"shortfall", state.U(shortfall), "refunded_paise", state.U(amount), "reason", "refund", "actor", c.Actor,
		"purchase_id", hex.EncodeToString(purchaseID))
	return &types.RefundResult{
		RefundedPaise: amount, PointsClawedBack: clawed, PointsShortfall: shortfall,
		SellerCreditPaise: uint64(credit), Balance: cust.Points,
	}, nil
}
