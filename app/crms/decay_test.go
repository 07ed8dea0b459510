package crms

import (
	"testing"

	"pgregory.net/rapid"
)

// TestReputationDecaysWithSilence: AvgT is the mean gap between the card's
// past payments (SPEC §6.2), so silence ages every flow and is not itself a
// gap. A card's R falls monotonically as the silence grows and is below 0.01
// after a year at the default parameters (a weekly customer's clock runs in
// weeks, τ·AvgT = 140 days: below 0.01 after three years, still R = 0.052
// after one). Before the fix, one PIN payment
// kept R = 0.0906 after 1, 7, 365 and 3,650 days, and 20 daily PIN payments
// kept R = 0.369 after ten years.
func TestReputationDecaysWithSilence(t *testing.T) {
	p := DefaultParams()
	e := mustEngine(t, p)
	pin := func(t int64) Flow { return Flow{TimeMs: t, RatingNano: Nano} }
	var daily, weekly []Flow
	for k := range int64(20) {
		daily = append(daily, pin(tBase+k*day))
	}
	for k := range int64(10) {
		weekly = append(weekly, pin(tBase+k*7*day))
	}
	mixed := []Flow{pin(tBase), {tBase + 2*day, 700_000_000}, {tBase + 3*day, 0}, pin(tBase + 5*day), {tBase + 9*day, 500_000_000}}
	for _, c := range []struct {
		name  string
		h     []Flow
		years int64 // of silence after which R < 0.01
	}{
		{"one PIN payment", []Flow{pin(tBase)}, 1},
		{"20 daily PIN payments", daily, 1},
		{"10 weekly PIN payments", weekly, 3},
		{"mixed flows", mixed, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			last := c.h[len(c.h)-1].TimeMs
			prev := e.ReputationAt(c.h, last)
			if prev <= 0 {
				t.Fatalf("R = %d right after the last payment", prev)
			}
			// Every hour for the first 30 days, then every day for ten years.
			for s := int64(1); s <= 30*24+3650; s++ {
				silence := s * 3_600_000
				if s > 30*24 {
					silence = (s - 30*24 + 30) * day
				}
				r := e.ReputationAt(c.h, last+silence)
				if r > prev {
					t.Fatalf("R rose from %d to %d after %d ms of silence", prev, r, silence)
				}
				prev = r
				if silence == c.years*365*day && r >= Nano/100 {
					t.Errorf("R = %d after %d year(s) of silence, want < 0.01", r, c.years)
				}
			}
			if prev != 0 {
				t.Errorf("R = %d after ten years of silence, want 0", prev)
			}
		})
	}
}

// The example: one PIN payment 7 days ago gives R ≈ 0.0671 (AvgT is
// the 1-day floor, x = 7/20) and a skip limit of ₹3.35 at the chain's default
// Risk_max 0.005, so a ₹4 payment needs the PIN. (With the silence counted
// as a gap, R was 0.0906 and the limit ₹4.52: the ₹4 payment skipped.)
func TestOnePINPaymentAWeekOldNeedsPINForFourRupees(t *testing.T) {
	p := DefaultParams()
	e := mustEngine(t, p)
	h := []Flow{{TimeMs: tBase - 7*day, RatingNano: Nano}}
	d := e.Evaluate(h, tBase, 400, 5_000_000, 0, 0)
	if !d.CVMRequired || d.Reason != ReasonRiskAboveMax || d.SkipLimitPaise != 335 {
		t.Fatalf("₹4 a week after one PIN payment: %+v", d)
	}
	if d := e.Evaluate(h, tBase, 335, 5_000_000, 0, 0); d.CVMRequired {
		t.Fatalf("₹3.35 should still skip: %+v", d)
	}
}

// Property: for any parameters and history, R never rises while the card is
// silent (tNow moving past its last flow), and AvgT ignores tNow: R after a
// silence s equals R computed with the window shifted s earlier.
func TestPropSilenceNeverRaisesR(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		h := sortedCanonical(genHistory(t, tBase, "h"))
		if len(h) == 0 {
			return
		}
		last := h[len(h)-1].TimeMs
		s1 := rapid.Int64Range(0, 800*day).Draw(t, "s1")
		s2 := rapid.Int64Range(s1, 800*day+1).Draw(t, "s2")
		r1, r2 := e.ReputationAt(h, last+s1), e.ReputationAt(h, last+s2)
		if r2 > r1 {
			t.Fatalf("R rose from %d (silence %d ms) to %d (silence %d ms)", r1, s1, r2, s2)
		}
		shifted := make([]Flow, len(h))
		for i, f := range h {
			shifted[i] = Flow{TimeMs: f.TimeMs - s1, RatingNano: f.RatingNano}
		}
		if r := e.ReputationAt(shifted, last); r != r1 {
			t.Fatalf("R depends on the absolute time: %d vs %d", r, r1)
		}
	})
}

// Property: a full window of flows rated 1 at the decision time gives
// exactly Rmax for every parameter set (the calibration's premise).
func TestPropFullWindowNowIsRmax(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		if r := e.ReputationAt(fullWindowNow(p.N, tBase), tBase); r != p.Rmax {
			t.Fatalf("R = %d, want Rmax %d (N=%d x_m=%d x_d=%d)", r, p.Rmax, p.N, p.Xm, p.Xd)
		}
	})
}
