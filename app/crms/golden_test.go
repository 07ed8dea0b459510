package crms

import (
	"math"
	"testing"
)

// goldenCase pins engine outputs under DefaultParams. Every expected integer
// comes from testdata/golden.md, where the formula is evaluated step by step
// in 40-digit arithmetic independently of this package; the test also checks
// R against the float64 reference to 1e-6.
type goldenCase struct {
	name    string
	history []Flow
	tNow    int64
	wantR   int64
	// risk_nano for 2000, 3000, 10000 paise
	wantRisk [3]int64
	// skip limits at Risk_max 0.005 and 0.020
	wantLimit [2]uint64
}

func goldenCases() []goldenCase {
	const t0 = tBase
	pin := func(t int64) Flow { return Flow{TimeMs: t, RatingNano: Nano} }

	// G2: weekly PIN payments, t0 − 70 days … t0 − 7 days.
	var weekly []Flow
	for k := int64(10); k >= 1; k-- {
		weekly = append(weekly, pin(t0-7*day*k))
	}
	// G4: 25 daily PIN payments ending 200 days before t0.
	var dormant []Flow
	for k := int64(24); k >= 0; k-- {
		dormant = append(dormant, pin(t0-200*day-k*day))
	}
	// G7: the full window, every payment at t0.
	full := make([]Flow, DefaultParams().N)
	for i := range full {
		full[i] = pin(t0)
	}
	// G8: 20 daily PIN payments ending a year before t0.
	var silent []Flow
	for k := int64(19); k >= 0; k-- {
		silent = append(silent, pin(t0-365*day-k*day))
	}
	return []goldenCase{
		{
			// x = 1 day/(20·1 day) = 0.05; R = e^-0.05·½erfc(-10/(3√2))/Z
			//   = 0.951229·0.999571/10.499571 = 0.0905581090…
			name:      "G1 one PIN payment yesterday",
			history:   []Flow{pin(t0 - day)},
			tNow:      t0,
			wantR:     90_558_109,
			wantRisk:  [3]int64{22_085_267, 33_127_901, 110_426_335},
			wantLimit: [2]uint64{452, 1811},
		},
		{
			// AvgT = 70 days/10 = 7 days; x_i = (rank+1)/20;
			// Σ e^{-(k+1)/20}·½erfc((k-10)/(3√2)), k = 0..9, = 7.052508…
			name:      "G2 weekly PIN customer",
			history:   weekly,
			tNow:      t0,
			wantR:     671_694_886,
			wantRisk:  [3]int64{2_977_543, 4_466_314, 14_887_712},
			wantLimit: [2]uint64{3358, 13433},
		},
		{
			// AvgT = (30 days + 2 min)/5 gaps; the flow at t0+2min has Δt = 0;
			// the decline contributes 0 but still occupies rank 3.
			name: "G3 mixed flows, burst, decline, late flow",
			history: []Flow{
				{t0 - 30*day, Nano},
				{t0 - 12*day, 700_000_000},
				{t0 - 12*day + 300_000, 0},
				{t0 - 3*day, 300_000_000},
				{t0 - 7_200_000, 500_000_000},
				{t0 + 120_000, 700_000_000},
			},
			tNow:      t0,
			wantR:     271_508_266,
			wantRisk:  [3]int64{7_366_259, 11_049_388, 36_831_292},
			wantLimit: [2]uint64{1357, 5430},
		},
		{
			// Window = the 20 newest; AvgT = 19 days/19 gaps = 1 day (the
			// silence is not a gap between payments); newest x = 200/20 =
			// 10: the card has lost its reputation, R ≈ e^-10·Σ/Z.
			name:      "G4 dormant for 200 days",
			history:   dormant,
			tNow:      t0,
			wantR:     35_613,
			wantRisk:  [3]int64{56_159_267_684, 84_238_901_525, 280_796_338_416},
			wantLimit: [2]uint64{0, 0},
		},
		{
			// Span 30 min < 3 × floor: AvgT = 1 day, x ≤ 30min/20days.
			name:      "G5 burst of three within minutes",
			history:   []Flow{pin(t0 - 1_800_000), pin(t0 - 1_200_000), pin(t0 - 600_000)},
			tNow:      t0,
			wantR:     284_993_859,
			wantRisk:  [3]int64{7_017_696, 10_526_543, 35_088_476},
			wantLimit: [2]uint64{1424, 5699},
		},
		{
			// One payment has no gap: AvgT = the 1-day floor, x = 7/20.
			// Skip limit ₹3.35 at 0.005: a ₹4 payment needs the PIN.
			name:      "G6 one PIN payment 7 days ago",
			history:   []Flow{pin(t0 - 7*day)},
			tNow:      t0,
			wantR:     67_087_097,
			wantRisk:  [3]int64{29_811_993, 44_717_989, 149_059_961},
			wantLimit: [2]uint64{335, 1341},
		},
		{
			// N PIN payments at the decision time: every weight is its rank
			// weight, Σ/Z = 1 exactly; the published calibration.
			name:      "G7 full window of PIN payments now",
			history:   full,
			tNow:      t0,
			wantR:     Nano,
			wantRisk:  [3]int64{2_000_000, 3_000_000, 10_000_000},
			wantLimit: [2]uint64{5_000, 20_000},
		},
		{
			// 20 daily PIN payments, then a year of silence: AvgT = 1 day,
			// newest x = 365/20 = 18.25, R = 9.3e-9.
			name:      "G8 daily customer silent for a year",
			history:   silent,
			tNow:      t0,
			wantR:     9,
			wantRisk:  [3]int64{222_222_222_222_223, 333_333_333_333_334, 1_111_111_111_111_112},
			wantLimit: [2]uint64{0, 0},
		},
	}
}

