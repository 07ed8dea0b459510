package sim

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
)

// noon is a local (IST) clock reading: 06:30 UTC, well inside one UTC day.
var noon = time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// sale builds a sale trace at a local clock reading, amount in paise.
func sale(card string, at time.Time, paise uint64, rt crms.ReadType, cvm crms.CVM) Trace {
	return MakeTrace(Trace{Card: card, ReadType: rt, Type: TxSale, AmountPaise: paise, Shop: "shop-a", Terminal: "t1", CVM: cvm, Auth: crms.AuthApproved}, at, DefaultUTCOffset)
}

func pin(card string, at time.Time, paise uint64) Trace {
	return sale(card, at, paise, crms.ReadContactEMV, crms.CVMPinOnlineOK)
}

func simulate(t *testing.T, ts []Trace, cfg Config) *Report {
	t.Helper()
	rep, err := Simulate(SliceSource(ts), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func sweepAt(t *testing.T, rep *Report, rm float64) Metrics {
	t.Helper()
	for _, m := range rep.Sweep {
		if math.Abs(m.RiskMax-rm) < 1e-12 {
			return m
		}
	}
	t.Fatalf("no Risk_max %v in the sweep", rm)
	return Metrics{}
}

func TestNewCardNeverSkips(t *testing.T) {
	// A first payment has an empty history: R = 0, f(R) = ∞, so no Risk_max
	// can skip it, however small. The reputation-blind floor policy skips it
	// whenever ₹10 ≤ its limit (always: the limit is ≥ ₹50) and, the card
	// being unknown, prices it at its whole amount: ₹10.
	rep := simulate(t, []Trace{pin("new", noon, 1_000)}, Config{})
	for _, m := range rep.Sweep {
		if m.Candidates != 1 || m.Skipped != 0 || m.PromotedCards != 0 || m.MaxLossWithRep != 0 {
			t.Errorf("Risk_max %v: %+v", m.RiskMax, m)
		}
		if m.NaiveSkipped != 1 || m.MaxLossWithoutRep != 10 {
			t.Errorf("Risk_max %v: naive %d skipped, loss %v; want 1, ₹10", m.RiskMax, m.NaiveSkipped, m.MaxLossWithoutRep)
		}
	}
}

func TestWeeklyPINCardBecomesEligible(t *testing.T) {
	// Twelve ₹500 PIN payments a week apart, then a ₹60 payment a week after
	// the last. At the 13th payment the window holds 12 flows of rating 1;
	// AvgT = 12 weeks / 12 gaps = 1 week, so the flow of rank j (j = 0 the
	// newest) is (j+1) weeks old, x_j = (j+1)/20, and
	//
	//   R = Σ_{j<12} ½erfc((j−10)/(3√2))·e^{−(j+1)/20} / Σ_{k<20} ½erfc((k−10)/(3√2))
	//     = 7.543776… / 10.499571… = 0.7184805 (float reference below).
	//
	// risk(₹60) = 60·p·a/(b·R) = 60·1e-4/0.7184805 = 0.0083510, so the 13th
	// payment skips iff Risk_max ≥ 0.0083510: at 0.009 … 0.020 (12 values),
	// not at 0.005 … 0.008. The ₹500 payments never skip (their risk is ≥
	// 0.05 > 0.020). Its measured PIN time, 5.2 s, is the time gained.
	var ts []Trace
	for i := range 12 {
		ts = append(ts, pin("weekly", noon.Add(time.Duration(i)*week), 50_000))
	}
	last := pin("weekly", noon.Add(12*week), 6_000)
	last.VerifyMs = 5_200
	ts = append(ts, last)

	ref := 0.0
	norm := 0.0
	for k := range 20 {
		h := 0.5 * math.Erfc((float64(k)-10)/(3*math.Sqrt2))
		norm += h
		if k < 12 {
			ref += h * math.Exp(-float64(k+1)/20)
		}
	}
	ref /= norm
	if math.Abs(ref-0.7184805) > 1e-7 {
		t.Fatalf("float reference R = %v, the hand value is 0.7184805", ref)
	}
	e, _ := crms.NewEngine(crms.DefaultParams())
	hist := make([]crms.Flow, 12)
	for i := range hist {
		hist[i] = crms.Flow{TimeMs: ts[i].TimeMs, RatingNano: crms.Nano}
	}
	if r := e.ReputationAt(hist, last.TimeMs); math.Abs(float64(r)/1e9-ref) > 2e-9 {
		t.Fatalf("engine R = %d, float reference %v", r, ref)
	}

	rep := simulate(t, ts, Config{})
	wantRisk := 60 * 1e-4 / ref
	for _, m := range rep.Sweep {
		if m.Candidates != 13 || m.Cards != 1 {
			t.Fatalf("%+v", m)
		}
		skips := m.RiskMax >= 0.0083510
		if got := m.Skipped == 1; got != skips {
			t.Errorf("Risk_max %.3f: skipped %d, want skip=%v", m.RiskMax, m.Skipped, skips)
			continue
		}
		if !skips {
			if m.PromotedCards != 0 || m.MaxLossWithRep != 0 || m.TimeGainedHours != 0 {
				t.Errorf("Risk_max %.3f: %+v", m.RiskMax, m)
			}
			continue
		}
		if m.PromotedCards != 1 || m.PromotedCardsPct != 100 || m.SkippedAmount != 60 {
			t.Errorf("Risk_max %.3f: %+v", m.RiskMax, m)
		}
		if math.Abs(m.MaxLossWithRep-wantRisk) > 2e-9 {
			t.Errorf("Risk_max %.3f: max loss %v, want %v", m.RiskMax, m.MaxLossWithRep, wantRisk)
		}
		if math.Abs(m.TimeGainedHours-5.2/3600) > 1e-12 {
			t.Errorf("time gained %v h, want 5.2 s", m.TimeGainedHours)
		}
		// Cost per minute = 0.0083510 / (5.2/60); per skip and per card = the risk.
		if math.Abs(m.CostPerMinute-wantRisk/(5.2/60)) > 1e-8 || math.Abs(m.CostPerSkip-wantRisk) > 2e-9 || math.Abs(m.CostPerCard-wantRisk) > 2e-9 {
			t.Errorf("costs %v %v %v", m.CostPerMinute, m.CostPerSkip, m.CostPerCard)
		}
	}
	// The naive floor policy skips the ₹60 payment when ₹60 ≤ 10,000·Risk_max
	// (from 0.006), at the same risk (the card's R is what it is).
	if m := sweepAt(t, rep, 0.005); m.NaiveSkipped != 0 {
		t.Errorf("naive at 0.005: %d", m.NaiveSkipped)
	}
	if m := sweepAt(t, rep, 0.006); m.NaiveSkipped != 1 || math.Abs(m.MaxLossWithoutRep-wantRisk) > 2e-9 {
		t.Errorf("naive at 0.006: %d, %v", m.NaiveSkipped, m.MaxLossWithoutRep)
	}
}

// perfectCard is 20 PIN payments of ₹500 at one instant: at that instant
// the window is full, no flow is decayed, so R = Σ rank weights ≈ 1 (the
// engine rounds down: 1 − a few 1e-9).
func perfectCard(card string, at time.Time) []Trace {
	var ts []Trace
	for range 20 {
		ts = append(ts, pin(card, at, 50_000))
	}
	return ts
}

func TestCalibrationVisibleInSweep(t *testing.T) {
	// With R = Rmax the skip limit is Risk_max/(p·a/b) = 10,000·Risk_max
	// rupees: ₹50 at 0.005, ₹100 at 0.010, ₹200 at 0.020 (SPEC §6.3). A
	// perfect card probes just under and just over each; its probes are PIN
	// payments at the same instant, so R stays where it is.
	ts := perfectCard("perfect", noon)
	probes := []uint64{4_999, 5_001, 9_999, 10_001, 14_999, 15_001, 19_999, 20_001}
	for _, p := range probes {
		ts = append(ts, pin("perfect", noon, p))
	}
	rep := simulate(t, ts, Config{})
	for _, m := range rep.Sweep {
		want := m.RiskMax * 10_000
		if math.Abs(m.SkipLimitAtRmax-want) > 1e-9 {
			t.Errorf("Risk_max %.3f: limit at Rmax ₹%v, want ₹%v", m.RiskMax, m.SkipLimitAtRmax, want)
		}
		var n int64
		var amt float64
		for _, p := range probes {
			if float64(p)/100 < want {
				n++
				amt += float64(p) / 100
			}
		}
		if m.Skipped != n || math.Abs(m.SkippedAmount-amt) > 1e-9 {
			t.Errorf("Risk_max %.3f: skipped %d (₹%v), want %d (₹%v)", m.RiskMax, m.Skipped, m.SkippedAmount, n, amt)
		}
	}
	if m := sweepAt(t, rep, 0.005); m.SkipLimitAtRmax != 50 || m.Skipped != 1 {
		t.Errorf("0.005: %+v", m)
	}
	if m := sweepAt(t, rep, 0.020); m.SkipLimitAtRmax != 200 || m.Skipped != 7 {
		t.Errorf("0.020: %+v", m)
	}
}

func TestBudgetExhaustionStopsSkips(t *testing.T) {
	// A perfect card at 12:00, then six ₹45 PIN payments at 13:00 the same
	// day and one more the next day at 13:00. At 13:00 the 12:00 flows are
	// an hour old against an AvgT floored at one day: R ≈ 0.998 and each
	// ₹45 payment has risk 45·1e-4/R ≈ 0.00451 ≤ every Risk_max of the sweep.
	// With an epoch budget of 0.02, four skips use 0.018; a fifth would
	// reach 0.0225 > 0.02, so the fifth and sixth need the PIN
	// (budget_exhausted). The next UTC day starts a new epoch: R ≈ 0.95
	// (flows one day old, x = 1/20), risk ≈ 0.00473 ≤ 0.005, and it skips.
	ts := perfectCard("perfect", noon)
	for range 6 {
		ts = append(ts, pin("perfect", noon.Add(time.Hour), 4_500))
	}
	ts = append(ts, pin("perfect", noon.Add(25*time.Hour), 4_500))

	p := crms.DefaultParams()
	p.EpochRiskBudget = 20_000_000
	rep := simulate(t, ts, Config{Params: p})
	for _, m := range rep.Sweep {
		if m.Skipped != 5 || m.BudgetRefused != 2 {
			t.Errorf("Risk_max %.3f: skipped %d, budget refused %d; want 5, 2", m.RiskMax, m.Skipped, m.BudgetRefused)
		}
	}
	// With the default budget (10.0 a day) nothing is refused: all 7 skip.
	rep = simulate(t, ts, Config{})
	for _, m := range rep.Sweep {
		if m.Skipped != 7 || m.BudgetRefused != 0 {
			t.Errorf("default budget, Risk_max %.3f: skipped %d, refused %d", m.RiskMax, m.Skipped, m.BudgetRefused)
		}
	}
}

func TestDeclinesAndRefunds(t *testing.T) {
	// Twelve declined PIN payments rate 0: R stays 0 and a small payment
	// cannot skip. Refunds earn nothing and change nothing: a weekly card
	// with a refund after each sale decides exactly like one without.
	var declined, clean, withRefunds []Trace
	for i := range 12 {
		at := noon.Add(time.Duration(i) * week)
		d := pin("declined", at, 50_000)
		d.Auth = crms.AuthDeclined
		declined = append(declined, d)
		clean = append(clean, pin("weekly", at, 50_000))
		withRefunds = append(withRefunds, pin("weekly", at, 50_000))
		r := pin("weekly", at.Add(time.Hour), 50_000)
		r.Type = TxRefund
		withRefunds = append(withRefunds, r)
	}
	declined = append(declined, pin("declined", noon.Add(12*week), 1_000))
	clean = append(clean, pin("weekly", noon.Add(12*week), 6_000))
	withRefunds = append(withRefunds, pin("weekly", noon.Add(12*week), 6_000))

	rep := simulate(t, declined, Config{})
	if rep.Declined != 12 {
		t.Errorf("declined %d", rep.Declined)
	}
	for _, m := range rep.Sweep {
		if m.Skipped != 0 {
			t.Errorf("declined card skipped at %v", m.RiskMax)
		}
	}
	a, b := simulate(t, clean, Config{}), simulate(t, withRefunds, Config{})
	if b.Refunds != 12 || b.Sales != 13 {
		t.Errorf("refunds %d sales %d", b.Refunds, b.Sales)
	}
	for k := range a.Sweep {
		if a.Sweep[k] != b.Sweep[k] {
			t.Errorf("refunds changed the result at %v:\n%+v\n%+v", a.Sweep[k].RiskMax, a.Sweep[k], b.Sweep[k])
		}
	}
}

func TestContactlessUnderLimitIsNoCandidate(t *testing.T) {
	// A tap under ₹5,000 had no verification: nothing to skip, nothing gained.
	ts := perfectCard("c", noon)
	ts = append(ts, sale("c", noon, 1_000, crms.ReadContactlessEMV, crms.CVMNoCVMUnderLimit))
	inferred := sale("c", noon, 1_000, crms.ReadContactlessEMV, 0) // no flow column: inferred
	ts = append(ts, inferred)
	rep := simulate(t, ts, Config{})
	if rep.Candidates != 20 {
		t.Errorf("candidates %d, want the 20 PIN payments", rep.Candidates)
	}
	if f := inferred.Flow(); f.CVM != crms.CVMNoCVMUnderLimit || f.Auth != crms.AuthApproved {
		t.Errorf("inferred flow %+v", f)
	}
	big := sale("c", noon, StaticNoCVMLimitPaise+1, crms.ReadContactlessEMV, 0)
	if f := big.Flow(); f.CVM != crms.CVMPinOnlineOK {
		t.Errorf("tap above the limit inferred %+v", f)
	}
	if r := big.Rating(crms.DefaultRatings()); r != crms.Nano {
		t.Errorf("rating %d", r)
	}
}

func TestTimeOrderIsRequired(t *testing.T) {
	ts := []Trace{pin("a", noon.Add(time.Hour), 100), pin("b", noon, 100)}
	_, err := Simulate(SliceSource(ts), Config{})
	if err == nil || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), "time order") {
		t.Fatalf("err = %v", err)
	}
	in := "card,read_type,date,time,type,amount\nx,3,20250301,120000,1,1.00\ny,3,20250301,115959,1,1.00\n"
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Simulate(r, Config{}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{RiskMax: []int64{}}, {RiskMax: []int64{-1}}, {MonthlyRiskMax: -5}} {
		if _, err := Simulate(SliceSource(nil), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	p := crms.DefaultParams()
	p.N = 0
	if _, err := Simulate(SliceSource(nil), Config{Params: p}); !errors.Is(err, crms.ErrInvalidParams) {
		t.Errorf("bad params: %v", err)
	}
}

func TestSweepIsIndependentAndMatchesReplayer(t *testing.T) {
	ts := genTraces(t, 7, 0.01)
	full := simulate(t, ts, Config{MonthlyRiskMax: 12_000_000})
	for _, rm := range []int64{5_000_000, 12_000_000, 20_000_000} {
		one := simulate(t, ts, Config{RiskMax: []int64{rm}})
		if got := sweepAt(t, full, float64(rm)/1e9); got != one.Sweep[0] {
			t.Errorf("Risk_max %v alone differs from within the sweep:\n%+v\n%+v", rm, one.Sweep[0], got)
		}
		// The Replayer applies the same rules at one Risk_max.
		var skipped int64
		var risk int64
		_, err := ReplayOffline(SliceSource(ts), crms.DefaultParams(), crms.DefaultRatings(), rm, 0, func(tr *Trace, d crms.Decision) error {
			if tr.NeedsVerification() && !d.CVMRequired {
				skipped++
				risk += d.Risk
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if m := one.Sweep[0]; skipped != m.Skipped || float64(risk)/1e9 != m.MaxLossWithRep {
			t.Errorf("Risk_max %v: replayer %d skips (risk %d), simulate %d (%v)", rm, skipped, risk, m.Skipped, m.MaxLossWithRep)
		}
		if one.Sweep[0].Skipped == 0 {
			t.Errorf("Risk_max %v: no skips in the generated year; the test proves nothing", rm)
		}
	}
	// Months add up to the year at the monthly Risk_max (0.012 is in the sweep).
	year := sweepAt(t, full, 0.012)
	var sales, skipped, naive int64
	var loss float64
	for _, m := range full.Monthly {
		sales += m.Sales
		skipped += m.Skipped
		naive += m.NaiveSkipped
		loss += m.MaxLossWithRep
	}
	if len(full.Monthly) != 12 || sales != year.Sales || skipped != year.Skipped || naive != year.NaiveSkipped || math.Abs(loss-year.MaxLossWithRep) > 1e-6 {
		t.Errorf("months: %d, sales %d/%d skipped %d/%d naive %d/%d loss %v/%v", len(full.Monthly), sales, year.Sales, skipped, year.Skipped, naive, year.NaiveSkipped, loss, year.MaxLossWithRep)
	}
	// Monotone in Risk_max: a larger allowance never skips less (R is shared).
	for k := 1; k < len(full.Sweep); k++ {
		a, b := full.Sweep[k-1], full.Sweep[k]
		if b.Skipped < a.Skipped || b.PromotedCards < a.PromotedCards || b.NaiveSkipped < a.NaiveSkipped {
			t.Errorf("not monotone between %v and %v", a.RiskMax, b.RiskMax)
		}
	}
}

func TestReplayerState(t *testing.T) {
	ts := perfectCard("p", noon)
	r, err := ReplayOffline(SliceSource(ts), crms.DefaultParams(), crms.DefaultRatings(), 5_000_000, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.History("p"); len(h) != 20 || h[0].RatingNano != crms.Nano {
		t.Fatalf("history %v", h)
	}
	if r.History("nobody") != nil || r.Reputation("nobody", ts[0].TimeMs) != 0 {
		t.Error("unknown card has state")
	}
	at := ts[0].TimeMs
	rp := r.Reputation("p", at)
	if rp < crms.Nano-100 || rp > crms.Nano {
		t.Errorf("perfect card R = %d", rp)
	}
	if got := r.FinalReputations(at); len(got) != 1 || got["p"] != rp {
		t.Errorf("final %v", got)
	}
	if c := r.Cards(); len(c) != 1 || c[0] != "p" {
		t.Errorf("cards %v", c)
	}
	probe := pin("p", noon, 4_000)
	d := r.Decide(&probe, 5_000_000, 0)
	if d.CVMRequired || d.Reason != crms.ReasonSkip {
		t.Errorf("decision %+v", d)
	}
	if r.EpochRiskUsed("shop-a", at) != 0 {
		t.Error("Decide charged the budget")
	}
	d = r.Apply(&probe, 5_000_000, 0)
	if got := r.EpochRiskUsed("shop-a", at); got != d.Risk || got == 0 {
		t.Errorf("epoch risk %d, decision risk %d", got, d.Risk)
	}
	if got := r.EpochRiskUsed("shop-a", at+dayMs); got != 0 {
		t.Errorf("next day's risk %d", got)
	}
}
