package client

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/bytepoints/bytepoints/types"
)

// Fields flattens a result into the JSON object the CLI and the gateway
// print. Field names are a contract with integrators: add, never rename.
func Fields(r *Result) map[string]any {
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
	}
	return out
}

// Nano renders a 1e-9 fixed-point value as an exact JSON decimal.
func Nano(v int64) json.Number {
	if v == math.MaxInt64 {
		return json.Number("1e999") // unreachable for JSON consumers: documented as infinite
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	s := fmt.Sprintf("%d.%09d", u/1e9, u%1e9)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}

// DecisionFields is the JSON of a CRMS decision.
func DecisionFields(d *types.DecisionResponse) map[string]any {
	out := map[string]any{
		"customer_id":        d.CustomerId,
		"seller_id":          d.SellerId,
		"amount_paise":       d.AmountPaise,
		"cvm_required":       d.CvmRequired,
		"reputation":         Nano(d.ReputationNano),
		"risk_max":           Nano(d.RiskMaxNano),
		"skip_limit_paise":   d.SkipLimitPaise,
		"skip_limit":         types.FormatPaise(d.SkipLimitPaise),
		"reason":             d.Reason,
		"epoch_risk_used":    Nano(d.EpochRiskUsedNano),
		"payments_on_record": d.Payments,
	}
	if d.RiskNano == math.MaxInt64 {
		out["risk"] = "infinite"
	} else {
		out["risk"] = Nano(d.RiskNano)
	}
	return out
}

// LotFields is the JSON of one lot.
func LotFields(l *types.Lot) map[string]any {
	return map[string]any{
		"issuer":          l.Issuer,
		"points":          l.Points,
		"issued_at":       types.FormatUnix(l.IssuedAt),
		"issued_at_unix":  l.IssuedAt,
		"expires_at":      types.FormatUnix(l.ExpiresAt),
		"expires_at_unix": l.ExpiresAt,
		"imported":        l.Imported, // from the issuer's existing program (SPEC §5.6)
	}
}

// BalanceFields is the JSON of a balance answer.
func BalanceFields(b *types.BalanceResponse, height int64) map[string]any {
	lots := make([]map[string]any, 0, len(b.Lots))
	for _, l := range b.Lots {
		lots = append(lots, LotFields(l))
	}
	out := map[string]any{"customer_id": b.CustomerId, "points": b.Points, "lots": lots, "height": height}
	if len(b.WalletPubkey) > 0 {
		out["wallet_pubkey"] = hex.EncodeToString(b.WalletPubkey)
	}
	return out
}

// SellerFields is the JSON of a seller answer.
func SellerFields(r *types.SellerResponse) map[string]any {
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
		"risk_max":                Nano(s.RiskMaxNano),
		// What its decisions use now: its own Risk_max (clamped into the
		// governed bounds), or the governed default.
		"effective_risk_max":  Nano(r.EffectiveRiskMaxNano),
		"risk_max_is_default": r.RiskMaxIsDefault,
		"risk_max_clamped":    r.RiskMaxClamped,
		"operator_pubkey":     hex.EncodeToString(s.OperatorPubkey), "validator_pubkey": hex.EncodeToString(s.ValidatorPubkey),
		"node_id": s.NodeId, "peer_id": s.PeerId, "p2p_address": s.P2PAddress,
		"validator_power": s.ValidatorPower, "joined_height": s.JoinedHeight,
		"terminals":  terms,
		"open_epoch": EpochFields(r.OpenEpoch),
	}
}

// EpochFields is the JSON of a seller's epoch activity.
func EpochFields(e *types.SellerEpoch) map[string]any {
	if e == nil {
		e = &types.SellerEpoch{}
	}
	return map[string]any{
		"net_paise": e.NetPaise, "issued_points": e.IssuedPoints,
		"redeemed_same_points": e.RedeemedSamePoints, "redeemed_cross_points": e.RedeemedCrossPoints,
		"clawed_back_points": e.ClawedBackPoints, "refund_shortfall_points": e.RefundShortfallPoints,
		"expired_points": e.ExpiredPoints, "voided_points": e.VoidedPoints, "imported_points": e.ImportedPoints,
		"crms_risk_used": Nano(e.RiskUsedNano), "crms_skips": e.CrmsSkips, "crms_violations": e.CrmsViolations,
	}
}

// TotalsFields is the JSON of the chain totals.
func TotalsFields(t *types.Totals) map[string]any {
	return map[string]any{
		"outstanding_points": t.OutstandingPoints, "escrow_paise": t.EscrowPaise, "escrow": types.FormatPaise(t.EscrowPaise),
		"issued_points": t.IssuedPoints, "redeemed_points": t.RedeemedPoints, "clawed_back_points": t.ClawedBackPoints,
		"expired_points": t.ExpiredPoints, "customers": t.Customers, "lots": t.Lots, "purchases": t.Purchases,
		"redemptions": t.Redemptions, "statements": t.Statements,
	}
}

// StatementFields is the JSON of a settlement statement.
func StatementFields(s *types.Statement) map[string]any {
	lines := make([]map[string]any, 0, len(s.Lines))
	for _, l := range s.Lines {
		m := EpochFields(l.Activity)
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

// ProposalFields is the JSON of a proposal.
func ProposalFields(p *types.Proposal, m *types.MsgPropose) map[string]any {
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
	}
	return map[string]any{
		"id": p.Id, "proposer": p.Proposer, "description": p.Description, "action": action, "target": target,
		"status": types.ProposalStatuses.Name(p.Status),
		"yes":    p.Yes, "no": p.No, "submitted_height": p.SubmittedHeight, "expires_height": p.ExpiresHeight,
		"decided_height": p.DecidedHeight, "result": p.Result,
	}
}
