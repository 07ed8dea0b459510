package ledger

import (
	"encoding/hex"
	"fmt"

	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/program/tiers"
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
	ReferralCode  string // given at the till at a first purchase (SPEC §5.7)
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
// the seller, and the seller pays their value into the escrow. A campaign
// of the seller the purchase qualifies for adds a bonus lot, issued by and
// charged to the same seller (SPEC §5.7), and so do the bonuses of a
// referral made at a first purchase (to the customer and to its referrer);
// with a return window, every such lot is pending until it passes (§5.9).
func Issue(c *state.Ctx, in Purchase) (*types.PurchaseResult, error) {
	base, err := CheckIssue(c, in.Seller, in.AmountPaise)
	if err != nil {
		return nil, err
	}
	seller := in.Seller.SellerId
	// The customer's coalition tier before this purchase qualifies it for
	// tier campaigns; then the purchase counts towards its spend (SPEC §5.8).
	table := tiers.Table(c.KV)
	rank := -1
	if len(table.Tiers) > 0 {
		rank = tiers.Rank(table, tiers.StatusOf(c.KV, in.CustomerID, c.Time).Tier)
	}
	tiers.Add(c.KV, in.CustomerID, c.Time, in.AmountPaise)
	match, err := program.Find(c, seller, program.Buyer{Terminal: in.TerminalID, Amount: in.AmountPaise, TierRank: rank, Tiers: table}, base)
	if err != nil {
		return nil, err
	}
	bonus := match.Bonus
	if bonus > 0 {
		// The bonus is issuance too: it fits within the epoch cap, or is
		// cut to what is left of it.
		issued := settle.SellerEpoch(c.KV, seller).IssuedPoints
		if room := c.Params.MaxEpochIssuePoints - issued - base; bonus > room {
			bonus = room
			match.Reason = fmt.Sprintf("the bonus was cut to %s by %s's issuance cap of %s per epoch",
				types.PointsText(room), seller, types.PointsText(c.Params.MaxEpochIssuePoints))
		}
	}
	cust, existed := Customer(c.KV, in.CustomerID)
	var ref program.ReferralMatch
	if in.ReferralCode != "" {
		if ref, err = program.CheckReferral(c.KV, c.Params, seller, in.CustomerID, in.AmountPaise, in.ReferralCode, cust.HistoryCount == 0); err != nil {
			return nil, err
		}
		issued := settle.SellerEpoch(c.KV, seller).IssuedPoints
		if room := c.Params.MaxEpochIssuePoints - issued - base - bonus; ref.ReferrerPoints > room || ref.RefereePoints > room-ref.ReferrerPoints {
			return nil, types.Errorf(types.CodeInvalidAmount, "the referral bonuses (%s and %s) would pass %s's issuance cap of %s per epoch",
				types.PointsText(ref.ReferrerPoints), types.PointsText(ref.RefereePoints), seller, types.PointsText(c.Params.MaxEpochIssuePoints))
		}
	}
	points := base + bonus + ref.RefereePoints
	rate := EarnRate(c.Params, in.Seller)
	payment, err := types.PaiseOfPoints(points + ref.ReferrerPoints)
	if err != nil {
		return nil, err
	}
	totals := state.Totals(c.KV)
	if !existed {
		totals.Customers++
	}
	rec := &types.Purchase{
		PurchaseId: c.TxHash, SellerId: seller, TerminalId: in.TerminalID,
		CustomerId: in.CustomerID, AmountPaise: in.AmountPaise, EarnRateBps: rate,
		PointsIssued: base, Height: c.Height, Time: c.Time, Flow: in.Flow, PaymentTimeMs: in.PaymentTimeMs,
	}
	totals.Purchases++
	res := &types.PurchaseResult{PurchaseId: c.TxHash, PointsIssued: points, SellerPaymentPaise: uint64(payment),
		BasePoints: base, BonusPoints: bonus, NoBonusReason: match.Reason,
		RefereePoints: ref.RefereePoints, ReferrerPoints: ref.ReferrerPoints, ReferralCode: program.Code(in.CustomerID)}
	program.RegisterCode(c.KV, in.CustomerID)
	var pendingUntil int64
	if w := program.ReturnWindow(c.Params, program.Program(c.KV, seller)); w > 0 && points+ref.ReferrerPoints > 0 {
		pendingUntil = c.Time + w
		res.PendingUntil = pendingUntil
	}
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
	}
	expires := c.Time + c.Params.LotValiditySeconds
	newLotFor := func(cust *types.Customer, n, campaign uint64) (*types.Lot, error) {
		lot := &types.Lot{
			Seq: cust.NextLotSeq, Issuer: seller, Points: n, OriginalPoints: n,
			IssuedAt: c.Time, ExpiresAt: expires, PurchaseId: c.TxHash, CampaignId: campaign,
		}
		if pendingUntil != 0 {
			if err := markPending(c, cust, lot, pendingUntil); err != nil {
				return nil, err
			}
		}
		cust.NextLotSeq++
		cust.LotCount++
		totals.Lots++
		putLot(c.KV, cust.CustomerId, lot)
		return lot, nil
	}
	newLot := func(n, campaign uint64) (*types.Lot, error) { return newLotFor(cust, n, campaign) }
	if points > 0 {
		if base > 0 {
			lot, err := newLot(base, 0)
			if err != nil {
				return nil, err
			}
			rec.LotSeq, rec.LotExpiresAt = lot.Seq, lot.ExpiresAt
		}
		if bonus > 0 {
			x := match.Campaign
			lot, err := newLot(bonus, x.Id)
			if err != nil {
				return nil, err
			}
			rec.BonusPoints, rec.CampaignId, rec.BonusLotSeq, rec.LotExpiresAt = bonus, x.Id, lot.Seq, lot.ExpiresAt
			res.Campaign, res.CampaignId = x.Name, x.Id
			if err := program.Spend(c, x, bonus); err != nil {
				return nil, err
			}
		}
		if ref.RefereePoints > 0 {
			lot, err := newLot(ref.RefereePoints, 0)
			if err != nil {
				return nil, err
			}
			rec.RefereePoints, rec.RefereeLotSeq, rec.LotExpiresAt = ref.RefereePoints, lot.Seq, lot.ExpiresAt
		}
		res.ExpiresAt = expires
	}
	if ref.Referrer != "" {
		program.Link(c, seller, in.CustomerID, ref)
		rec.Referrer = ref.Referrer
	}
	if ref.ReferrerPoints > 0 {
		// The referrer's bonus: a lot of the referrer's, issued by this seller.
		rc, _ := Customer(c.KV, ref.Referrer)
		if rc.Points, err = types.AddU64("referrer balance", rc.Points, ref.ReferrerPoints); err != nil {
			return nil, err
		}
		rc.EarnedTotal += ref.ReferrerPoints
		if totals.OutstandingPoints, err = types.AddU64("outstanding points", totals.OutstandingPoints, ref.ReferrerPoints); err != nil {
			return nil, err
		}
		totals.IssuedPoints += ref.ReferrerPoints
		lot, err := newLotFor(rc, ref.ReferrerPoints, 0)
		if err != nil {
			return nil, err
		}
		rec.ReferrerPoints, rec.ReferrerLotSeq = ref.ReferrerPoints, lot.Seq
		appendHistory(c, rc, types.HistoryKind_HISTORY_KIND_EARN, int64(ref.ReferrerPoints), seller)
		putCustomer(c.KV, rc)
		c.Emit(types.EventPointsIssued, "customer", ref.Referrer, "issuer", seller, "points", state.U(ref.ReferrerPoints),
			"reason", "referral", "referee", in.CustomerID, "actor", c.Actor, "purchase_id", hex.EncodeToString(c.TxHash))
	}
	basePay, err := types.PaiseOfPoints(base)
	if err != nil {
		return nil, err
	}
	if err := settle.Move(c, totals, seller, -basePay, "issue"); err != nil {
		return nil, err
	}
	bonusPay, err := types.PaiseOfPoints(bonus)
	if err != nil {
		return nil, err
	}
	if err := settle.Move(c, totals, seller, -bonusPay, "campaign_bonus"); err != nil {
		return nil, err
	}
	if err := settle.Move(c, totals, seller, basePay+bonusPay-payment, "referral_bonus"); err != nil {
		return nil, err
	}
	state.PutTotals(c.KV, totals)
	if err := settle.Activity(c, seller, func(e *types.SellerEpoch) error {
		if e.IssuedPoints, err = types.AddU64("epoch issued points", e.IssuedPoints, points); err != nil {
			return err
		}
		if e.IssuedPoints, err = types.AddU64("epoch issued points", e.IssuedPoints, ref.ReferrerPoints); err != nil {
			return err
		}
		e.ReferralPoints += ref.RefereePoints + ref.ReferrerPoints
		e.BonusPoints, err = types.AddU64("epoch bonus points", e.BonusPoints, bonus)
		return err
	}); err != nil {
		return nil, err
	}
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_EARN, int64(points), seller)
	putCustomer(c.KV, cust)
	putPurchase(c.KV, rec)
	res.Balance = cust.Points
	if base > 0 {
		c.Emit(types.EventPointsIssued, "customer", in.CustomerID, "issuer", seller,
			"points", state.U(base), "reason", "purchase", "actor", c.Actor,
			"purchase_id", hex.EncodeToString(c.TxHash), "expires_at", state.I(res.ExpiresAt))
	}
	if ref.RefereePoints > 0 {
		c.Emit(types.EventPointsIssued, "customer", in.CustomerID, "issuer", seller,
			"points", state.U(ref.RefereePoints), "reason", "referral", "referrer", ref.Referrer, "actor", c.Actor,
			"purchase_id", hex.EncodeToString(c.TxHash), "expires_at", state.I(res.ExpiresAt))
	}
	if bonus > 0 {
		c.Emit(types.EventPointsIssued, "customer", in.CustomerID, "issuer", seller,
			"points", state.U(bonus), "reason", "campaign", "campaign_id", state.U(res.CampaignId), "actor", c.Actor,
			"purchase_id", hex.EncodeToString(c.TxHash), "expires_at", state.I(res.ExpiresAt))
	}
	return res, nil
}
