package crms

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"
)

const bigPrec = 320

func bf(x int64) *big.Float { return new(big.Float).SetPrec(bigPrec).SetInt64(x) }

// bigLn2 = Σ_{k≥1} 1/(k·2^k).
func bigLn2() *big.Float {
	sum := bf(0)
	pow := bf(1)
	for k := int64(1); k < 400; k++ {
		pow.Quo(pow, bf(2))
		sum.Add(sum, new(big.Float).SetPrec(bigPrec).Quo(pow, bf(k)))
	}
	return sum
}

// bigAtanInv returns atan(1/x) by its Taylor series.
func bigAtanInv(x int64) *big.Float {
	sum := bf(0)
	xx := bf(x * x)
	p := new(big.Float).SetPrec(bigPrec).Quo(bf(1), bf(x)) // x^-(2k+1)
	for k := int64(0); k < 300; k++ {
		t := new(big.Float).SetPrec(bigPrec).Quo(p, bf(2*k+1))
		if k%2 == 0 {
			sum.Add(sum, t)
		} else {
			sum.Sub(sum, t)
		}
		p.Quo(p, xx)
	}
	return sum
}

// bigPi by Machin's formula.
func bigPi() *big.Float {
	a := new(big.Float).SetPrec(bigPrec).Mul(bf(16), bigAtanInv(5))
	b := new(big.Float).SetPrec(bigPrec).Mul(bf(4), bigAtanInv(239))
	return a.Sub(a, b)
}

// roundQ returns round(x·2^q) as a uint64, failing if it does not fit.
func roundQ(t *testing.T, x *big.Float, q int) uint64 {
	t.Helper()
	y := new(big.Float).SetPrec(bigPrec).SetMantExp(x, q)
	y.Add(y, new(big.Float).SetPrec(bigPrec).SetFloat64(0.5))
	i, _ := y.Int(nil)
	if !i.IsUint64() {
		t.Fatalf("constant %v·2^%d does not fit uint64", x, q)
	}
	return i.Uint64()
}

// TestConstants recomputes every hard-coded constant with math/big (series
// and square roots only, no float64 anywhere) and requires the literal to be
// the correctly rounded value.
func TestConstants(t *testing.T) {
	ln2 := bigLn2()
	pi := bigPi()
	sqrtPi := new(big.Float).SetPrec(bigPrec).Sqrt(pi)
	sqrt2 := new(big.Float).SetPrec(bigPrec).Sqrt(bf(2))
	quo := func(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(bigPrec).Quo(a, b) }

	checks := []struct {
		name string
		got  uint64
		want *big.Float
		q    int
	}{
		{"ln2Q64", ln2Q64, ln2, 64},
		{"log2eQ62", log2eQ62, quo(bf(1), ln2), 62},
		{"twoOverSqrtPiQ62", twoOverSqrtPiQ62, quo(bf(2), sqrtPi), 62},
		{"invSqrtPiQ64", invSqrtPiQ64, quo(bf(1), sqrtPi), 64},
		{"invSqrt2Q64", invSqrt2Q64, quo(bf(1), sqrt2), 64},
	}
	for _, c := range checks {
		if w := roundQ(t, c.want, c.q); c.got != w {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, w)
		}
	}
	// 2^(1/64) by six square roots of 2; 2^(-j/64) = 1/(2^(1/64))^j.
	r := bf(2)
	for range 6 {
		r.Sqrt(r)
	}
	p := bf(1)
	for j := range 64 {
		if w := roundQ(t, quo(bf(1), p), 63); pow2NegQ63[j] != w {
			t.Errorf("pow2NegQ63[%d] = %#x, want %#x", j, pow2NegQ63[j], w)
		}
		p.Mul(p, r)
	}
	// Sanity of the reference itself.
	if f, _ := pi.Float64(); f != math.Pi {
		t.Fatalf("big π = %v", f)
	}
}

const two63 = float64(1 << 63)
const two56 = float64(1 << 56)

// expRelRange is where exp(-x) ≥ 3.3e-13, i.e. where 3 ulp of Q63 are ≤ 1e-6
// of the value. Beyond it exp is held to an absolute bound.
const expRelRange = 28.7

