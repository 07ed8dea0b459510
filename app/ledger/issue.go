package ledger

import (
	"encoding/hex"

	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// Purchase is a validated, authorised purchase to book.
type Purchase struct {
	Seller        *types.SellerRecord
	TerminalID    string
	CustomerID    string
	AmountPaise   uint64
	Flow          *types.PaymentFlow
	PaymentTimeMs int64
}

// EarnRate is the seller's earn rate in basis points, or the chain default.
func EarnRate(p *types.Params, s *types.SellerRecord) uint32 {
	if s.EarnRateBps != 0 {
		return s.EarnRateBps
	}
	return p.DefaultEarnRateBps
}

// PointsFor is floor(paise × rate_bps / 10000 / 100) (SPEC §2).
func PointsFor(paise uint64, rateBps uint32) (uint64, error) {
	return types.MulDivU64("points for amount", paise, uint64(rateBps), 1_000_000)
}

// CheckPurchaseAmount applies the governed bound on one purchase (SPEC §2):
// positive and at most max_purchase_paise.
func CheckPurchaseAmount(p *types.Params, paise uint64) error {
	if paise == 0 {
		return types.Errorf(types.CodeInvalidAmount, "purchase amount must be positive")
	}
	if paise > p.MaxPurchasePaise {
		return types.Errorf(types.CodeInvalidAmount, "purchase amount %s is above the maximum of %s per purchase",
			types.RupeesText(paise), types.RupeesText(p.MaxPurchasePaise))
	}
	return nil
}

// CheckIssue applies every rule a purchase's issuance must pass, without
// booking it: the amount bounds and the seller's epoch cap. It returns the
// points the purchase earns.
func CheckIssue(c *state.Ctx, seller *types.SellerRecord, paise uint64) (uint64, error) {
	if err := CheckPurchaseAmount(c.Params, paise); err != nil {
		return 0, err
	}
	points, err := PointsFor(paise, EarnRate(c.Params, seller))
	if err != nil {
		return 0, err
	}
	issued := settle.SellerEpoch(c.KV, seller.SellerId).IssuedPoints
	if cap := c.Params.MaxEpochIssuePoints; points > cap || issued > cap-points {
		return 0, types.Errorf(types.CodeInvalidAmount,
			"seller %s has issued %s in this settlement epoch; %s more would pass the cap of %s per epoch",
			seller.SellerId, types.PointsText(issued), types.PointsText(points), types.PointsText(cap))
	}
	return points, nil
}

// Issue books a purchase: the customer receives a lot of points issued by
// the seller, and the seller pays their value into the escrow.
func Issue(c *state.Ctx, in Purchase) (*types.PurchaseResult, error) {
	points, err := CheckIssue(c, in.Seller, in.AmountPaise)
	if err != nil {
		return nil, err
	}
	rate := EarnRate(c.Params, in.Seller)
	payment, err := types.PaiseOfPoints(points)
	if err != nil {
		return nil, err
	}
	cust, existed := Customer(c.KV, in.CustomerID)
	totals := state.Totals(c.KV)
	if !existed {
		totals.Customers++
	}
	rec := &types.Purchase{
		PurchaseId: c.TxHash, SellerId: in.Seller.SellerId, TerminalId: in.TerminalID,
		CustomerId: in.CustomerID, AmountPaise: in.AmountPaise, EarnRateBps: rate,
		PointsIssued: points, Height: c.Height, Time: c.Time, Flow: in.Flow, PaymentTimeMs: in.PaymentTimeMs,
	}
	totals.Purchases++
	res := &types.PurchaseResult{PurchaseId: c.TxHash, PointsIssued: points, SellerPaymentPaise: uint64(payment)}
	if points > 0 {
		if cust.Points, err = types.AddU64("customer balance", cust.Points, points); err != nil {
			return nil, err
		}
		if cust.EarnedTotal, err = types.AddU64("customer earned total", cust.EarnedTotal, points); err != nil {
			return nil, err
		}
		if totals.OutstandingPoints, err = types.AddU64("outstanding points", totals.OutstandingPoints, points); err != nil {
			return nil, err
		}
		if totals.IssuedPoints, err = types.AddU64("issued points", totals.IssuedPoints, points); err != nil {
			return nil, err
		}
		expires := c.Time + c.Params.LotValiditySeconds
		lot := &types.Lot{
			Seq: cust.NextLotSeq, Issuer: in.Seller.SellerId, Points: points, OriginalPoints: points,
			IssuedAt: c.Time, ExpiresAt: expires, PurchaseId: c.TxHash,
		}
		cust.NextLotSeq++
		cust.LotCount++
		totals.Lots++
		putLot(c.KV, in.CustomerID, lot)
		rec.LotSeq, rec.LotExpiresAt = lot.Seq, lot.ExpiresAt
		res.ExpiresAt = expires
	}
	if err := settle.Move(c, totals, in.Seller.SellerId, -payment, "issue"); err != nil {
		return nil, err
	}
	state.PutTotals(c.KV, totals)
	if err := settle.Activity(c, in.Seller.SellerId, func(e *types.SellerEpoch) error {
		e.IssuedPoints, err = types.AddU64("epoch issued points", e.IssuedPoints, points)
		return err
	}); err != nil {
		return nil, err
	}
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_EARN, int64(points), in.Seller.SellerId)
	putCustomer(c.KV, cust)
	putPurchase(c.KV, rec)
	res.Balance = cust.Points
	if points > 0 {
		c.Emit(types.EventPointsIssued, "customer", in.CustomerID, "issuer", in.Seller.SellerId,
			"points", state.U(points), "reason", "purchase", "actor", c.Actor,
			"purchase_id", hex.EncodeToString(c.TxHash), "expires_at", state.I(res.ExpiresAt))
	}
	return res, nil
}
