package crms

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestCalibration is the published calibration (SPEC §6.3): at R = Rmax the
// skip limit Risk_max/(p·f(R_max)) is ₹50 at Risk_max = 0.005 and ₹200 at
// 0.020 under the default parameters — exactly, and the boundary is sharp.
func TestCalibration(t *testing.T) {
	p := DefaultParams()
	e := mustEngine(t, p)
	for _, c := range []struct {
		riskMax int64
		limit   uint64
	}{
		{5_000_000, 5_000},
		{20_000_000, 20_000},
	} {
		d := e.Decide(p.Rmax, c.limit, c.riskMax, 0, 0)
		if d.SkipLimitPaise != c.limit {
			t.Errorf("Risk_max %d: skip limit %d paise, want %d", c.riskMax, d.SkipLimitPaise, c.limit)
		}
		if d.CVMRequired || d.Risk != c.riskMax || d.Reason != ReasonSkip {
			t.Errorf("Risk_max %d at the limit: %+v", c.riskMax, d)
		}
		if d := e.Decide(p.Rmax, c.limit+1, c.riskMax, 0, 0); !d.CVMRequired || d.Reason != ReasonRiskAboveMax {
			t.Errorf("Risk_max %d one paisa above the limit: %+v", c.riskMax, d)
		}
		// The package-level function agrees.
		if d2 := Decide(p, p.Rmax, c.limit, c.riskMax, 0, 0); d2 != d {
			t.Errorf("Decide(p) = %+v, engine %+v", d2, d)
		}
	}
	// And the 16-step sweep of SPEC §8 scales linearly: ₹50 … ₹200.
	for i := range int64(16) {
		rm := 5_000_000 + i*1_000_000
		if got, want := e.Decide(p.Rmax, 1, rm, 0, 0).SkipLimitPaise, uint64(rm/1000); got != want {
			t.Errorf("Risk_max %d: limit %d, want %d", rm, got, want)
		}
	}
}

func TestDecideReasons(t *testing.T) {
	p := DefaultParams()
	e := mustEngine(t, p)
	const R = 500_000_000 // skip limit at 0.010: ₹50
	cases := []struct {
		name    string
		r       int64
		amount  uint64
		riskMax int64
		ctx     int64
		used    int64
		cvm     bool
		reason  string
		limit   uint64
	}{
		{"skip", R, 5_000, 10_000_000, 0, 0, false, ReasonSkip, 5_000},
		{"risk above max", R, 5_001, 10_000_000, 0, 0, true, ReasonRiskAboveMax, 5_000},
		{"zero reputation", 0, 1, 10_000_000, 0, 0, true, ReasonLowReputation, 0},
		{"negative reputation", -5, 1, 10_000_000, 0, 0, true, ReasonLowReputation, 0},
		{"context doubles", R, 10_000, 10_000_000, 2 * Nano, 0, false, ReasonSkip, 10_000},
		{"context clamped to 2.0", R, 10_001, 10_000_000, 50 * Nano, 0, true, ReasonRiskAboveMax, 10_000},
		{"context halves", R, 2_501, 10_000_000, Nano / 2, 0, true, ReasonRiskAboveMax, 2_500},
		{"context clamped to 0.5", R, 2_500, 10_000_000, 1, 0, false, ReasonSkip, 2_500},
		{"negative context clamped", R, 2_500, 10_000_000, -7, 0, false, ReasonSkip, 2_500},
		// risk(5000 paise at R=0.5) = 0.01; budget 10.0 − 9.995 leaves 0.005.
		{"budget limits", R, 5_000, 10_000_000, 0, 9_995_000_000, true, ReasonBudgetExhausted, 2_500},
		{"budget exactly enough", R, 5_000, 10_000_000, 0, 9_990_000_000, false, ReasonSkip, 5_000},
		{"budget overdrawn", R, 1, 10_000_000, 0, 11 * Nano, true, ReasonBudgetExhausted, 0},
		{"hard cap", Nano, 100_001, math.MaxInt64, 0, 0, true, ReasonAboveHardCap, 100_000},
		{"hard cap first", Nano, 200_000, 1, 0, 11 * Nano, true, ReasonAboveHardCap, 0},
		{"negative risk max", R, 1, -1, 0, 0, true, ReasonRiskAboveMax, 0},
		{"zero amount", R, 0, 0, 0, 0, false, ReasonSkip, 0},
		{"R above Rmax treated as Rmax", 3 * Nano, 5_000, 5_000_000, 0, 0, false, ReasonSkip, 5_000},
		{"huge amount saturates risk", Nano, math.MaxUint64, 5_000_000, 0, 0, true, ReasonAboveHardCap, 5_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := e.Decide(c.r, c.amount, c.riskMax, c.ctx, c.used)
			if d.CVMRequired != c.cvm || d.Reason != c.reason || d.SkipLimitPaise != c.limit {
				t.Fatalf("got %+v, want cvm=%v reason=%s limit=%d", d, c.cvm, c.reason, c.limit)
			}
			if d.R < 0 || d.R > p.Rmax {
				t.Fatalf("reported R %d out of range", d.R)
			}
		})
	}
}