func checkExp(t *testing.T, xq uint64, maxRel, maxAbsUlp *float64) {
	t.Helper()
	x := float64(xq) / two56
	got := float64(expNegQ63(xq))
	want := math.Exp(-x) * two63
	absUlp := math.Abs(got - want)
	*maxAbsUlp = max(*maxAbsUlp, absUlp)
	// 3 ulp of ours plus the float64 reference's own rounding (the exact
	// bound is checked against math/big in TestExpNegExact).
	if absUlp > 3+4e-16*want {
		t.Fatalf("exp(-%v): got %v ulp, want %v (error %v ulp)", x, got, want, absUlp)
	}
	if x <= expRelRange {
		rel := absUlp / want
		*maxRel = max(*maxRel, rel)
		if rel > 1e-6 {
			t.Fatalf("exp(-%v): relative error %v", x, rel)
		}
	}
}

// TestExpNegAccuracy: the used range is x = Δt/(τ·AvgT) ∈ [0, 45); above
// 45 the result is 0 (true value < ½ ulp). Dense grid of 2^-12 plus a
// random sample at full Q56 resolution and the range-reduction seams.
func TestExpNegAccuracy(t *testing.T) {
	var maxRel, maxAbs float64
	for xq := uint64(0); xq < expNegCutQ56; xq += 1 << 44 {
		checkExp(t, xq, &maxRel, &maxAbs)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		// Clear the bits float64 cannot hold, so the reference sees the same x.
		checkExp(t, rng.Uint64N(expNegCutQ56)&^(1<<9-1), &maxRel, &maxAbs)
	}
	// Seams of the reduction: y = x·log2 e crossing integers and j/64.
	for k := range 64 * 40 {
		x := float64(k) / 64 * math.Ln2
		xq := uint64(x * two56)
		for _, d := range []uint64{0, 1, 2, 1 << 10} {
			checkExp(t, xq+d, &maxRel, &maxAbs)
			if xq >= d {
				checkExp(t, xq-d, &maxRel, &maxAbs)
			}
		}
	}
	if got := expNegQ63(0); got != one63 {
		t.Errorf("exp(0) = %#x, want exactly 1", got)
	}
	for _, xq := range []uint64{expNegCutQ56, expNegCutQ56 + 1, math.MaxUint64} {
		if got := expNegQ63(xq); got != 0 {
			t.Errorf("exp(-%v) = %d, want 0", float64(xq)/two56, got)
		}
	}
	t.Logf("exp: max relative error %.3g (x ≤ %v), max absolute %.3g ulp of 2^-63", maxRel, expRelRange, maxAbs)
}

// Monotonicity matters for the property tests: exp must never increase.
func TestExpNegMonotone(t *testing.T) {
	prev := expNegQ63(0)
	for xq := uint64(1 << 40); xq < expNegCutQ56; xq += 1<<40 + 12345 {
		v := expNegQ63(xq)
		if v > prev {
			t.Fatalf("exp not monotone at %v", float64(xq)/two56)
		}
		prev = v
	}
}

// erfcRelMin is the smallest ½erfc value held to 1e-6 relative. Values
// below ½erfc(2) = 2.3e-3 come from the continued fraction, whose error is
// ≤ 1 ulp (1.1e-19): 1e-6 relative down to 1.1e-13. Above it the series'
// 200 ulp are < 1e-14 relative.
const erfcRelMin = 1e-12

func checkHalfErfc(t *testing.T, z float64, neg bool, zq uint64, maxRel, maxAbs *float64) {
	t.Helper()
	got := float64(halfErfcQ63(neg, zq)) / two63
	want := 0.5 * math.Erfc(z)
	abs := math.Abs(got - want)
	*maxAbs = max(*maxAbs, abs)
	// 2.2e-17 (200 ulp) of ours plus the float64 reference's own rounding
	// (the exact bounds are checked against math/big in TestHalfErfcExact).
	if abs > 2.2e-17+4e-16*want {
		t.Fatalf("½erfc(%v): got %v want %v (abs error %v)", z, got, want, abs)
	}
	if want >= erfcRelMin {
		rel := abs / want
		*maxRel = max(*maxRel, rel)
		if rel > 1e-6 {
			t.Fatalf("½erfc(%v): relative error %v", z, rel)
		}
	}
}

