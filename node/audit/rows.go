package audit

import (
	"sort"

	"github.com/bytepoints/bytepoints/types"
)

// Line statuses as the rows spell them (types.LineStatuses).
var (
	statusNothingDue  = types.LineStatuses.Name(types.LineStatus_LINE_STATUS_NOTHING_DUE)
	statusOutstanding = types.LineStatuses.Name(types.LineStatus_LINE_STATUS_OUTSTANDING)
	statusConfirmed   = types.LineStatuses.Name(types.LineStatus_LINE_STATUS_CONFIRMED)
)

// StatementRow is one seller's line of one epoch's statement. Its JSON
// names are the CSV header, in this order.
type StatementRow struct {
	// Party is "seller" for a statement line, or "escrow" for the escrow's
	// own row: its net is its change over the epoch (positive = it received),
	// so every epoch's rows sum to zero.
	Party          string `json:"party"`
	Epoch          uint64 `json:"epoch"`
	EpochStart     string `json:"epoch_start"` // UTC date of the epoch's first second
	EpochEnd       string `json:"epoch_end"`   // UTC date of its last second
	EpochStartTime string `json:"epoch_start_time"`
	EpochEndTime   string `json:"epoch_end_time"` // the boundary that closed it (exclusive)
	StartHeight    int64  `json:"start_height"`
	ClosedHeight   int64  `json:"closed_height"`
	SellerID       string `json:"seller_id"`
	Net            string `json:"net_rupees"`
	NetPaise       int64  `json:"net_paise"`
	Direction      string `json:"direction"`
	Issued         uint64 `json:"points_issued"`
	RedeemedSame   uint64 `json:"points_redeemed_same"`
	RedeemedCross  uint64 `json:"points_redeemed_cross"`
	Refunded       uint64 `json:"points_refunded"` // clawed back by refunds
	Shortfall      uint64 `json:"points_refund_shortfall"`
	Expired        uint64 `json:"points_expired"`
	Voided         uint64 `json:"points_voided"`
	Status         string `json:"status"` // nothing-due, outstanding, confirmed (types.LineStatuses)
	BankReference  string `json:"bank_reference"`
	ConfirmedAt    int64  `json:"confirmed_height"`
	Proof
}

func utcDate(unix int64) string { return types.FormatDate(unix) }
func utcTime(unix int64) string { return types.FormatUnix(unix) }

// Parties of statement rows.
const (
	PartySeller = "seller"
	PartyEscrow = "escrow"
)

// EscrowRow is the escrow's row of a statement: its change over the epoch,
// from the escrow at the previous close (known: the epoch summary's
// EscrowChangePaise), proven with the statement.
func EscrowRow(s *types.Statement, change int64, p Proof) StatementRow {
	end := s.EndTime - 1
	if end < s.StartTime {
		end = s.StartTime
	}
	return StatementRow{Party: PartyEscrow, Epoch: s.Epoch, EpochStart: utcDate(s.StartTime), EpochEnd: utcDate(end),
		EpochStartTime: utcTime(s.StartTime), EpochEndTime: utcTime(s.EndTime), StartHeight: s.StartHeight, ClosedHeight: s.ClosedHeight,
		Net: types.FormatSignedPaise(change), NetPaise: change, Direction: types.DirectionName(change), Status: statusNothingDue, Proof: p}
}

// StatementRows are a proven statement's lines, in the statement's order.
func StatementRows(s *types.Statement, p Proof) []StatementRow {
	rows := make([]StatementRow, 0, len(s.Lines))
	end := s.EndTime - 1 // the last second the epoch covers
	if end < s.StartTime {
		end = s.StartTime
	}
	for _, l := range s.Lines {
		a := l.Activity
		if a == nil {
			a = &types.SellerEpoch{}
		}
		r := StatementRow{
			Party: PartySeller, Epoch: s.Epoch, EpochStart: utcDate(s.StartTime), EpochEnd: utcDate(end),
			EpochStartTime: utcTime(s.StartTime), EpochEndTime: utcTime(s.EndTime),
			StartHeight: s.StartHeight, ClosedHeight: s.ClosedHeight,
			SellerID: l.SellerId, Net: types.FormatSignedPaise(l.NetPaise), NetPaise: l.NetPaise, Direction: types.DirectionName(l.NetPaise),
			Issued: a.IssuedPoints, RedeemedSame: a.RedeemedSamePoints, RedeemedCross: a.RedeemedCrossPoints,
			Refunded: a.ClawedBackPoints, Shortfall: a.RefundShortfallPoints, Expired: a.ExpiredPoints, Voided: a.VoidedPoints,
			Status: types.LineStatuses.Name(l.Status), Proof: p,
		}
		if l.Status == types.LineStatus_LINE_STATUS_CONFIRMED {
			r.BankReference, r.ConfirmedAt = l.BankReference, l.ConfirmedHeight
		}
		rows = append(rows, r)
	}
	return rows
}

// ConfirmationRow is a statement line its seller confirmed.
type ConfirmationRow struct {
	Epoch         uint64 `json:"epoch"`
	SellerID      string `json:"seller_id"`
	Net           string `json:"net_rupees"`
	NetPaise      int64  `json:"net_paise"`
	Direction     string `json:"direction"`
	BankReference string `json:"bank_reference"`
	ConfirmedAt   int64  `json:"confirmed_height"`
	Proof
}

