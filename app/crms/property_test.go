package crms

import (
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

const (
	day   = int64(86_400_000)
	tBase = int64(1_700_000_000_000) // 2023-11-14, ms
)

func genParams(t *rapid.T) Params {
	p := DefaultParams()
	if rapid.Bool().Draw(t, "defaults") {
		return p
	}
	p.N = rapid.IntRange(1, 60).Draw(t, "N")
	if rapid.IntRange(0, 9).Draw(t, "bigN") == 0 {
		p.N = rapid.IntRange(61, MaxN).Draw(t, "N200")
	}
	p.Tau = rapid.Int64Range(Nano/20, 100*Nano).Draw(t, "Tau")
	p.Xd = rapid.Int64Range(Nano/5, 20*Nano).Draw(t, "Xd")
	p.Xm = rapid.Int64Range(0, int64(p.N+5)*Nano).Draw(t, "Xm")
	p.AvgTFloorMs = rapid.Int64Range(1, 10*day).Draw(t, "floor")
	p.Rmin = rapid.Int64Range(0, Nano/10).Draw(t, "Rmin")
	p.Rmax = rapid.Int64Range(p.Rmin+1, Nano).Draw(t, "Rmax")
	p.P = rapid.Int64Range(1, maxP).Draw(t, "P")
	p.A = rapid.Int64Range(1, maxA).Draw(t, "A")
	p.B = rapid.Int64Range(1, maxB).Draw(t, "B")
	p.HardCapPaise = rapid.Uint64Range(0, 10_000_000).Draw(t, "cap")
	p.ContextMin = rapid.Int64Range(1, Nano).Draw(t, "cmin")
	p.ContextMax = rapid.Int64Range(Nano, maxContext).Draw(t, "cmax")
	p.EpochRiskBudget = rapid.Int64Range(0, 100*Nano).Draw(t, "budget")
	return p
}

var ratingGen = rapid.OneOf(
	rapid.SampledFrom([]int64{0, 300_000_000, 500_000_000, 700_000_000, Nano}),
	rapid.Int64Range(0, Nano),
)

// genHistory draws flows before tNow (and sometimes a few after it, as a late
// offline payment sees), with bursts of equal or near-equal times.
func genHistory(t *rapid.T, tNow int64, label string) []Flow {
	n := rapid.IntRange(0, 45).Draw(t, label+".len")
	h := make([]Flow, n)
	for i := range h {
		var tm int64
		switch rapid.IntRange(0, 5).Draw(t, label+".kind") {
		case 0: // burst: minutes apart
			tm = tNow - rapid.Int64Range(0, 3_600_000).Draw(t, label+".burst")
		case 1: // slightly in the future
			tm = tNow + rapid.Int64Range(0, 300_000).Draw(t, label+".future")
		default:
			tm = tNow - rapid.Int64Range(0, 400*day).Draw(t, label+".dt")
		}
		h[i] = Flow{TimeMs: tm, RatingNano: ratingGen.Draw(t, label+".r")}
	}
	return h
}

func mustEngine(t interface{ Fatalf(string, ...any) }, p Params) *Engine {
	e, err := NewEngine(p)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

func sortedCanonical(h []Flow) []Flow {
	c := slices.Clone(h)
	slices.SortStableFunc(c, func(a, b Flow) int {
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

func TestPropReputationBounded(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		tNow := rapid.Int64Range(math.MinInt64/2, math.MaxInt64/2).Draw(t, "tNow")
		if rapid.Bool().Draw(t, "realistic") {
			tNow = tBase
		}
		h := genHistory(t, tNow, "h")
		// Out-of-range ratings and extreme times must be tolerated too.
		if len(h) > 0 && rapid.Bool().Draw(t, "corrupt") {
			h[0].RatingNano = rapid.Int64().Draw(t, "badRating")
			h[len(h)-1].TimeMs = rapid.Int64().Draw(t, "badTime")
		}
		r := e.ReputationAt(h, tNow)
		if r < p.Rmin || r > p.Rmax {
			t.Fatalf("R = %d outside [%d, %d]", r, p.Rmin, p.Rmax)
		}
	})
}

// The fixed-point engine agrees with the float64 formula to 1e-6.
func TestPropReputationMatchesFloat(t *testing.T) {
	worst := 0.0
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		h := genHistory(t, tBase, "h")
		got := float64(e.ReputationAt(h, tBase)) / 1e9
		want := refReputationAt(h, tBase, p)
		d := math.Abs(got - want)
		worst = max(worst, d)
		if d > 1e-6 {
			t.Fatalf("R = %.12f, float64 reference %.12f (diff %g)", got, want, d)
		}
	})
	t.Logf("worst |R − R_float64| = %.3g", worst)
}

func TestPropNewCardNeedsCVM(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		d := e.Evaluate(nil,
			rapid.Int64().Draw(t, "t"),
			rapid.Uint64().Draw(t, "amount"),
			rapid.Int64().Draw(t, "riskMax"),
			rapid.Int64().Draw(t, "ctx"),
			rapid.Int64().Draw(t, "used"))
		if !d.CVMRequired || d.Reason != ReasonNewCard || d.SkipLimitPaise != 0 || d.Risk != math.MaxInt64 {
			t.Fatalf("new card decision %+v", d)
		}
	})
}