// TestHalfErfcAccuracy covers z ∈ [-8, 8] on a 2^-11 grid plus random points
// at full resolution. The rank weights use z = (k − x_m)/(√2·x_d); beyond
// |z| = 7 the value is exactly 0 or 1 in Q63 (½erfc(7) = 2e-23 ≪ 1 ulp).
func TestHalfErfcAccuracy(t *testing.T) {
	var maxRel, maxAbs float64
	for i := int64(-8 << 11); i <= 8<<11; i++ {
		neg := i < 0
		mag := uint64(i)
		if neg {
			mag = uint64(-i)
		}
		zq := mag << 45
		z := float64(i) / (1 << 11)
		checkHalfErfc(t, z, neg, zq, &maxRel, &maxAbs)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50_000 {
		zq := rng.Uint64N(8<<56) &^ (1<<6 - 1) // exactly representable in float64
		neg := rng.IntN(2) == 0
		z := float64(zq) / two56
		if neg {
			z = -z
		}
		checkHalfErfc(t, z, neg, zq, &maxRel, &maxAbs)
	}
	// The series / continued fraction seam.
	for d := -1000; d <= 1000; d++ {
		zq := uint64(int64(erfcSeriesMaxQ56) + int64(d))
		checkHalfErfc(t, float64(zq)/two56, false, zq, &maxRel, &maxAbs)
	}
	if got := halfErfcQ63(false, 0); got != one63/2 {
		t.Errorf("½erfc(0) = %#x", got)
	}
	if got := halfErfcQ63(true, math.MaxUint64); got != one63 {
		t.Errorf("½erfc(-∞) = %#x", got)
	}
	if got := halfErfcQ63(false, math.MaxUint64); got != 0 {
		t.Errorf("½erfc(+∞) = %#x", got)
	}
	t.Logf("½erfc: max relative error %.3g (value ≥ %v), max absolute %.3g", maxRel, erfcRelMin, maxAbs)
}

// TestRankWeightsAccuracy checks the whole path k, Xm, Xd → z → ½erfc over
// the ranges Validate admits that matter in practice (N ≤ 200, x_m ∈ [0, N],
// x_d from 0.25 to 50), against float64.
func TestRankWeightsAccuracy(t *testing.T) {
	var maxRel, maxAbs float64
	sqrt2 := new(big.Float).SetPrec(bigPrec).Sqrt(bf(2))
	for _, xd := range []int64{Nano / 4, Nano / 2, Nano, 3 * Nano, 7*Nano + 123_456_789, 50 * Nano} {
		for _, xm := range []int64{0, Nano / 3, 5 * Nano, 10 * Nano, 99_999_999_999, 200 * Nano} {
			for k := range MaxN {
				neg, zq := rankArg(k, xm, xd)
				// Exact z from math/big; rankArg must be within 2 ulp of Q56.
				zb := new(big.Float).SetPrec(bigPrec).Quo(bf(int64(k)*Nano-xm), new(big.Float).SetPrec(bigPrec).Mul(sqrt2, bf(xd)))
				if wantNeg := zb.Sign() < 0; wantNeg != neg && zb.Sign() != 0 {
					t.Fatalf("rankArg(%d,%d,%d) sign %v", k, xm, xd, neg)
				}
				zabs := new(big.Float).SetPrec(bigPrec).Abs(zb)
				if zq != math.MaxUint64 {
					if e := ulpErr56(zq, zabs); e > 2 {
						t.Fatalf("rankArg(%d,%d,%d) off by %v ulp", k, xm, xd, e)
					}
				} else if zabs.Cmp(bf(256)) < 0 {
					t.Fatalf("rankArg(%d,%d,%d) saturated at |z| = %v", k, xm, xd, zabs)
				}
				z, _ := zb.Float64()
				if zq != math.MaxUint64 {
					z = float64(zq&^(1<<10-1)) / two56 // what the kernel saw, as float64 holds it
					if neg {
						z = -z
					}
					zq &^= 1<<10 - 1
				}
				checkHalfErfc(t, z, neg, zq, &maxRel, &maxAbs)
			}
		}
	}
	t.Logf("rank weights: max relative error %.3g, max absolute %.3g", maxRel, maxAbs)
}

func toBig(u u128) *big.Int {
	b := new(big.Int).SetUint64(u.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.lo))
}