func TestGolden(t *testing.T) {
	p := DefaultParams()
	e := mustEngine(t, p)
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			r := e.ReputationAt(c.history, c.tNow)
			if r != c.wantR {
				t.Errorf("R = %d, want %d", r, c.wantR)
			}
			if ref := refReputationAt(c.history, c.tNow, p); math.Abs(float64(r)/1e9-ref) > 1e-6 {
				t.Errorf("R = %d, float64 reference %.12f", r, ref)
			}
			// The package-level one-off function gives the same number.
			if r2 := ReputationAt(c.history, c.tNow, p); r2 != r {
				t.Errorf("ReputationAt(p) = %d, engine %d", r2, r)
			}
			// Reputation(h ++ [payment]) is ReputationAt(h, payment time).
			withPayment := append(append([]Flow(nil), c.history...), Flow{TimeMs: c.tNow + 1_000_000, RatingNano: Nano})
			if got, want := e.Reputation(withPayment), e.ReputationAt(c.history, c.tNow+1_000_000); got != want {
				t.Errorf("Reputation = %d, ReputationAt = %d", got, want)
			}
			for i, amt := range []uint64{2000, 3000, 10000} {
				if got := e.Risk(r, amt); got != c.wantRisk[i] {
					t.Errorf("risk(%d) = %d, want %d", amt, got, c.wantRisk[i])
				}
				if ref := refRisk(p, float64(r)/1e9, amt) * 1e9; math.Abs(float64(c.wantRisk[i])-ref) > 1 {
					t.Errorf("risk(%d) = %d, float64 %f", amt, c.wantRisk[i], ref)
				}
			}
			for i, rm := range []int64{5_000_000, 20_000_000} {
				d := e.Evaluate(c.history, c.tNow, 2000, rm, 0, 0)
				if d.SkipLimitPaise != c.wantLimit[i] {
					t.Errorf("skip limit at Risk_max %d = %d, want %d", rm, d.SkipLimitPaise, c.wantLimit[i])
				}
				wantSkip := 2000 <= c.wantLimit[i]
				if d.CVMRequired == wantSkip || d.R != c.wantR || d.Risk != c.wantRisk[0] || d.RiskMax != rm {
					t.Errorf("decision %+v", d)
				}
				wantReason := ReasonRiskAboveMax
				if wantSkip {
					wantReason = ReasonSkip
				}
				if d.Reason != wantReason {
					t.Errorf("reason %q, want %q", d.Reason, wantReason)
				}
			}
		})
	}
}

// TestGoldenHistoryBytes pins the history encoding (it reaches state).
func TestGoldenHistoryBytes(t *testing.T) {
	h := []Flow{{1_700_000_000_000, Nano}, {1_700_000_600_000, 700_000_000}, {1_700_000_600_000, 0}}
	got := AppendHistory(nil, h)
	want := []byte{
		0x03,                               // 3 flows
		0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31, // 1_700_000_000_000
		0x80, 0x94, 0xeb, 0xdc, 0x03, // 1e9
		0xc0, 0xcf, 0x24, // +600_000
		0x80, 0xce, 0xe4, 0xcd, 0x02, // 7e8
		0x00, // +0
		0x00, // 0
	}
	if string(got) != string(want) {
		t.Fatalf("encoding % x, want % x", got, want)
	}
}
