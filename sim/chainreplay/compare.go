package chainreplay

import (
	"fmt"
	"math"
	"strconv"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
)

// The comparison: pure functions of what the chain answered and what the
// offline engine decides, so every rule is unit-tested without a node.

// Outcome is what the chain did with one purchase: its result code, and for
// a booked one the PurchaseResult and the crms event (flow-7 rows).
type Outcome struct {
	Code     types.Code
	Log      string
	Hash     []byte
	Height   int64
	Replayed bool // booked by an earlier run: this is the original's result
	Purchase *types.PurchaseResult
	// From the purchase's crms event (a re-checked flow-7 row).
	HasCRMS        bool
	CRMSReputation int64
	CRMSRisk       int64
}

// Flow7Check is what the offline side knows of a flow-7 row before the
// chain re-checked it: the card's reputation at the row's time (the card's
// earlier rows only) and the seller's Risk_max and epoch risk used.
type Flow7Check struct {
	Row         int
	R           int64
	RiskMax     int64
	Used        int64
	BudgetKnown bool // false for a replayed row: the budget it met is gone
	NewCard     bool // no history before the row: the chain's reason is new_card
}

// SellerRisk mirrors the seller's epoch risk total the way the app keeps it:
// observed on chain once, then each re-check charges its risk with
// crms.ChargeBudget, and a new epoch starts at 0.
type SellerRisk struct {
	Known   bool
	Epoch   uint64
	Used    int64
	RiskMax int64
}

// Charge applies a re-check executed in epoch: it returns the epoch risk the
// re-check met and charges risk (nano) to the mirror, saturating at budget.
func (s *SellerRisk) Charge(epoch uint64, risk, budget int64) (before int64) {
	if epoch != s.Epoch {
		s.Epoch, s.Used = epoch, 0
	}
	before = s.Used
	s.Used = crms.ChargeBudget(s.Used, risk, budget)
	return before
}

// CheckFlow7 compares the chain's re-check of a flow-7 purchase of amount
// with the offline decision. A replayed row's budget input is gone: then
// only R, risk and a verdict consistent with some budget are checked (the
// chain may refuse for the budget where an unused budget would skip).
func CheckFlow7(eng *crms.Engine, row *Row, amount uint64, c Flow7Check, o *Outcome) []Mismatch {
	var out []Mismatch
	bad := func(field, chain, off string) {
		out = append(out, Mismatch{Kind: KindFlow7, Card: row.Trace.Card, Line: row.Line, Field: field, Chain: chain, Offline: off})
	}
	if o.Purchase == nil || !o.HasCRMS {
		bad("crms_event", "missing", "a re-check (the flow is no-cvm-crms)")
		return out
	}
	d := eng.Decide(c.R, amount, c.RiskMax, 0, c.Used)
	if c.NewCard {
		d.Reason = crms.ReasonNewCard
	}
	if o.CRMSReputation != c.R {
		bad("reputation_nano", strconv.FormatInt(o.CRMSReputation, 10), strconv.FormatInt(c.R, 10))
	}
	if o.CRMSRisk != d.Risk {
		bad("risk_nano", strconv.FormatInt(o.CRMSRisk, 10), strconv.FormatInt(d.Risk, 10))
	}
	if c.BudgetKnown {
		if o.Purchase.CrmsViolation != d.CVMRequired {
			bad("crms_violation", strconv.FormatBool(o.Purchase.CrmsViolation), strconv.FormatBool(d.CVMRequired))
		}
		if o.Purchase.CrmsReason != d.Reason {
			bad("crms_reason", o.Purchase.CrmsReason, d.Reason)
		}
		return out
	}
	d0 := eng.Decide(c.R, amount, c.RiskMax, 0, 0)
	if c.NewCard {
		d0.Reason = crms.ReasonNewCard
	}
	got := o.Purchase.CrmsReason
	consistent := got == d0.Reason || (d0.Reason == crms.ReasonSkip && got == crms.ReasonBudgetExhausted)
	if !consistent || o.Purchase.CrmsViolation != (got != crms.ReasonSkip) {
		bad("crms_reason", fmt.Sprintf("%s (violation %v)", got, o.Purchase.CrmsViolation), d0.Reason+" with an unused budget")
	}
	return out
}

// CardState is the offline side of one card at the time of the chain's
// answer: its reputation then, whether it has any history, and how many of
// its purchases the chain booked.
type CardState struct {
	R          int64
	HasHistory bool
	Payments   uint64
}

// CompareCard compares the chain's decision query for card (probe amount,
// the seller's riskMax, the epoch risk the answer reports) with the offline
// state.
func CompareCard(eng *crms.Engine, card string, probe uint64, riskMax int64, a *types.DecisionResponse, off CardState) []Mismatch {
	d := eng.Decide(off.R, probe, riskMax, 0, a.EpochRiskUsedNano)
	if !off.HasHistory {
		d.Reason = crms.ReasonNewCard
	}
	if d.Risk < 0 {
		d.Risk = math.MaxInt64
	}
	var out []Mismatch
	cmp := func(field string, chain, offline any) {
		if c, o := fmt.Sprint(chain), fmt.Sprint(offline); c != o {
			out = append(out, Mismatch{Kind: KindCard, Card: card, Field: field, Chain: c, Offline: o})
		}
	}
	cmp("reputation_nano", a.ReputationNano, off.R)
	cmp("cvm_required", a.CvmRequired, d.CVMRequired)
	cmp("reason", a.Reason, d.Reason)
	cmp("risk_nano", a.RiskNano, d.Risk)
	cmp("risk_max_nano", a.RiskMaxNano, d.RiskMax)
	cmp("skip_limit_paise", a.SkipLimitPaise, d.SkipLimitPaise)
	cmp("payments", a.Payments, off.Payments)
	return out
}

// Tally counts the rows' outcomes into rep (committed, replayed, failed,
// points issued) and lists every purchase that was not booked. Every row
// must have an outcome.
func Tally(rep *Report, rows []Row, outcomes []*Outcome) {
	for i := range rows {
		r, o := &rows[i], outcomes[i]
		switch {
		case o.Code != types.CodeOK:
			rep.Failed++
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: KindFailed, Card: r.Trace.Card, Line: r.Line, Field: "code",
				Chain: o.Code.Name() + ": " + o.Log, Offline: "ok"})
		case o.Replayed:
			rep.Replayed++
		default:
			rep.Committed++
			if o.Purchase != nil {
				rep.PointsIssued += o.Purchase.PointsIssued
			}
		}
	}
}

// CheckFlow7Rows runs CheckFlow7 over every flow-7 row the chain booked and
// counts the results into rep.
func CheckFlow7Rows(rep *Report, eng *crms.Engine, rows []Row, outcomes []*Outcome, checks []Flow7Check) {
	for _, c := range checks {
		r, o := &rows[c.Row], outcomes[c.Row]
		if o.Code != types.CodeOK {
			continue // counted as failed by Tally
		}
		rep.Flow7Checked++
		if o.Purchase != nil {
			rep.Flow7Reasons[o.Purchase.CrmsReason]++
		}
		if !c.BudgetKnown && o.Purchase != nil && o.HasCRMS {
			rep.Flow7BudgetUnverified++
		}
		ms := CheckFlow7(eng, r, r.Trace.AmountPaise, c, o)
		if len(ms) == 0 {
			rep.Flow7Matched++
		}
		rep.Mismatches = append(rep.Mismatches, ms...)
	}
}
