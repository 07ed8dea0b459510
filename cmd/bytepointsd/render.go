package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// The CLI's JSON output: what the commands print, flattened from results
// and query answers. Field names are a contract with integrators: add,
// never rename.

// resultFields flattens a transaction result.
func resultFields(r *client.Result) map[string]any {
	out := map[string]any{
		"code":      uint32(r.Code),
		"code_name": r.Code.Name(),
		"tx_hash":   hex.EncodeToString(r.TxHash),
		"height":    r.Height,
	}
	if r.Replayed {
		out["replayed"] = true
	}
	if r.IdempotencyKey != "" {
		out["idempotency_key"] = r.IdempotencyKey
	}
	if !r.OK() {
		out["log"] = r.Log
		if r.ConflictWith != nil {
			out["conflict_with"] = hex.EncodeToString(r.ConflictWith)
		}
		return out
	}
	if r.Data == nil {
		return out
	}
	switch d := r.Data.Result.(type) {
	case *types.TxResultData_Purchase:
		p := d.Purchase
		out["purchase_id"] = hex.EncodeToString(p.PurchaseId)
		out["points_issued"] = p.PointsIssued
		out["seller_payment_paise"] = p.SellerPaymentPaise
		out["seller_payment"] = types.FormatPaise(p.SellerPaymentPaise)
		out["expires_at"] = types.FormatUnix(p.ExpiresAt)
		out["expires_at_unix"] = p.ExpiresAt
		out["balance"] = p.Balance
		if p.CrmsReason != "" {
			out["crms_violation"] = p.CrmsViolation
			out["crms_reason"] = p.CrmsReason
		}
		programFields(out, p)
	case *types.TxResultData_Redeem:
		x := d.Redeem
		out["redemption_id"] = hex.EncodeToString(x.RedemptionId)
		out["points_redeemed"] = x.PointsRedeemed
		out["same_seller_points"] = x.SameSellerPoints
		out["cross_seller_points"] = x.CrossSellerPoints
		out["system_payment_paise"] = x.SystemPaymentPaise
		out["system_payment"] = types.FormatPaise(x.SystemPaymentPaise)
		out["discount_paise"] = x.DiscountPaise
		out["balance"] = x.Balance
		out["authorised_by"] = x.AuthorisedBy
	case *types.TxResultData_Refund:
		x := d.Refund
		out["refunded_paise"] = x.RefundedPaise
		out["points_clawed_back"] = x.PointsClawedBack
		out["points_shortfall"] = x.PointsShortfall
		out["seller_credit_paise"] = x.SellerCreditPaise
		out["balance"] = x.Balance
		if x.ReferrerClawedBack+x.ReferrerShortfall > 0 {
			out["referrer_clawed_back"], out["referrer_shortfall"] = x.ReferrerClawedBack, x.ReferrerShortfall
		}
	case *types.TxResultData_Void:
		x := d.Void
		out["points_restored"] = x.PointsRestored
		out["points_expired"] = x.PointsExpired
		out["seller_debit_paise"] = x.SellerDebitPaise
		out["balance"] = x.Balance
	case *types.TxResultData_Propose:
		out["proposal_id"] = d.Propose.ProposalId
		out["executed"] = d.Propose.Executed
	case *types.TxResultData_ImportBalances:
		x := d.ImportBalances
		out["rows"] = x.Rows
		out["points_imported"] = x.Points
		out["seller_payment_paise"] = x.SellerPaymentPaise
		out["seller_payment"] = types.FormatPaise(x.SellerPaymentPaise)
		out["remaining_points"] = x.RemainingPoints
		out["file_booked_rows"] = x.FileBookedRows
		out["file_rows"] = x.FileRows
	case *types.TxResultData_Vote:
		out["proposal_id"] = d.Vote.ProposalId
		out["yes"] = d.Vote.Yes
		out["no"] = d.Vote.No
		out["executed"] = d.Vote.Executed
	case *types.TxResultData_Campaign:
		x := d.Campaign
		out["seller_id"], out["campaign_id"], out["name"] = x.SellerId, x.CampaignId, x.Name
		out["campaign_status"] = types.CampaignStatusName(x.Status)
		out["spent_points"], out["budget_points"] = x.SpentPoints, x.BudgetPoints
	}
	return out
}

// nano renders a 1e-9 fixed-point value as an exact JSON decimal.
func nano(v int64) json.Number { return json.Number(types.DecimalText(v)) }

