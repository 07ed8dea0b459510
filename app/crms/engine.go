package crms

import (
	"math/bits"
	"slices"
)

// Engine is a validated Params with everything that depends only on them
// precomputed: the normalised rank weights and the risk coefficient. Build it
// once per parameter set (NewEngine costs ~N erfc evaluations) and share it;
// its methods only read it and allocate nothing, so concurrent use is safe.
type Engine struct {
	p Params

	// rank[k] = ½erfc((k − x_m)/(√2·x_d)) in Q63 (halfErfcQ63, ≤ 200 ulp), and
	// norm = Σ_{k<N} rank[k] exactly (128 bits). ReputationAt divides its
	// weighted sum by norm once, at the end, so a full window of flows rated
	// 1 at the decision time gives exactly norm/norm = 1 (SPEC §6.3: the
	// calibration must not lose its last paisa to rounding).
	rank []uint64
	norm u128

	// timeScale = log2(e)·1e9/τ (1e9 because τ is in nano): multiplied by
	// gaps/span it turns a time difference in ms into the base-2 exponent of
	// exp(-Δt/(τ·AvgT)).
	timeScale mantExp

	// riskNum = P·A·1e7, so that risk_nano = ceil(amount_paise·riskNum /
	// (B·R_nano)). See risk.
	riskNum u128
}

// NewEngine validates p and precomputes the tables.
func NewEngine(p Params) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{p: p, rank: make([]uint64, p.N)}
	for k := range p.N {
		e.rank[k] = halfErfcQ63(rankArg(k, p.Xm, p.Xd))
		e.norm, _ = e.norm.add(u128{0, e.rank[k]}) // ≤ 200·2^63, no overflow
	}
	// norm ≥ rank[0] ≥ ½ because Xm ≥ 0: the final division in ReputationAt
	// is well-conditioned.
	e.timeScale = meDiv(log2eQ62, 1<<62).mul(uint64(Nano)).div(uint64(p.Tau))
	pa := mul64x64(uint64(p.P), uint64(p.A))
	e.riskNum, _ = pa.mul64(10_000_000) // < 1e28 < 2^94 by Validate
	return e, nil
}

// rankArg returns z = (k·1e9 − Xm)/(√2·Xd) as sign and Q56 magnitude,
// saturating at 2^64-1 (|z| ≥ 256, where ½erfc is exactly 0 or 1 in Q63).
func rankArg(k int, xm, xd int64) (bool, uint64) {
	num := int64(k)*Nano - xm // |num| ≤ 1e12: no overflow
	neg := num < 0
	mag := uint64(num)
	if neg {
		mag = uint64(-num)
	}
	hi, lo := bits.Mul64(mag, invSqrt2Q64) // |num|/√2 · 2^64
	hi, lo = hi>>8, hi<<56|lo>>8           // · 2^56
	if hi >= uint64(xd) {
		return neg, ^uint64(0)
	}
	z, _ := bits.Div64(hi, lo, uint64(xd))
	return neg, z
}

// Params returns the parameters the engine was built from.
func (e *Engine) Params() Params { return e.p }