func TestPropRaisingARatingNeverLowersR(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		h := genHistory(t, tBase, "h")
		if len(h) == 0 {
			return
		}
		i := rapid.IntRange(0, len(h)-1).Draw(t, "i")
		before := e.ReputationAt(h, tBase)
		h2 := slices.Clone(h)
		h2[i].RatingNano = rapid.Int64Range(h[i].RatingNano, Nano).Draw(t, "higher")
		if after := e.ReputationAt(h2, tBase); after < before {
			t.Fatalf("raising flow %d %d→%d lowered R %d→%d", i, h[i].RatingNano, h2[i].RatingNano, before, after)
		}
	})
}

// Moving the whole history closer to now — all times shifted by the same
// amount, or all ages scaled down — never lowers R: each x_i = Δt_i/(τ·AvgT)
// can only shrink (AvgT shrinks with the span, but never faster than the
// ages). Exact arithmetic makes the oldest flow's x unchanged under both
// moves, so fixed-point rounding of the time scale may differ there by an
// ulp; R is allowed to move by its last unit (1e-9) at most.
func TestPropMoreRecentNeverLowersR(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		h := genHistory(t, tBase, "h")
		for i := range h {
			h[i].TimeMs = min(h[i].TimeMs, tBase) // ages ≥ 0, so "closer" is well defined
		}
		h = sortedCanonical(h)
		if len(h) == 0 {
			return
		}
		before := e.ReputationAt(h, tBase)
		h2 := slices.Clone(h)
		if rapid.Bool().Draw(t, "shift") {
			c := rapid.Int64Range(0, tBase-h[0].TimeMs).Draw(t, "c")
			for i := range h2 {
				h2[i].TimeMs = min(h2[i].TimeMs+c, tBase)
			}
		} else {
			num := rapid.Int64Range(0, 1000).Draw(t, "num")
			for i := range h2 {
				h2[i].TimeMs = tBase - (tBase-h2[i].TimeMs)*num/1000
			}
		}
		for i := 1; i < len(h); i++ {
			if h[i-1].TimeMs < h[i].TimeMs && h2[i-1].TimeMs >= h2[i].TimeMs {
				return // the move merged distinct times: order not kept
			}
		}
		if !isCanonical(h2) {
			t.Fatalf("move broke the order")
		}
		if after := e.ReputationAt(h2, tBase); after < before-1 {
			t.Fatalf("more recent history lowered R %d→%d", before, after)
		}
	})
}

func TestPropLargerAmountNeverSkipsMore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		r := rapid.Int64Range(0, Nano).Draw(t, "R")
		riskMax := rapid.Int64Range(0, 50_000_000).Draw(t, "riskMax")
		ctx := rapid.Int64Range(0, 3*Nano).Draw(t, "ctx")
		used := rapid.Int64Range(0, p.EpochRiskBudget+1).Draw(t, "used")
		a1 := rapid.Uint64Range(0, 2_000_000).Draw(t, "a1")
		a2 := rapid.Uint64Range(a1, math.MaxUint64).Draw(t, "a2")
		d1 := e.Decide(r, a1, riskMax, ctx, used)
		d2 := e.Decide(r, a2, riskMax, ctx, used)
		if d1.CVMRequired && !d2.CVMRequired {
			t.Fatalf("amount %d needs CVM (%s) but %d skips", a1, d1.Reason, a2)
		}
		if d2.Risk < d1.Risk {
			t.Fatalf("risk decreased with amount: %d → %d", d1.Risk, d2.Risk)
		}
	})
}

// SkipLimitPaise is exactly the boundary of the skip decision.
func TestPropSkipLimitIsTheBoundary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		r := rapid.Int64Range(0, Nano).Draw(t, "R")
		riskMax := rapid.Int64Range(-10, 50_000_000).Draw(t, "riskMax")
		ctx := rapid.Int64Range(0, 3*Nano).Draw(t, "ctx")
		used := rapid.Int64Range(0, p.EpochRiskBudget+Nano).Draw(t, "used")
		lim := e.Decide(r, 0, riskMax, ctx, used).SkipLimitPaise
		if lim > p.HardCapPaise {
			t.Fatalf("limit %d above hard cap %d", lim, p.HardCapPaise)
		}
		if r <= p.Rmin && lim != 0 {
			t.Fatalf("limit %d with R ≤ Rmin", lim)
		}
		if lim > 0 {
			if d := e.Decide(r, lim, riskMax, ctx, used); d.CVMRequired {
				t.Fatalf("amount = limit %d needs CVM: %+v", lim, d)
			}
		}
		if d := e.Decide(r, lim+1, riskMax, ctx, used); !d.CVMRequired {
			t.Fatalf("amount = limit+1 = %d skips: %+v", lim+1, d)
		}
		// Below the limit every amount skips too (spot check).
		if lim > 1 {
			a := rapid.Uint64Range(1, lim).Draw(t, "a")
			if d := e.Decide(r, a, riskMax, ctx, used); d.CVMRequired {
				t.Fatalf("amount %d ≤ limit %d needs CVM", a, lim)
			}
		}
	})
}