// programFields adds a purchase's program outcome (SPEC §5.7, §5.9) when
// there is one: base and bonus points, the campaign, why a bonus fell
// short, and until when the points are pending.
func programFields(out map[string]any, p *types.PurchaseResult) {
	if p.BonusPoints > 0 || p.NoBonusReason != "" {
		out["base_points"], out["bonus_points"] = p.BasePoints, p.BonusPoints
	}
	if p.Campaign != "" {
		out["campaign"], out["campaign_id"] = p.Campaign, p.CampaignId
	}
	if p.NoBonusReason != "" {
		out["no_bonus_reason"] = p.NoBonusReason
	}
	if p.PendingUntil != 0 {
		out["pending_until"] = types.FormatUnix(p.PendingUntil)
		out["pending_until_unix"] = p.PendingUntil
	}
	if p.RefereePoints+p.ReferrerPoints > 0 {
		out["referee_points"], out["referrer_points"] = p.RefereePoints, p.ReferrerPoints
	}
	if p.ReferralCode != "" {
		out["referral_code"] = p.ReferralCode // the customer's own, to share
	}
}

// decisionFields is the JSON of a CRMS decision.
func decisionFields(d *types.DecisionResponse) map[string]any {
	out := map[string]any{
		"customer_id":        d.CustomerId,
		"seller_id":          d.SellerId,
		"amount_paise":       d.AmountPaise,
		"cvm_required":       d.CvmRequired,
		"reputation":         nano(d.ReputationNano),
		"risk_max":           nano(d.RiskMaxNano),
		"skip_limit_paise":   d.SkipLimitPaise,
		"skip_limit":         types.FormatPaise(d.SkipLimitPaise),
		"reason":             d.Reason,
		"epoch_risk_used":    nano(d.EpochRiskUsedNano),
		"payments_on_record": d.Payments,
	}
	if d.RiskNano == math.MaxInt64 {
		out["risk"] = "infinite"
	} else {
		out["risk"] = nano(d.RiskNano)
	}
	return out
}

// lotFields is the JSON of one lot.
func lotFields(l *types.Lot) map[string]any {
	out := map[string]any{
		"issuer":          l.Issuer,
		"points":          l.Points,
		"issued_at":       types.FormatUnix(l.IssuedAt),
		"issued_at_unix":  l.IssuedAt,
		"expires_at":      types.FormatUnix(l.ExpiresAt),
		"expires_at_unix": l.ExpiresAt,
		"imported":        l.Imported, // from the issuer's existing program (SPEC §5.6)
	}
	if l.PendingUntil != 0 {
		out["pending_until"], out["pending_until_unix"] = types.FormatUnix(l.PendingUntil), l.PendingUntil
	}
	if l.CampaignId != 0 {
		out["campaign_id"] = l.CampaignId
	}
	return out
}

// balanceFields is the JSON of a balance answer.
func balanceFields(b *types.BalanceResponse, height int64) map[string]any {
	lots := make([]map[string]any, 0, len(b.Lots))
	for _, l := range b.Lots {
		lots = append(lots, lotFields(l))
	}
	out := map[string]any{"customer_id": b.CustomerId, "points": b.Points, "lots": lots, "height": height}
	if b.PendingPoints > 0 {
		out["pending_points"], out["available_points"] = b.PendingPoints, b.AvailablePoints
	}
	if t := b.Tier; t != nil && (t.Tier != "" || t.NextTier != "") {
		out["tier"], out["tier_spend_paise"] = t.Tier, t.SpendPaise
		if t.NextTier != "" {
			out["next_tier"], out["next_tier_needs_paise"] = t.NextTier, t.NextTierNeedsPaise
		}
	}
	if len(b.WalletPubkey) > 0 {
		out["wallet_pubkey"] = hex.EncodeToString(b.WalletPubkey)
	}
	return out
}

// sellerFields is the JSON of a seller answer.
func sellerFields(r *types.SellerResponse) map[string]any {
	s := r.Seller
	terms := make([]map[string]any, 0, len(r.Terminals))
	for _, t := range r.Terminals {
		terms = append(terms, map[string]any{
			"terminal_id": t.TerminalId, "pubkey": hex.EncodeToString(t.Pubkey),
			"status":            types.TerminalStatuses.Name(t.Status),
			"registered_height": t.RegisteredHeight, "revoked_height": t.RevokedHeight,
		})
	}
	return map[string]any{
		"seller_id": s.SellerId, "name": s.Name,
		"status":         types.SellerStatuses.Name(s.Status),
		"position_paise": s.PositionPaise,
		"position":       types.FormatSignedPaise(s.PositionPaise),
		"direction":      types.DirectionName(s.PositionPaise),
		"earn_rate_bps":  s.EarnRateBps,
		// The rate its purchases use now: its own, or the governed default.
		"effective_earn_rate_bps": r.EffectiveEarnRateBps,
		"risk_max":                nano(s.RiskMaxNano),
		// What its decisions use now: its own Risk_max (clamped into the
		// governed bounds), or the governed default.
		"effective_risk_max":  nano(r.EffectiveRiskMaxNano),
		"risk_max_is_default": r.RiskMaxIsDefault,
		"risk_max_clamped":    r.RiskMaxClamped,
		"operator_pubkey":     hex.EncodeToString(s.OperatorPubkey), "validator_pubkey": hex.EncodeToString(s.ValidatorPubkey),
		"node_id": s.NodeId, "peer_id": s.PeerId, "p2p_address": s.P2PAddress,
		"validator_power": s.ValidatorPower, "joined_height": s.JoinedHeight,
		"terminals":  terms,
		"open_epoch": epochFields(r.OpenEpoch),
	}
}