// Confirmations are the confirmed lines among rows, in their order.
func Confirmations(rows []StatementRow) []ConfirmationRow {
	out := []ConfirmationRow{}
	for _, r := range rows {
		if r.Status != statusConfirmed {
			continue
		}
		out = append(out, ConfirmationRow{Epoch: r.Epoch, SellerID: r.SellerID, Net: r.Net, NetPaise: r.NetPaise,
			Direction: r.Direction, BankReference: r.BankReference, ConfirmedAt: r.ConfirmedAt, Proof: r.Proof})
	}
	return out
}

// LiabilityRow is one seller's position at the height it was proven at,
// and what of it the report's statements leave unconfirmed.
type LiabilityRow struct {
	SellerID string `json:"seller_id"`
	Status   string `json:"seller_status"`
	// The cumulative position since genesis: negative = the seller owes
	// the escrow the value of points it issued and nobody redeemed yet.
	Position      string `json:"position_rupees"`
	PositionPaise int64  `json:"position_paise"`
	Direction     string `json:"direction"`
	// The open epoch's net so far (not in any statement yet).
	OpenNet      string `json:"open_epoch_net_rupees"`
	OpenNetPaise int64  `json:"open_epoch_net_paise"`
	// Lines of the report's epochs still awaiting the seller's
	// confirmation, and the sum of their nets (as the statements were read).
	OutstandingLines int    `json:"outstanding_lines"`
	Outstanding      string `json:"outstanding_rupees"`
	OutstandingPaise int64  `json:"outstanding_paise"`
	ConfirmedLines   int    `json:"confirmed_lines"`
	Proof
}

// Liabilities are the sellers' rows, by seller id, with the outstanding
// lines counted from rows.
func Liabilities(sellers []ProvenSeller, rows []StatementRow) []LiabilityRow {
	type due struct {
		lines, confirmed int
		paise            int64
	}
	dues := map[string]*due{}
	for _, r := range rows {
		d := dues[r.SellerID]
		if d == nil {
			d = &due{}
			dues[r.SellerID] = d
		}
		switch r.Status {
		case statusOutstanding:
			d.lines++
			d.paise += r.NetPaise
		case statusConfirmed:
			d.confirmed++
		}
	}
	out := make([]LiabilityRow, 0, len(sellers))
	for _, ps := range sellers {
		s := ps.Seller.Seller
		if s == nil {
			continue
		}
		open := ps.Seller.OpenEpoch
		if open == nil {
			open = &types.SellerEpoch{}
		}
		d := dues[s.SellerId]
		if d == nil {
			d = &due{}
		}
		out = append(out, LiabilityRow{
			SellerID: s.SellerId, Status: types.SellerStatuses.Name(s.Status),
			Position: types.FormatSignedPaise(s.PositionPaise), PositionPaise: s.PositionPaise, Direction: types.DirectionName(s.PositionPaise),
			OpenNet: types.FormatSignedPaise(open.NetPaise), OpenNetPaise: open.NetPaise,
			OutstandingLines: d.lines, Outstanding: types.FormatSignedPaise(d.paise), OutstandingPaise: d.paise,
			ConfirmedLines: d.confirmed, Proof: ps.Proof,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SellerID < out[j].SellerID })
	return out
}

// EpochSummary is one epoch's conservation check: what the sellers' nets
// add up to must be what left the escrow, Σ net + Δ escrow = 0.
type EpochSummary struct {
	Epoch        uint64 `json:"epoch"`
	ClosedHeight int64  `json:"closed_height"`
	Lines        int    `json:"lines"`
	NetSumPaise  int64  `json:"net_sum_paise"`
	EscrowPaise  uint64 `json:"escrow_paise"` // at the close
	// EscrowChangePaise is the escrow's change over the epoch; nil when the
	// escrow before it is unknown (the previous statement is not in the
	// report and not the epoch before From).
	EscrowChangePaise *int64 `json:"escrow_change_paise"`
	// Balanced: NetSumPaise + EscrowChangePaise = 0; nil when unknown.
	Balanced *bool `json:"balanced"`
	Proof
}

// EpochSummaries checks conservation for each statement (ascending), from
// the escrow before the first (nil = unknown) and each previous one.
func EpochSummaries(sts []ProvenStatement, escrowBefore *uint64) []EpochSummary {
	out := make([]EpochSummary, 0, len(sts))
	prev := escrowBefore
	for _, ps := range sts {
		s := ps.Statement
		e := EpochSummary{Epoch: s.Epoch, ClosedHeight: s.ClosedHeight, Lines: len(s.Lines), EscrowPaise: s.EscrowPaise, Proof: ps.Proof}
		for _, l := range s.Lines {
			e.NetSumPaise += l.NetPaise
		}
		if prev != nil {
			ch := int64(s.EscrowPaise) - int64(*prev)
			ok := e.NetSumPaise+ch == 0
			e.EscrowChangePaise, e.Balanced = &ch, &ok
		}
		esc := s.EscrowPaise
		prev = &esc
		out = append(out, e)
	}
	return out
}
