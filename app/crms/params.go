package crms

import (
	"errors"
	"fmt"
	"strings"
)

// Nano is the scale of every real-valued parameter and result at the package
// boundary: 1.0 = 1_000_000_000. int64 nano units go into protobuf unchanged.
const Nano int64 = 1_000_000_000

// MaxN bounds the reputation window so that per-call work and the rank
// weight table stay small (and the erfc arguments inside a tested range).
const MaxN = 200

// Params are the governed CRMS parameters (SPEC §6.2, §6.3). Real values are
// int64 nano units.
type Params struct {
	P int64 // p: risk per rupee before reputation; default 0.000001
	A int64 // a: numerator of f(R) = a/(b·R); only a/b matters
	B int64 // b: denominator of f(R)

	N   int   // window: the last N flows count; default 20
	Tau int64 // τ: time decay in units of the card's mean gap AvgT
	Xd  int64 // x_d: width of the rank fall-off
	Xm  int64 // x_m: rank at which a flow's weight halves

	Rmin int64 // R ≤ Rmin means "no usable reputation": f(R) = ∞
	Rmax int64 // R is clamped to Rmax (≤ 1.0)

	AvgTFloorMs  int64  // floor of AvgT, ms; also AvgT for a one-payment card
	HardCapPaise uint64 // no skip above this amount, whatever R says; 0 = never skip

	ContextMin int64 // bounds of the terminal's context multiplier on Risk_max
	ContextMax int64

	EpochRiskBudget int64 // total risk a seller may take by skipping, per epoch
}

// DefaultParams returns the chain's genesis defaults. Why these values:
//
//   - P = 1e-6, a/b = 100 (A = 100, B = 1) reproduce the published
//     calibration: at R = 1 the skip limit Risk_max/(p·a/b) is ₹50 at
//     Risk_max = 0.005 and ₹200 at 0.020.
//   - N = 20, x_m = 10, x_d = 3: the ten most recent flows carry almost full
//     weight, ranks 10..16 fade out, ranks 17+ are noise (½erfc < 1%). A card
//     needs about ten good flows before its reputation nears its ceiling.
//   - τ = 20: with time measured in the card's own mean gap, a card paying
//     at a steady rhythm keeps 95% of its newest flow's weight and ~60% of its
//     tenth; a full steady PIN history gives R ≈ 0.75. A card silent for many
//     times its usual gap loses its reputation (e^{-gaps/20}).
//   - AvgT floor 1 day: a burst of payments within minutes must not make
//     the decay clock run in minutes.
//   - Hard cap ₹1,000: a backstop above the sweep's largest skip limit
//     (₹200 × context 2.0 = ₹400), so no parameter slip can waive PIN on a
//     large payment.
//   - Context multiplier in [0.5, 2.0]: a terminal may halve or double
//     Risk_max (queue length, basket), never more.
//   - Epoch risk budget 10.0: at most ~2,000 maximal ₹50 skips (risk 0.005
//     each) per seller per day before every payment needs CVM again.
func DefaultParams() Params {
	return Params{
		P:               1_000,
		A:               100 * Nano,
		B:               1 * Nano,
		N:               20,
		Tau:             20 * Nano,
		Xd:              3 * Nano,
		Xm:              10 * Nano,
		Rmin:            0,
		Rmax:            Nano,
		AvgTFloorMs:     86_400_000,
		HardCapPaise:    100_000,
		ContextMin:      Nano / 2,
		ContextMax:      2 * Nano,
		EpochRiskBudget: 10 * Nano,
	}
}

// Parameter bounds. They are wide enough for any sensible governance choice
// and narrow enough that the integer arithmetic provably cannot overflow:
// P·A·1e7 < 2^94 and B·Rmax < 2^64 (see risk in decide.go).
const (
	maxP         = Nano            // p ≤ 1
	maxA         = 1_000 * Nano    // a ≤ 1000
	maxB         = 10 * Nano       // b ≤ 10
	minTau       = Nano / 1_000    // τ ≥ 0.001
	maxTau       = 1_000 * Nano    // τ ≤ 1000
	minXd        = Nano / 1_000    // x_d ≥ 0.001
	maxXd        = 1_000 * Nano    // x_d ≤ 1000
	maxXm        = 1_000 * Nano    // 0 ≤ x_m ≤ 1000
	maxAvgTFloor = 100_000_000_000 // ms, ≈ 3.2 years
	maxContext   = 100 * Nano
)

// ErrInvalidParams wraps every Validate failure.
var ErrInvalidParams = errors.New("crms: invalid params")

// dec formats a nano value as the real number it stands for ("0.001").
func dec(v int64) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	s := fmt.Sprintf("%d.%09d", u/uint64(Nano), u%uint64(Nano))
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if neg {
		s = "-" + s
	}
	return s
}

// Validate checks the bounds above; messages give real values (1.5, not
// 1500000000 nano). Xm ≥ 0 also guarantees the normaliser is
// at least ½ (rank 0 has z ≤ 0), so tiny rank weights cannot be amplified.
func (p Params) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidParams}, a...)...)
	}
	switch {
	case p.P < 1 || p.P > maxP:
		return bad("P=%s outside [%s, %s]", dec(p.P), dec(1), dec(maxP))
	case p.A < 1 || p.A > maxA:
		return bad("A=%s outside [%s, %s]", dec(p.A), dec(1), dec(maxA))
	case p.B < 1 || p.B > maxB:
		return bad("B=%s outside [%s, %s]", dec(p.B), dec(1), dec(maxB))
	case p.N < 1 || p.N > MaxN:
		return bad("N=%d outside [1, %d]", p.N, MaxN)
	case p.Tau < minTau || p.Tau > maxTau:
		return bad("Tau=%s outside [%s, %s]", dec(p.Tau), dec(minTau), dec(maxTau))
	case p.Xd < minXd || p.Xd > maxXd:
		return bad("Xd=%s outside [%s, %s]", dec(p.Xd), dec(minXd), dec(maxXd))
	case p.Xm < 0 || p.Xm > maxXm:
		return bad("Xm=%s outside [0, %s]", dec(p.Xm), dec(maxXm))
	case p.Rmin < 0 || p.Rmax > Nano || p.Rmin >= p.Rmax:
		return bad("need 0 ≤ Rmin < Rmax ≤ 1, got Rmin=%s Rmax=%s", dec(p.Rmin), dec(p.Rmax))
	case p.AvgTFloorMs < 1 || p.AvgTFloorMs > maxAvgTFloor:
		return bad("AvgTFloorMs=%d outside [1, %d]", p.AvgTFloorMs, int64(maxAvgTFloor))
	case p.ContextMin < 1 || p.ContextMin > Nano:
		return bad("ContextMin=%s outside [%s, 1]", dec(p.ContextMin), dec(1))
	case p.ContextMax < Nano || p.ContextMax > maxContext:
		return bad("ContextMax=%s outside [1, %s]", dec(p.ContextMax), dec(maxContext))
	case p.EpochRiskBudget < 0:
		return bad("EpochRiskBudget=%s is negative", dec(p.EpochRiskBudget))
	}
	return nil
}
