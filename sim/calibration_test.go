package sim

import (
	"bytes"
	"math"
	"testing"
)

// The paper's published results (SPEC §8), the targets the generator is
// calibrated to: with the default CRMS over the default sweep, at both ends
// of the sweep.
var paperTargets = []struct {
	riskMax                   float64
	promotedPct, skippedPct   float64
	promoted, skipped, amount float64 // full-scale counts and PLN
}{
	{0.005, 8.33, 5.17, 24_493, 127_313, 3_247_951},
	{0.020, 17, 12.41, 49_933, 305_691, 15_822_076},
}

// TestCalibratedShape runs the default CRMS over a reduced synthetic year
// (scale 0.05, seed 1: 123,160 traces of 14,690 cards) and checks the shape
// SPEC §8 calibrates against: the fraction of promoted cards and of skipped
// transactions within ±25 % of the paper's at both ends of the sweep, the
// skipped amount (scaled up to the full year) within ±25 % too, about 70 %
// of sales contactless under the no-CVM limit, and the month-by-month skips
// at Risk_max 0.01 on their plateau from the fifth month. Per-card figures
// do not depend on the scale; the full-scale year's are in
// docs/crms-calibration.md.
func TestCalibratedShape(t *testing.T) {
	const scale = 0.05
	var buf bytes.Buffer
	st, err := Generate(&buf, GenOptions{Seed: 1, Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	if f := float64(st.ByCVM["no-cvm-under-limit"]) / float64(st.Sales); math.Abs(f-0.70) > 0.03 {
		t.Errorf("%.1f %% of sales contactless under the no-CVM limit, want about 70 %%", 100*f)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Simulate(r, Config{MonthlyRiskMax: DefaultMonthlyRiskMax})
	if err != nil {
		t.Fatal(err)
	}
	within := func(what string, got, want float64) {
		t.Helper()
		if got < 0.75*want || got > 1.25*want {
			t.Errorf("%s = %.2f, paper %.2f: outside ±25 %% (ratio %.2f)", what, got, want, got/want)
		} else {
			t.Logf("%s = %.2f, paper %.2f (ratio %.2f)", what, got, want, got/want)
		}
	}
	for _, p := range paperTargets {
		var m *Metrics
		for i := range rep.Sweep {
			if rep.Sweep[i].RiskMax == p.riskMax {
				m = &rep.Sweep[i]
			}
		}
		if m == nil {
			t.Fatalf("Risk_max %v not in the default sweep", p.riskMax)
		}
		within("promoted cards % at "+fmtNano(int64(p.riskMax*1e9)), m.PromotedCardsPct, p.promotedPct)
		within("skipped tx % at "+fmtNano(int64(p.riskMax*1e9)), m.SkippedPct, p.skippedPct)
		within("skipped amount (full-year equivalent) at "+fmtNano(int64(p.riskMax*1e9)), m.SkippedAmount/scale, p.amount)
	}
	// The plateau: reputations build up from empty histories in January;
	// from May on every month's skip rate is within 12 % of their mean.
	if len(rep.Monthly) != 12 {
		t.Fatalf("%d months", len(rep.Monthly))
	}
	var mean float64
	for _, m := range rep.Monthly[4:] {
		mean += m.SkippedPct / 8
	}
	for i, m := range rep.Monthly {
		switch {
		case i >= 4 && math.Abs(m.SkippedPct/mean-1) > 0.12:
			t.Errorf("%s: %.2f %% skipped, the plateau's mean is %.2f %%", m.Month, m.SkippedPct, mean)
		case i == 0 && m.SkippedPct > 0.5*mean:
			t.Errorf("%s: %.2f %% skipped already: reputations start empty", m.Month, m.SkippedPct)
		}
	}
}