func TestDecideRiskValues(t *testing.T) {
	e := mustEngine(t, DefaultParams())
	// ₹50 at R = 0.5: 50 · 1e-6 · 100 / 0.5 = 0.01.
	if got := e.Decide(500_000_000, 5000, 0, 0, 0).Risk; got != 10_000_000 {
		t.Errorf("risk = %d, want 10000000", got)
	}
	// Rounded up: ₹0.01 at R = 0.3: 1e-6·100·0.01/0.3 = 3.33…e-6 → 3334 nano.
	if got := e.Risk(300_000_000, 1); got != 3334 {
		t.Errorf("risk = %d, want 3334", got)
	}
	if got := e.Risk(0, 1); got != math.MaxInt64 {
		t.Errorf("risk at R=0 = %d, want ∞", got)
	}
	if got := e.Risk(1, math.MaxUint64); got != math.MaxInt64 {
		t.Errorf("risk saturation = %d", got)
	}
	// Risk_max × context saturates instead of wrapping.
	if got := e.Decide(Nano, 1, math.MaxInt64, 2*Nano, 0).RiskMax; got != math.MaxInt64 {
		t.Errorf("RiskMax = %d, want saturated", got)
	}
}

func TestDecideInvalidParams(t *testing.T) {
	p := DefaultParams()
	p.B = 0
	d := Decide(p, Nano, 1, Nano, 0, 0)
	if !d.CVMRequired || d.Reason != ReasonInvalidParams {
		t.Fatalf("invalid params: %+v", d)
	}
	if r := ReputationAt([]Flow{{tBase - day, Nano}}, tBase, p); r != 0 {
		t.Fatalf("ReputationAt with invalid params = %d", r)
	}
	if r := Reputation([]Flow{{tBase - day, Nano}, {tBase, Nano}}, p); r != 0 {
		t.Fatalf("Reputation with invalid params = %d", r)
	}
}

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	mut := []struct {
		name string
		f    func(*Params)
	}{
		{"P zero", func(p *Params) { p.P = 0 }},
		{"P above 1", func(p *Params) { p.P = Nano + 1 }},
		{"A zero", func(p *Params) { p.A = 0 }},
		{"A huge", func(p *Params) { p.A = maxA + 1 }},
		{"B zero", func(p *Params) { p.B = 0 }},
		{"B huge", func(p *Params) { p.B = maxB + 1 }},
		{"N zero", func(p *Params) { p.N = 0 }},
		{"N 201", func(p *Params) { p.N = MaxN + 1 }},
		{"Tau zero", func(p *Params) { p.Tau = 0 }},
		{"Tau huge", func(p *Params) { p.Tau = maxTau + 1 }},
		{"Xd zero", func(p *Params) { p.Xd = 0 }},
		{"Xd huge", func(p *Params) { p.Xd = maxXd + 1 }},
		{"Xm negative", func(p *Params) { p.Xm = -1 }},
		{"Xm huge", func(p *Params) { p.Xm = maxXm + 1 }},
		{"Rmin negative", func(p *Params) { p.Rmin = -1 }},
		{"Rmax above 1", func(p *Params) { p.Rmax = Nano + 1 }},
		{"Rmin = Rmax", func(p *Params) { p.Rmin = p.Rmax }},
		{"floor zero", func(p *Params) { p.AvgTFloorMs = 0 }},
		{"floor huge", func(p *Params) { p.AvgTFloorMs = maxAvgTFloor + 1 }},
		{"ContextMin zero", func(p *Params) { p.ContextMin = 0 }},
		{"ContextMin above 1", func(p *Params) { p.ContextMin = Nano + 1 }},
		{"ContextMax below 1", func(p *Params) { p.ContextMax = Nano - 1 }},
		{"ContextMax huge", func(p *Params) { p.ContextMax = maxContext + 1 }},
		{"budget negative", func(p *Params) { p.EpochRiskBudget = -1 }},
	}
	for _, m := range mut {
		p := DefaultParams()
		m.f(&p)
		err := p.Validate()
		if !errors.Is(err, ErrInvalidParams) {
			t.Errorf("%s: Validate = %v", m.name, err)
		}
		if _, err := NewEngine(p); err == nil {
			t.Errorf("%s: NewEngine accepted", m.name)
		}
	}
	// The extremes of every bound are accepted and give a working engine.
	lo := Params{P: 1, A: 1, B: 1, N: 1, Tau: minTau, Xd: minXd, Xm: 0, Rmin: 0, Rmax: 1,
		AvgTFloorMs: 1, ContextMin: 1, ContextMax: Nano}
	hi := Params{P: maxP, A: maxA, B: maxB, N: MaxN, Tau: maxTau, Xd: maxXd, Xm: maxXm, Rmin: Nano - 1, Rmax: Nano,
		AvgTFloorMs: maxAvgTFloor, HardCapPaise: math.MaxUint64, ContextMin: Nano, ContextMax: maxContext, EpochRiskBudget: math.MaxInt64}
	for _, p := range []Params{lo, hi} {
		e := mustEngine(t, p)
		h := []Flow{{math.MinInt64, Nano}, {0, Nano}, {math.MaxInt64, Nano}}
		for _, tNow := range []int64{math.MinInt64, 0, math.MaxInt64} {
			if r := e.ReputationAt(h, tNow); r < p.Rmin || r > p.Rmax {
				t.Errorf("R = %d out of range", r)
			}
			d := e.Evaluate(h, tNow, math.MaxUint64, math.MaxInt64, math.MaxInt64, math.MaxInt64)
			if !d.CVMRequired && p.HardCapPaise != math.MaxUint64 {
				t.Errorf("extreme decision skipped: %+v", d)
			}
			_ = e.Decide(p.Rmax, math.MaxUint64, math.MaxInt64, maxContext, 0)
		}
	}
}