// ReputationAt returns R_n (SPEC §6.2) in nano for a payment at tNowMs by a
// card whose recorded flows are history. The conventions:
//
//   - The payment being decided is n = len(window); it is not in history.
//     The window is the N most recent flows of history; the most recent has
//     rank n−i−1 = 0, the oldest rank len(window)−1.
//   - t_n = tNowMs. A flow later than tNowMs (possible while a late offline
//     payment is re-checked) is treated as simultaneous: Δt = 0, weight not
//     decayed, never > 1.
//   - AvgT is the mean gap between the past payments in the window:
//     (t_last − t_first)/(len(window) − 1), the extreme times of the
//     window's own flows. The payment being decided (or the "now" of a
//     decision query) is not part of it, so a card that goes quiet decays by
//     exp(−silence/(τ·AvgT)) and loses its reputation after long silence.
//     AvgT is floored at AvgTFloorMs (a burst of payments within minutes
//     must not make the decay clock run in minutes), and a window of one
//     flow has no gap at all: AvgT = AvgTFloorMs. It is kept as the exact
//     ratio span/gaps, never rounded to whole ms.
//   - An empty history (a new card) gives 0.
//   - history may be in any order and any length: it is read in canonical
//     order (time, then higher rating first), so equal multisets give equal
//     R. Sorted input — what Insert keeps — costs no copy; other input is
//     sorted into a scratch copy (one allocation).
//   - Ratings outside [0, 1e9] are clamped.
//
// Arithmetic: every exp is evaluated as base-2 mantissa and exponent, the
// (unnormalised) rank weight is multiplied in before the final shift, each
// weight rounded down; the sum of weight × rating is kept in 128 bits and
// divided by the normaliser once, rounding down (under-estimating R
// over-estimates risk), then clamped to [Rmin, Rmax]. An undecayed weight is
// the rank weight itself, unrounded, so N flows rated 1 at tNowMs sum to
// exactly 1e9 × the normaliser: R = Rmax exactly, and the skip limits of the
// published calibration are exact to the paisa.
func (e *Engine) ReputationAt(history []Flow, tNowMs int64) int64 {
	if len(history) == 0 {
		return e.clampR(0)
	}
	if !isCanonical(history) {
		history = canonicalCopy(history)
	}
	w := history[max(len(history)-e.p.N, 0):]

	// Canonical order puts the window's extreme times at its ends.
	span := uint64(w[len(w)-1].TimeMs) - uint64(w[0].TimeMs) // exact: last ≥ first
	gaps := uint64(len(w) - 1)
	floor := uint64(e.p.AvgTFloorMs)
	var scale mantExp // log2(e)/(τ·AvgT) per ms, times 1e9/1e9
	if gaps == 0 || span < floor*gaps {
		scale = e.timeScale.div(floor)
	} else {
		scale = e.timeScale.mul(gaps).div(span)
	}

	var acc u128
	last := len(w) - 1
	for i, f := range w {
		r := uint64(clampRating(f.RatingNano))
		v := e.rank[last-i]
		if r == 0 || v == 0 {
			continue
		}
		var wq uint64 // the flow's weight w_i, Q63 (unnormalised)
		if f.TimeMs >= tNowMs {
			wq = v
		} else {
			k, frac, ok := expArg(uint64(tNowMs)-uint64(f.TimeMs), scale)
			if !ok {
				continue // exp(-x) < 2^-64: no effect on R at 1e-9
			}
			wq = mulShift(exp2NegParts(frac), v, 63+k)
		}
		acc, _ = acc.add(mul64x64(wq, r)) // Σ ≤ 200·2^63·1e9 < 2^101
	}
	q, _ := acc.quoRem(e.norm) // ≤ 1e9: each wq ≤ its rank weight, Σ rank = norm
	return e.clampR(int64(q.lo))
}

// expArg splits y = dt·scale = dt·m·2^-e into its integer part k and its
// fraction in Q64, and reports false when k ≥ 64 (then 2^-y < 2^-64 and the
// weight is 0 at Q63).
func expArg(dt uint64, scale mantExp) (k uint, frac uint64, ok bool) {
	e := scale.e
	if e <= 0 {
		return 0, 0, dt == 0 // m ≥ 2^63: any dt ≥ 1 gives y ≥ 2^63
	}
	hi, lo := bits.Mul64(dt, scale.m)
	if e < 128 {
		ip := u128{hi, lo}.rsh(uint(e))
		if ip.hi != 0 || ip.lo >= 64 {
			return 0, 0, false
		}
		k = uint(ip.lo)
	}
	if e >= 64 {
		frac = shr128(hi, lo, uint(e-64))
	} else {
		frac = lo << uint(64-e)
	}
	return k, frac, true
}

func (e *Engine) clampR(r int64) int64 {
	return min(max(r, e.p.Rmin), e.p.Rmax)
}

func isCanonical(h []Flow) bool {
	for i := 1; i < len(h); i++ {
		if before(h[i], h[i-1]) {
			return false
		}
	}
	return true
}

func canonicalCopy(h []Flow) []Flow {
	c := slices.Clone(h)
	slices.SortFunc(c, func(a, b Flow) int {
		switch {
		case before(a, b):
			return -1
		case before(b, a):
			return 1
		}
		return 0
	})
	return c
}

// Reputation returns R_n for the last flow of history as payment n: the
// reputation that decided that payment, i.e. ReputationAt(all flows but the
// last, time of the last). The last flow is the most recent in canonical
// order. A history of zero or one flow gives 0.
func (e *Engine) Reputation(history []Flow) int64 {
	if len(history) <= 1 {
		return e.clampR(0)
	}
	if !isCanonical(history) {
		history = canonicalCopy(history)
	}
	n := len(history) - 1
	return e.ReputationAt(history[:n], history[n].TimeMs)
}

// Reputation is Engine.Reputation for one-off use; it rebuilds the tables on
// every call. Invalid params give 0.
func Reputation(history []Flow, p Params) int64 {
	e, err := NewEngine(p)
	if err != nil {
		return 0
	}
	return e.Reputation(history)
}

// ReputationAt is Engine.ReputationAt for one-off use; it rebuilds the tables
// on every call. Invalid params give 0.
func ReputationAt(history []Flow, tNowMs int64, p Params) int64 {
	e, err := NewEngine(p)
	if err != nil {
		return 0
	}
	return e.ReputationAt(history, tNowMs)
}
