package ledger

import (
	"encoding/hex"

	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// Void undoes a redemption of the open settlement epoch: the consumed lots
// are restored exactly and the seller's reimbursement is reversed. A lot
// that expired since the redemption is not handed back to the customer; its
// points become breakage for their issuer at once, as they would have had
// the redemption never happened.
func Void(c *state.Ctx, sellerID string, redemptionID []byte, openEpoch uint64) (*types.VoidResult, error) {
	r, ok := RedemptionRecord(c.KV, redemptionID)
	if !ok {
		return nil, missingRecord(c, "redemption", redemptionID)
	}
	if pastRetention(c, r.Time) {
		return nil, prunedError(c, "redemption", redemptionID, &r.Time)
	}
	if r.SellerId != sellerID {
		return nil, types.Errorf(types.CodeUnauthorized, "redemption %x was made at %s, not %s", redemptionID, r.SellerId, sellerID)
	}
	if r.Voided {
		return nil, types.Errorf(types.CodeInvalidArgument, "redemption %x is already voided", redemptionID)
	}
	if r.Epoch != openEpoch {
		return nil, types.Errorf(types.CodeInvalidArgument,
			"redemption %x belongs to settlement epoch %d, which is closed; only redemptions of the open epoch %d can be voided",
			redemptionID, r.Epoch, openEpoch)
	}
	debit, err := types.PaiseOfPoints(r.Points)
	if err != nil {
		return nil, err
	}
	cust, _ := Customer(c.KV, r.CustomerId)
	totals := state.Totals(c.KV)
	var restored, expired uint64
	type breakage struct {
		issuer string
		points uint64
	}
	var lapsed []breakage
	for _, use := range r.Consumed {
		if use.ExpiresAt < c.Time {
			expired += use.Points
			lapsed = append(lapsed, breakage{use.Issuer, use.Points})
			continue
		}
		lot, ok := lotAt(c.KV, r.CustomerId, use.ExpiresAt, use.LotSeq)
		if !ok {
			lot = &types.Lot{
				Seq: use.LotSeq, Issuer: use.Issuer, OriginalPoints: use.OriginalPoints,
				IssuedAt: use.IssuedAt, ExpiresAt: use.ExpiresAt, PurchaseId: use.PurchaseId, Imported: use.Imported,
			}
			cust.LotCount++
			totals.Lots++
		}
		lot.Points += use.Points
		putLot(c.KV, r.CustomerId, lot)
		restored += use.Points
		c.Emit(types.EventPointsRestored, "customer", r.CustomerId, "seller", sellerID, "issuer", use.Issuer,
			"points", state.U(use.Points), "reason", "void", "actor", c.Actor,
			"redemption_id", hex.EncodeToString(redemptionID))
	}
	cust.Points += restored
	cust.RedeemedTotal -= r.Points
	totals.OutstandingPoints += restored
	totals.RedeemedPoints -= r.Points
	totals.ExpiredPoints += expired
	if err := settle.Move(c, totals, sellerID, -debit, "void"); err != nil {
		return nil, err
	}
	if err := settle.Activity(c, sellerID, func(e *types.SellerEpoch) error {
		e.RedeemedSamePoints -= r.SameSellerPoints
		e.RedeemedCrossPoints -= r.CrossSellerPoints
		e.VoidedPoints += r.Points
		return nil
	}); err != nil {
		return nil, err
	}
	for _, b := range lapsed {
		if err := breakageTo(c, totals, b.issuer, b.points, r.CustomerId, settle.Move); err != nil {
			return nil, err
		}
	}
	state.PutTotals(c.KV, totals)
	r.Voided = true
	putRedemption(c.KV, r)
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_VOID, int64(restored), sellerID)
	putCustomer(c.KV, cust)
	return &types.VoidResult{PointsRestored: restored, PointsExpired: expired, SellerDebitPaise: uint64(debit), Balance: cust.Points}, nil
}

// breakageTo credits an issuer for points that lapsed unspent, through move:
// settle.Move inside a transaction, settle.Credit for block-level expiry.
// The escrow side lands in totals, which the caller saves.
func breakageTo(c *state.Ctx, totals *types.Totals, issuer string, points uint64, customer string, move func(*state.Ctx, *types.Totals, string, int64, string) error) error {
	value, err := types.PaiseOfPoints(points)
	if err != nil {
		return err
	}
	if err := move(c, totals, issuer, value, "breakage"); err != nil {
		return err
	}
	if err := settle.Activity(c, issuer, func(e *types.SellerEpoch) error {
		e.ExpiredPoints += points
		return nil
	}); err != nil {
		return err
	}
	c.Emit(types.EventPointsExpired, "customer", customer, "issuer", issuer, "points", state.U(points),
		"reason", "expiry", "actor", c.Actor)
	return nil
}