func genU128(t *rapid.T, label string) u128 {
	// Mix full-range and small words so both quotient paths are exercised.
	w := rapid.OneOf(rapid.Uint64(), rapid.Uint64Range(0, 1<<20), rapid.Just(uint64(0)), rapid.Just(uint64(math.MaxUint64)))
	return u128{w.Draw(t, label+".hi"), rapid.Uint64().Draw(t, label+".lo")}
}

func TestU128QuoRem(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := genU128(t, "u")
		v := genU128(t, "v")
		if v.isZero() {
			v.lo = 1
		}
		q, r := u.quoRem(v)
		wq, wr := new(big.Int).QuoRem(toBig(u), toBig(v), new(big.Int))
		if toBig(q).Cmp(wq) != 0 || toBig(r).Cmp(wr) != 0 {
			t.Fatalf("%v / %v = %v r %v, want %v r %v", toBig(u), toBig(v), toBig(q), toBig(r), wq, wr)
		}
	})
}

func TestU128Mul64(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := genU128(t, "u")
		b := rapid.Uint64().Draw(t, "b")
		p, over := u.mul64(b)
		want := new(big.Int).Mul(toBig(u), new(big.Int).SetUint64(b))
		wantOver := want.BitLen() > 128
		if over != wantOver {
			t.Fatalf("overflow = %v, want %v", over, wantOver)
		}
		if !over && toBig(p).Cmp(want) != 0 {
			t.Fatalf("%v·%d = %v, want %v", toBig(u), b, toBig(p), want)
		}
	})
}

// mantExp operations lose < 2^-63 relative each.
func TestUfloat(t *testing.T) {
	val := func(f mantExp) *big.Float {
		return new(big.Float).SetPrec(bigPrec).SetMantExp(new(big.Float).SetPrec(bigPrec).SetUint64(f.m), -f.e)
	}
	relErr := func(got, want *big.Float) float64 {
		d := new(big.Float).SetPrec(bigPrec).Sub(got, want)
		d.Quo(d, want)
		r, _ := d.Float64()
		return math.Abs(r)
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Uint64Range(1, math.MaxUint64).Draw(t, "n")
		d := rapid.Uint64Range(1, math.MaxUint64).Draw(t, "d")
		b := rapid.Uint64Range(1, math.MaxUint64).Draw(t, "b")
		f := meDiv(n, d)
		if f.m < 1<<63 {
			t.Fatalf("not normalised: %#x", f.m)
		}
		want := new(big.Float).SetPrec(bigPrec).Quo(new(big.Float).SetUint64(n), new(big.Float).SetUint64(d))
		if e := relErr(val(f), want); e > 0x1p-63 {
			t.Fatalf("meDiv(%d,%d) rel err %g", n, d, e)
		}
		g := f.mul(b)
		wantG := new(big.Float).SetPrec(bigPrec).Mul(want, new(big.Float).SetUint64(b))
		if e := relErr(val(g), wantG); e > 0x1p-62 || g.m < 1<<63 {
			t.Fatalf("mul rel err %g m %#x", e, g.m)
		}
		h := f.div(b)
		wantH := new(big.Float).SetPrec(bigPrec).Quo(want, new(big.Float).SetUint64(b))
		if e := relErr(val(h), wantH); e > 0x1p-62 || h.m < 1<<63 {
			t.Fatalf("div rel err %g m %#x", e, h.m)
		}
	})
}

