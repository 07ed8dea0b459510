package ledger

import (
	"encoding/hex"

	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// Redemption is a validated, authorised redemption to book.
type Redemption struct {
	SellerID   string
	TerminalID string
	CustomerID string
	Points     uint64
	BillPaise  uint64
}

// CheckRedeemAmount applies the rules that need no balance: positive points,
// points × 100 ≤ bill (points pay for at most the whole bill), and a bill
// within the governed bound on one purchase.
func CheckRedeemAmount(p *types.Params, points, bill uint64) error {
	if points == 0 {
		return types.Errorf(types.CodeInvalidAmount, "points to redeem must be positive")
	}
	if bill > p.MaxPurchasePaise {
		return types.Errorf(types.CodeInvalidAmount, "bill %s is above the maximum of %s per purchase",
			types.RupeesText(bill), types.RupeesText(p.MaxPurchasePaise))
	}
	value, err := types.MulU64("redemption value", points, 100)
	if err != nil {
		return err
	}
	if value > bill {
		return types.Errorf(types.CodeInvalidAmount, "redeeming %s (%s) exceeds the bill of %s", types.PointsText(points), types.RupeesText(value), types.RupeesText(bill))
	}
	return nil
}

// Redeem spends points at a seller, earliest-expiring lots first. Points
// from the seller's own lots are a same-seller redemption, the rest
// cross-seller; either way the escrow reimburses the seller their value.
func Redeem(c *state.Ctx, in Redemption, epoch uint64) (*types.RedeemResult, error) {
	if err := CheckRedeemAmount(c.Params, in.Points, in.BillPaise); err != nil {
		return nil, err
	}
	value, err := types.PaiseOfPoints(in.Points)
	if err != nil {
		return nil, err
	}
	cust, ok := Customer(c.KV, in.CustomerID)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "customer %s has no points account", in.CustomerID)
	}
	if in.Points > cust.Points {
		return nil, types.Errorf(types.CodeInsufficientPoints, "customer %s has %s, cannot redeem %s", in.CustomerID, types.PointsText(cust.Points), types.PointsText(in.Points))
	}
	if in.Points > Available(cust) {
		return nil, types.Errorf(types.CodeInsufficientPoints, "customer %s has %s, of which %s are pending (inside a seller's return window) and %s available; cannot redeem %s",
			in.CustomerID, types.PointsText(cust.Points), types.PointsText(cust.PendingPoints), types.PointsText(Available(cust)), types.PointsText(in.Points))
	}
	totals := state.Totals(c.KV)
	rec := &types.Redemption{
		RedemptionId: c.TxHash, SellerId: in.SellerID, TerminalId: in.TerminalID, CustomerId: in.CustomerID,
		Points: in.Points, BillPaise: in.BillPaise, Epoch: epoch, Height: c.Height, Time: c.Time,
	}
	remaining := in.Points
	for _, lot := range Lots(c.KV, in.CustomerID) {
		if remaining == 0 {
			break
		}
		if lot.PendingUntil != 0 {
			continue // not redeemable yet (SPEC §5.9)
		}
		take := min(remaining, lot.Points)
		remaining -= take
		if lot.Issuer == in.SellerID {
			rec.SameSellerPoints += take
		} else {
			rec.CrossSellerPoints += take
		}
		rec.Consumed = append(rec.Consumed, &types.LotUse{
			LotSeq: lot.Seq, Issuer: lot.Issuer, Points: take, IssuedAt: lot.IssuedAt,
			ExpiresAt: lot.ExpiresAt, PurchaseId: lot.PurchaseId, OriginalPoints: lot.OriginalPoints, Imported: lot.Imported,
		})
		takeFromLot(c, cust, totals, lot, take)
		c.Emit(types.EventPointsRedeemed, "customer", in.CustomerID, "seller", in.SellerID, "issuer", lot.Issuer,
			"points", state.U(take), "reason", "redemption", "actor", c.Actor,
			"redemption_id", hex.EncodeToString(c.TxHash))
	}
	if remaining != 0 {
		panic("ledger: lots do not add up to the customer's balance") // an invariant breach, not user input
	}
	cust.Points -= in.Points
	cust.RedeemedTotal += in.Points
	totals.OutstandingPoints -= in.Points
	totals.RedeemedPoints += in.Points
	totals.Redemptions++
	if err := settle.Move(c, totals, in.SellerID, value, "redeem"); err != nil {
		return nil, err
	}
	state.PutTotals(c.KV, totals)
	if err := settle.Activity(c, in.SellerID, func(e *types.SellerEpoch) error {
		e.RedeemedSamePoints += rec.SameSellerPoints
		e.RedeemedCrossPoints += rec.CrossSellerPoints
		return nil
	}); err != nil {
		return nil, err
	}
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_REDEEM, -int64(in.Points), in.SellerID)
	putCustomer(c.KV, cust)
	putRedemption(c.KV, rec)
	return &types.RedeemResult{
		RedemptionId: c.TxHash, PointsRedeemed: in.Points, SameSellerPoints: rec.SameSellerPoints,
		CrossSellerPoints: rec.CrossSellerPoints, SystemPaymentPaise: uint64(value), DiscountPaise: uint64(value),
		Balance: cust.Points,
	}, nil
}

// takeFromLot removes n (≤ lot.Points) points from a customer's lot and
// deletes the lot when it is empty; the caller saves cust and totals.
func takeFromLot(c *state.Ctx, cust *types.Customer, totals *types.Totals, lot *types.Lot, n uint64) {
	lot.Points -= n
	unpend(c, cust, lot, n, lot.Points == 0)
	if lot.Points == 0 {
		deleteLot(c.KV, cust.CustomerId, lot)
		cust.LotCount--
		totals.Lots--
		return
	}
	putLot(c.KV, cust.CustomerId, lot)
}