// The normaliser is exactly the sum of the rank weights ReputationAt uses,
// and the weights fall with rank.
func TestEngineNormaliserIsTheRankSum(t *testing.T) {
	for _, n := range []int{1, 2, 20, MaxN} {
		p := DefaultParams()
		p.N = n
		e := mustEngine(t, p)
		var sum u128
		for k, v := range e.rank {
			sum, _ = sum.add(u128{0, v})
			if k > 0 && v > e.rank[k-1] {
				t.Errorf("N=%d: rank weight increases at %d", n, k)
			}
		}
		if sum != e.norm || e.norm.cmp(u128{0, one63 / 2}) < 0 {
			t.Errorf("N=%d: Σ rank weights %v, normaliser %v", n, sum, e.norm)
		}
	}
}

// fullWindowNow is the card of the published calibration: N flows rated 1
// at the decision time t.
func fullWindowNow(n int, t int64) []Flow {
	h := make([]Flow, n)
	for i := range h {
		h[i] = Flow{TimeMs: t, RatingNano: Nano}
	}
	return h
}

// A card with the full window of PIN payments at the same instant as the
// decision reaches exactly Rmax (every weight undecayed, ratings 1): the
// rounding of the rank weights and of the quotient must not lose the last
// nano, for any window size and rank shape.
func TestReputationCeiling(t *testing.T) {
	for _, c := range []struct{ n, xm, xd int64 }{{20, 10, 3}, {1, 0, 1}, {2, 10, 3}, {7, 3, 1}, {MaxN, 50, 20}, {MaxN, 0, 1}} {
		p := DefaultParams()
		p.N, p.Xm, p.Xd = int(c.n), c.xm*Nano, c.xd*Nano
		e := mustEngine(t, p)
		if r := e.ReputationAt(fullWindowNow(p.N, tBase), tBase); r != p.Rmax {
			t.Errorf("N=%d x_m=%d x_d=%d: R = %d, want exactly %d", c.n, c.xm, c.xd, r, p.Rmax)
		}
		// More flows than the window changes nothing; flows a moment later
		// than the decision (a late payment's re-check) count as simultaneous.
		if r := e.ReputationAt(fullWindowNow(p.N+5, tBase+1), tBase); r != p.Rmax {
			t.Errorf("N=%d: R = %d for a window of flows 1 ms ahead", c.n, r)
		}
	}
	p := DefaultParams()
	p.Rmax = 800_000_000
	if r := mustEngine(t, p).ReputationAt(fullWindowNow(p.N, tBase), tBase); r != p.Rmax {
		t.Errorf("Rmax 0.8: R = %d", r)
	}
}