// bigExpNeg returns exp(-x) to ~300 bits: Taylor series of exp(-x/2^20),
// then 20 squarings.
func bigExpNeg(x *big.Float) *big.Float {
	y := new(big.Float).SetPrec(bigPrec).SetMantExp(x, -20)
	sum, term := bf(1), bf(1)
	for n := int64(1); n < 60; n++ {
		term.Mul(term, y)
		term.Quo(term, bf(-n))
		sum.Add(sum, term)
	}
	for range 20 {
		sum.Mul(sum, sum)
	}
	return sum
}

// bigHalfErfc returns ½erfc(z) = ½ − (1/√π)·Σ (−1)^n z^(2n+1)/(n!(2n+1)) at
// 320 bits; for |z| ≤ 8 the cancellation costs < 100 bits.
func bigHalfErfc(z *big.Float, sqrtPi *big.Float) *big.Float {
	z2 := new(big.Float).SetPrec(bigPrec).Mul(z, z)
	p := new(big.Float).SetPrec(bigPrec).Set(z) // z^(2n+1)/n! with sign
	sum := bf(0)
	for n := int64(0); n < 400; n++ {
		sum.Add(sum, new(big.Float).SetPrec(bigPrec).Quo(p, bf(2*n+1)))
		p.Mul(p, z2)
		p.Quo(p, bf(-(n + 1)))
	}
	sum.Quo(sum, sqrtPi)
	return sum.Sub(new(big.Float).SetPrec(bigPrec).SetFloat64(0.5), sum)
}

// ulpErr returns |got − want·2^63| in units of 2^-63.
func ulpErr(got uint64, want *big.Float) float64 {
	w := new(big.Float).SetPrec(bigPrec).SetMantExp(want, 63)
	d := w.Sub(w, new(big.Float).SetPrec(bigPrec).SetUint64(got))
	f, _ := d.Float64()
	return math.Abs(f)
}

// ulpErr56 returns |got − want·2^56|.
func ulpErr56(got uint64, want *big.Float) float64 {
	w := new(big.Float).SetPrec(bigPrec).SetMantExp(want, 56)
	d := w.Sub(w, new(big.Float).SetPrec(bigPrec).SetUint64(got))
	f, _ := d.Float64()
	return math.Abs(f)
}

// TestExpNegExact holds exp to its documented bound (≤ 2 ulp of Q63
// absolute) against a 300-bit reference, on a random sample of the range.
func TestExpNegExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for i := range 3000 {
		xq := rng.Uint64N(expNegCutQ56)
		if i < 64 {
			xq = uint64(i) << 50 // small arguments, where exp ≈ 1
		}
		x := new(big.Float).SetPrec(bigPrec).SetMantExp(new(big.Float).SetUint64(xq), -56)
		e := ulpErr(expNegQ63(xq), bigExpNeg(x))
		worst = max(worst, e)
		if e > 2 {
			t.Fatalf("exp(-%v): %v ulp", float64(xq)/two56, e)
		}
	}
	t.Logf("exp: worst %.3g ulp of 2^-63", worst)
}

// TestHalfErfcExact holds ½erfc to its documented absolute bounds (≤ 200 ulp
// for |z| < 2, ≤ 1 ulp above) against a 320-bit reference.
func TestHalfErfcExact(t *testing.T) {
	sqrtPi := new(big.Float).SetPrec(bigPrec).Sqrt(bigPi())
	rng := rand.New(rand.NewPCG(7, 8))
	worstSeries, worstCF := 0.0, 0.0
	for range 4000 {
		zq := rng.Uint64N(erfcCutQ56 + 1<<56)
		neg := rng.IntN(4) == 0
		z := new(big.Float).SetPrec(bigPrec).SetMantExp(new(big.Float).SetUint64(zq), -56)
		if neg {
			z.Neg(z)
		}
		e := ulpErr(halfErfcQ63(neg, zq), bigHalfErfc(z, sqrtPi))
		bound := 1.0
		if zq < erfcSeriesMaxQ56 {
			bound = 200
			worstSeries = max(worstSeries, e)
		} else {
			worstCF = max(worstCF, e)
		}
		if e > bound {
			t.Fatalf("½erfc(%v): %v ulp", z, e)
		}
	}
	t.Logf("½erfc: worst %.3g ulp (series), %.3g ulp (continued fraction)", worstSeries, worstCF)
}