// epochFields is the JSON of a seller's epoch activity.
func epochFields(e *types.SellerEpoch) map[string]any {
	if e == nil {
		e = &types.SellerEpoch{}
	}
	return map[string]any{
		"net_paise": e.NetPaise, "issued_points": e.IssuedPoints,
		"redeemed_same_points": e.RedeemedSamePoints, "redeemed_cross_points": e.RedeemedCrossPoints,
		"clawed_back_points": e.ClawedBackPoints, "refund_shortfall_points": e.RefundShortfallPoints,
		"expired_points": e.ExpiredPoints, "voided_points": e.VoidedPoints, "imported_points": e.ImportedPoints,
		"crms_risk_used": nano(e.RiskUsedNano), "crms_skips": e.CrmsSkips, "crms_violations": e.CrmsViolations,
		"bonus_points": e.BonusPoints, "referral_points": e.ReferralPoints, "released_points": e.ReleasedPoints,
	}
}

// totalsFields is the JSON of the chain totals.
func totalsFields(t *types.Totals) map[string]any {
	return map[string]any{
		"outstanding_points": t.OutstandingPoints, "escrow_paise": t.EscrowPaise, "escrow": types.FormatPaise(t.EscrowPaise),
		"issued_points": t.IssuedPoints, "redeemed_points": t.RedeemedPoints, "clawed_back_points": t.ClawedBackPoints,
		"expired_points": t.ExpiredPoints, "customers": t.Customers, "lots": t.Lots, "purchases": t.Purchases,
		"redemptions": t.Redemptions, "statements": t.Statements,
	}
}

// statementFields is the JSON of a settlement statement.
func statementFields(s *types.Statement) map[string]any {
	lines := make([]map[string]any, 0, len(s.Lines))
	for _, l := range s.Lines {
		m := epochFields(l.Activity)
		m["seller_id"] = l.SellerId
		m["net_paise"] = l.NetPaise
		m["net"] = types.FormatSignedPaise(l.NetPaise)
		m["direction"] = types.DirectionName(l.NetPaise)
		m["status"] = types.LineStatuses.Name(l.Status)
		m["bank_reference"] = l.BankReference
		m["confirmed_height"] = l.ConfirmedHeight
		lines = append(lines, m)
	}
	return map[string]any{
		"epoch": s.Epoch, "start": types.FormatUnix(s.StartTime), "start_unix": s.StartTime,
		"end": types.FormatUnix(s.EndTime), "end_unix": s.EndTime, "start_height": s.StartHeight,
		"closed_height": s.ClosedHeight, "outstanding_points": s.OutstandingPoints, "escrow_paise": s.EscrowPaise,
		"outstanding_lines": s.OutstandingLines, "lines": lines,
	}
}

// proposalFields is the JSON of a proposal.
func proposalFields(p *types.Proposal, m *types.MsgPropose) map[string]any {
	action, target := types.ProposalKindName(m), ""
	switch a := m.Action.(type) {
	case *types.MsgPropose_AddSeller:
		target = a.AddSeller.SellerId
	case *types.MsgPropose_RemoveSeller:
		target = a.RemoveSeller
	case *types.MsgPropose_SuspendSeller:
		target = a.SuspendSeller
	case *types.MsgPropose_ReinstateSeller:
		target = a.ReinstateSeller
	case *types.MsgPropose_SoftwareUpgrade:
		target = fmt.Sprintf("%s@%d", a.SoftwareUpgrade.GetName(), a.SoftwareUpgrade.GetHeight())
	case *types.MsgPropose_CancelUpgrade:
		target = a.CancelUpgrade.GetName()
	}
	return map[string]any{
		"id": p.Id, "proposer": p.Proposer, "description": p.Description, "action": action, "target": target,
		"status": types.ProposalStatuses.Name(p.Status),
		"yes":    p.Yes, "no": p.No, "submitted_height": p.SubmittedHeight, "expires_height": p.ExpiresHeight,
		"decided_height": p.DecidedHeight, "result": p.Result,
	}
}