// Risk is amount·p·a/(b·R) rounded up: never below the exact value, and less
// than one nano above it.
func TestPropRiskRoundsUp(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		r := rapid.Int64Range(p.Rmin+1, p.Rmax).Draw(t, "R")
		amt := rapid.Uint64Range(0, 100_000_000).Draw(t, "amt")
		got := e.Risk(r, amt)
		want := refRisk(p, float64(r)/1e9, amt) * 1e9
		if want >= math.MaxInt64/2 {
			return
		}
		if float64(got) < want*(1-1e-12) || float64(got) > want*(1+1e-12)+1 {
			t.Fatalf("Risk(R=%d, %d) = %d, want ceil(%f)", r, amt, got, want)
		}
	})
}

func TestPropOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		e := mustEngine(t, p)
		h := genHistory(t, tBase, "h")
		perm := rapid.Permutation(h).Draw(t, "perm")
		if a, b := e.ReputationAt(h, tBase), e.ReputationAt(perm, tBase); a != b {
			t.Fatalf("R depends on input order: %d vs %d", a, b)
		}
		if len(h) > 0 {
			if a, b := e.Reputation(h), e.Reputation(perm); a != b {
				t.Fatalf("Reputation depends on input order: %d vs %d", a, b)
			}
		}
	})
}

// Insert agrees with "append, stable sort by time, keep the last n", keeps
// the result sorted and ≤ n long, and leaves its input untouched;
// InsertInPlace gives the same flows.
func TestPropInsert(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(-1, 30).Draw(t, "n")
		h := genHistory(t, tBase, "h")
		slices.SortStableFunc(h, func(a, b Flow) int { return cmpTime(a, b) })
		f := Flow{TimeMs: tBase - rapid.Int64Range(-1000, 100*day).Draw(t, "ft"), RatingNano: ratingGen.Draw(t, "fr")}
		if len(h) > 0 && rapid.Bool().Draw(t, "tie") {
			f.TimeMs = h[rapid.IntRange(0, len(h)-1).Draw(t, "tieWith")].TimeMs
		}
		orig := slices.Clone(h)
		got := Insert(h, f, n)

		want := append(slices.Clone(h), f) // f last: after equal times
		slices.SortStableFunc(want, cmpTime)
		if n <= 0 {
			want = want[:0]
		} else if len(want) > n {
			want = want[len(want)-n:]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Insert = %v, want %v", got, want)
		}
		if !slices.Equal(h, orig) {
			t.Fatalf("Insert modified its input")
		}
		if len(got) > max(n, 0) || !slices.IsSortedFunc(got, cmpTime) {
			t.Fatalf("Insert result unsorted or too long: %v", got)
		}
		if len(got) > 0 && len(h) > 0 && &got[0] == &h[0] {
			t.Fatalf("Insert result aliases its input")
		}
		inPlace := InsertInPlace(slices.Clone(h), f, n)
		if !slices.Equal(inPlace, want) {
			t.Fatalf("InsertInPlace = %v, want %v", inPlace, want)
		}
	})
}

func cmpTime(a, b Flow) int {
	switch {
	case a.TimeMs < b.TimeMs:
		return -1
	case a.TimeMs > b.TimeMs:
		return 1
	}
	return 0
}

func TestPropHistoryCodec(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t, rapid.Int64().Draw(t, "t"), "h")
		if len(h) > MaxHistoryEncoded {
			h = h[:MaxHistoryEncoded]
		}
		for i := range h {
			h[i].RatingNano = clampRating(h[i].RatingNano)
		}
		b := AppendHistory(nil, h)
		got, err := DecodeHistory(b, nil)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !slices.Equal(got, h) && !(len(got) == 0 && len(h) == 0) {
			t.Fatalf("round trip %v → %v", h, got)
		}
		// Any strict prefix or extension is rejected.
		if len(b) > 1 {
			k := rapid.IntRange(0, len(b)-1).Draw(t, "cut")
			if _, err := DecodeHistory(b[:k], nil); err == nil {
				t.Fatalf("truncated encoding accepted")
			}
		}
		if _, err := DecodeHistory(append(b, 0), nil); err == nil {
			t.Fatalf("trailing byte accepted")
		}
	})
}
