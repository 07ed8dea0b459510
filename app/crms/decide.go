package crms

import (
	"math"
	"math/bits"
)

// Reason codes of a Decision. Stable: they reach clients, logs and metrics.
const (
	ReasonSkip            = "skip"             // verification may be skipped
	ReasonNewCard         = "new_card"         // no history at all (Evaluate only)
	ReasonLowReputation   = "low_reputation"   // R ≤ Rmin: f(R) = ∞
	ReasonAboveHardCap    = "above_hard_cap"   // amount > HardCapPaise
	ReasonRiskAboveMax    = "risk_above_max"   // risk > Risk_max(context)
	ReasonBudgetExhausted = "budget_exhausted" // epoch risk + risk > budget
	ReasonInvalidParams   = "invalid_params"   // package-level Decide with bad Params
)

// riskInfinite stands for f(R) = ∞ and for any risk too large for int64.
const riskInfinite = int64(math.MaxInt64)

// Decision is the CRMS answer for one payment (SPEC §6.3). When several
// conditions fail, Reason names the first in this order: new_card /
// low_reputation, above_hard_cap, risk_above_max, budget_exhausted.
type Decision struct {
	CVMRequired    bool
	R              int64  // reputation used, nano
	Risk           int64  // risk of this payment, nano, rounded up; MaxInt64 = ∞
	RiskMax        int64  // Risk_max(context) = Risk_max × multiplier, nano, rounded down
	SkipLimitPaise uint64 // largest amount that would skip now (0 if none)
	Reason         string
}

// Risk returns risk = amount_rupees · p · a/(b·R) in nano, rounded up so the
// ledger never under-counts risk taken; MaxInt64 when R ≤ Rmin (f = ∞) or
// the value exceeds int64. R above Rmax is treated as Rmax.
//
// With amount in paise and p, a, b, R in nano:
//
//	risk_nano = amount · P·A·1e7 / (B · R)
//
// P·A·1e7 < 2^94 and B·R < 2^64 by Validate, so the product with the amount
// either fits 128 bits or (if it does not) the quotient exceeds 2^64 anyway.
func (e *Engine) Risk(r int64, amountPaise uint64) int64 {
	if r <= e.p.Rmin {
		return riskInfinite
	}
	r = min(r, e.p.Rmax)
	num, over := e.riskNum.mul64(amountPaise)
	if over {
		return riskInfinite
	}
	q, rem := num.quoRem64(uint64(e.p.B) * uint64(r))
	if rem != 0 {
		q, over = q.add(u128{0, 1})
	}
	if over || q.hi != 0 || q.lo > math.MaxInt64 {
		return riskInfinite
	}
	return int64(q.lo)
}

// contextMultiplier maps the terminal's context (nano; 0 = none = 1.0) into
// [ContextMin, ContextMax].
func (e *Engine) contextMultiplier(c int64) int64 {
	if c == 0 {
		return Nano
	}
	return min(max(c, e.p.ContextMin), e.p.ContextMax)
}

// Decide applies SPEC §6.3 to a reputation r (nano) and a payment of
// amountPaise, for a seller whose Risk_max is riskMaxNano and which has used
// epochRiskUsedNano of its epoch budget; contextNano is the terminal's
// multiplier (0 = 1.0; clamped to [ContextMin, ContextMax]). Negative
// riskMaxNano or epochRiskUsedNano count as 0.
//
//	skip ⇔ risk ≤ Risk_max·m ∧ used + risk ≤ EpochRiskBudget ∧ amount ≤ HardCap
//
// SkipLimitPaise is the largest amount for which all three hold, computed
// exactly: risk(amt) ≤ L ⇔ amt·P·A·1e7 ≤ L·B·R with L = min(Risk_max·m,
// budget − used), so the limit is floor(L·B·R / (P·A·1e7)), capped by the
// hard cap.
func (e *Engine) Decide(r int64, amountPaise uint64, riskMaxNano, contextNano, epochRiskUsedNano int64) Decision {
	riskMaxNano = max(riskMaxNano, 0)
	used := max(epochRiskUsedNano, 0)
	m := e.contextMultiplier(contextNano)
	hi, lo := bits.Mul64(uint64(riskMaxNano), uint64(m))
	rm, _ := u128{hi, lo}.quoRem64(uint64(Nano))
	riskMax := riskInfinite
	if rm.hi == 0 && rm.lo <= math.MaxInt64 {
		riskMax = int64(rm.lo)
	}
	d := Decision{
		CVMRequired: true,
		R:           min(max(r, 0), e.p.Rmax),
		RiskMax:     riskMax,
	}
	if r <= e.p.Rmin {
		d.Risk = riskInfinite
		d.Reason = ReasonLowReputation
		return d
	}
	d.Risk = e.Risk(r, amountPaise)

	budgetLeft := e.p.EpochRiskBudget - used // both ≥ 0: cannot overflow
	limit := min(riskMax, budgetLeft)
	if limit >= 0 {
		l := mul64x64(uint64(limit), uint64(e.p.B)*uint64(d.R))
		q, _ := l.quoRem(e.riskNum)
		d.SkipLimitPaise = e.p.HardCapPaise
		if q.hi == 0 && q.lo < d.SkipLimitPaise {
			d.SkipLimitPaise = q.lo
		}
	}

	switch {
	case amountPaise > e.p.HardCapPaise:
		d.Reason = ReasonAboveHardCap
	case d.Risk > riskMax:
		d.Reason = ReasonRiskAboveMax
	case d.Risk > budgetLeft:
		d.Reason = ReasonBudgetExhausted
	default:
		d.CVMRequired = false
		d.Reason = ReasonSkip
	}
	return d
}

// Evaluate is the whole decision for a payment of amountPaise at tNowMs by a
// card with the given history: ReputationAt, then Decide. An empty history
// reports ReasonNewCard.
func (e *Engine) Evaluate(history []Flow, tNowMs int64, amountPaise uint64, riskMaxNano, contextNano, epochRiskUsedNano int64) Decision {
	d := e.Decide(e.ReputationAt(history, tNowMs), amountPaise, riskMaxNano, contextNano, epochRiskUsedNano)
	if len(history) == 0 {
		d.Reason = ReasonNewCard
	}
	return d
}

// Decide is Engine.Decide for one-off use; it validates p (cheap) but does
// not need the rank tables. Invalid params require CVM with
// ReasonInvalidParams.
func Decide(p Params, r int64, amountPaise uint64, riskMaxNano, contextNano, epochRiskUsedNano int64) Decision {
	if err := p.Validate(); err != nil {
		return Decision{CVMRequired: true, Risk: riskInfinite, Reason: ReasonInvalidParams}
	}
	pa := mul64x64(uint64(p.P), uint64(p.A))
	num, _ := pa.mul64(10_000_000)
	e := Engine{p: p, riskNum: num}
	return e.Decide(r, amountPaise, riskMaxNano, contextNano, epochRiskUsedNano)
}
