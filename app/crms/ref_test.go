package crms

import (
	"math"
	"slices"
)

// refReputationAt is SPEC §6.2 in float64, written straight from the formula
// with the conventions documented on Engine.ReputationAt. It is the
// independent reference the fixed-point engine is held to.
func refReputationAt(history []Flow, tNow int64, p Params) float64 {
	h := slices.Clone(history)
	slices.SortFunc(h, func(a, b Flow) int {
		if a.TimeMs != b.TimeMs {
			if a.TimeMs < b.TimeMs {
				return -1
			}
			return 1
		}
		return int(b.RatingNano - a.RatingNano) // higher rating first
	})
	if len(h) > p.N {
		h = h[len(h)-p.N:]
	}
	rmin, rmax := float64(p.Rmin)/1e9, float64(p.Rmax)/1e9
	if len(h) == 0 {
		return rmin
	}
	tau, xm, xd := float64(p.Tau)/1e9, float64(p.Xm)/1e9, float64(p.Xd)/1e9
	rankW := func(k int) float64 { return 0.5 * math.Erfc((float64(k)-xm)/(math.Sqrt2*xd)) }
	norm := 0.0
	for k := range p.N {
		norm += rankW(k)
	}
	// AvgT: the mean gap between the past payments in the window (tNow is
	// not one of them), floored; one payment has no gap: the floor.
	avgT := float64(p.AvgTFloorMs)
	if len(h) >= 2 {
		span := float64(h[len(h)-1].TimeMs) - float64(h[0].TimeMs)
		avgT = max(span/float64(len(h)-1), avgT)
	}
	n := len(h)
	sum := 0.0
	for i, f := range h {
		dt := max(float64(tNow)-float64(f.TimeMs), 0)
		r := min(max(float64(f.RatingNano), 0), 1e9) / 1e9
		sum += math.Exp(-dt/(tau*avgT)) * rankW(n-i-1) * r
	}
	return min(max(sum/norm, rmin), rmax)
}

// refRisk is risk = amount_rupees · p · a/(b·R) in float64 (R in [0,1]).
func refRisk(p Params, r float64, amountPaise uint64) float64 {
	return float64(amountPaise) / 100 * float64(p.P) / 1e9 * float64(p.A) / (float64(p.B) * r)
}