// TestCalibrationExactFromHistory is SPEC §6.3's published calibration from
// a card's history rather than from R: N verified PIN payments at the
// current time give a skip limit of exactly ₹50.00 at Risk_max 0.005 and
// ₹200.00 at 0.020; ₹50.01 and ₹200.01 need the PIN.
func TestCalibrationExactFromHistory(t *testing.T) {
	p := DefaultParams()
	e := mustEngine(t, p)
	h := fullWindowNow(p.N, tBase)
	for _, c := range []struct {
		riskMax int64
		limit   uint64
	}{{5_000_000, 5_000}, {20_000_000, 20_000}} {
		d := e.Evaluate(h, tBase, c.limit, c.riskMax, 0, 0)
		if d.R != Nano || d.SkipLimitPaise != c.limit || d.CVMRequired || d.Reason != ReasonSkip || d.Risk != c.riskMax {
			t.Errorf("Risk_max %d, amount %d: %+v", c.riskMax, c.limit, d)
		}
		if d := e.Evaluate(h, tBase, c.limit+1, c.riskMax, 0, 0); !d.CVMRequired || d.Reason != ReasonRiskAboveMax {
			t.Errorf("Risk_max %d, amount %d: %+v", c.riskMax, c.limit+1, d)
		}
	}
}

// Validate speaks in real values, not nano units.
func TestParamsValidateMessages(t *testing.T) {
	p := DefaultParams()
	p.Tau = 0
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "Tau=0 outside [0.001, 1000]") {
		t.Errorf("Validate = %v", err)
	}
	p = DefaultParams()
	p.Rmin, p.Rmax = 600_000_000, 500_000_000
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "Rmin=0.6 Rmax=0.5") {
		t.Errorf("Validate = %v", err)
	}
	if got := dec(-1_500_000_000); got != "-1.5" {
		t.Errorf("dec = %q", got)
	}
	if got := dec(math.MinInt64); got != "-9223372036.854775808" {
		t.Errorf("dec(MinInt64) = %q", got)
	}
}
