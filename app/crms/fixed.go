package crms

import "math/bits"

// Fixed-point kernel. Every real number inside the engine is an unsigned
// integer with an implied binary scale ("Qf" = value·2^f). Binary scales let
// range reduction and renormalisation be shifts, and math/bits gives exact
// 64×64→128 products and 128/64 quotients, so every operation below is exact
// integer arithmetic with a documented truncation — identical on every CPU.
//
// Formats used:
//   Q63 (uint64): results in [0, 1]; 1.0 = 1<<63 fits because it is unsigned.
//   Q56 (uint64): arguments x, y, z in [0, 256).
//   Q54 (uint64): the erf series sum, which reaches ~460 at z = 2.5.

const (
	one63 = uint64(1) << 63
	one56 = uint64(1) << 56

	// Correctly rounded constants (checked against math/big in fixed_test.go).
	ln2Q64           = 0xb17217f7d1cf79ac // ln 2 · 2^64
	log2eQ62         = 0x5c551d94ae0bf85e // log2 e · 2^62
	twoOverSqrtPiQ62 = 0x48375d410a6db447 // 2/√π · 2^62
	invSqrtPiQ64     = 0x906eba8214db688d // 1/√π · 2^64
	invSqrt2Q64      = 0xb504f333f9de6484 // 1/√2 · 2^64

	// expNegCutQ56: exp(-45) = 2.9e-20 is below half a Q63 ulp, so any larger
	// argument rounds to 0. It also keeps x·log2 e inside Q56.
	expNegCutQ56 = uint64(45) << 56
	// erfcCutQ56: ½erfc(7) = 2.1e-23, far below a Q63 ulp (1.1e-19).
	erfcCutQ56 = uint64(7) << 56
	// erfcSeriesMaxQ56 is where the erf series hands over to the continued
	// fraction: below it the series sum stays < 64 (so it fits Q58) and 1-erf
	// loses little (erfc ≥ 4.7e-3); above it 80 continued-fraction terms are
	// accurate to < 3e-20 relative (the truncation error falls fast with z).
	erfcSeriesMaxQ56 = uint64(2) << 56
	erfcCFTerms      = 80
)

// pow2NegQ63[j] = 2^(-j/64) in Q63, correctly rounded.
var pow2NegQ63 = [64]uint64{
	0x8000000000000000, 0x7e9f06067a4360ba, 0x7d41d96db915019d, 0x7be86fb985689ddc,
	0x7a92be8a92436616, 0x7940bb9e2cffd89d, 0x77f25ccdee6d7ae6, 0x76a7980f6cca15c2,
	0x75606373ee921c97, 0x741cb5281e25ee34, 0x72dc8373be41a454, 0x719fc4b95f452d29,
	0x70666f76154a7089, 0x6f307a412f074892, 0x6dfddbcbed791bab, 0x6cce8ae13c57ebdb,
	0x6ba27e656b4eb57a, 0x6a79ad55e7f6fd10, 0x69540ec8f895722d, 0x683199ed779592ca,
	0x6712460a8fc24072, 0x65f60a7f79393e2e, 0x64dcdec3371793d1, 0x63c6ba6455dcd8ae,
	0x62b39508aa836d6f, 0x61a3666d124bb204, 0x6096266533384a2b, 0x5f8bccdb3d398841,
	0x5e8451cfac061b5f, 0x5d7fad59099f22fe, 0x5c7dd7a3b17dcf75, 0x5b7ec8f19468bbc9,
	0x5a827999fcef3242, 0x5988e20954889245, 0x5891fac0e95612c8, 0x579dbc56b48521ba,
	0x56ac1f752150a563, 0x55bd1cdad49f699c, 0x54d0ad5a753e077c, 0x53e6c9da74b29ab5,
	0x52ff6b54d8a89c75, 0x521a8ad704f3404f, 0x513821818624b40c, 0x50582887dcb8a7e1,
	0x4f7a993048d088d7, 0x4e9f6cd3967fdba8, 0x4dc69cdceaa72a9c, 0x4cf022c9905bfd32,
	0x4c1bf828c6dc54b8, 0x4b4a169b900c2d00, 0x4a7a77d47f7b84b1, 0x49ad159789f37496,
	0x48e1e9b9d588e19b, 0x4818ee218a3358ee, 0x47521cc5a2e6a9e0, 0x468d6fadbf2dd4f3,
	0x45cae0f1f545eb73, 0x450a6abaa4b77ecd, 0x444c0740496d4294, 0x438fb0cb4f468808,
	0x42d561b3e6243d8a, 0x421d1461d66f2023, 0x4166c34c5615d0ec, 0x40b268f9de0183ba,
}

// mulShift returns floor(a·b / 2^s) for s in [0, 127]; the caller guarantees
// the result fits in 64 bits.
func mulShift(a, b uint64, s uint) uint64 {
	hi, lo := bits.Mul64(a, b)
	return shr128(hi, lo, s)
}

// shr128 returns the low 64 bits of (hi·2^64 + lo) >> s. Go defines shifts
// by ≥ 64 as producing 0, so s up to 127 (and beyond) is safe.
func shr128(hi, lo uint64, s uint) uint64 {
	if s >= 64 {
		return hi >> (s - 64)
	}
	if s == 0 {
		return lo
	}
	return hi<<(64-s) | lo>>s
}

// expSmallQ63 returns exp(-t) for t in Q63, 0 ≤ t < ln2/64 ≈ 0.0109, by the
// degree-8 Taylor polynomial in Horner form. The truncation term t^9/9! is
// below 1e-23, so the error is the ~2 ulp of rounding. Every intermediate
// stays in (0, 1], so unsigned arithmetic cannot underflow. Division by each
// constant compiles to a multiply.
func expSmallQ63(t uint64) uint64 {
	h := one63
	h = one63 - mulShift(t, h, 63)/8
	h = one63 - mulShift(t, h, 63)/7
	h = one63 - mulShift(t, h, 63)/6
	h = one63 - mulShift(t, h, 63)/5
	h = one63 - mulShift(t, h, 63)/4
	h = one63 - mulShift(t, h, 63)/3
	h = one63 - mulShift(t, h, 63)/2
	h = one63 - mulShift(t, h, 63)
	return h
}

// exp2NegParts returns m with 2^-(k+f) = m·2^-63·2^-k, for an integer part
// k and a fraction f in Q64 (kept separate so that the argument carries 64
// fractional bits: a Q56 argument alone would cost ~90 ulp). The mantissa m
// lies in (2^62·0.98, 2^63] and keeps ~19 significant digits even where the
// value itself underflows Q63, so callers multiply by m first and shift by
// k last.
//
// Range reduction: f = j/64 + g with g < 1/64; 2^-(j/64) comes from the table,
// 2^-g = exp(-g·ln2) from the short Taylor polynomial.
func exp2NegParts(f uint64) uint64 {
	j := f >> 58
	g := f & (1<<58 - 1) // Q64, < 2^-6
	t := mulShift(g, ln2Q64, 65)
	return mulShift(pow2NegQ63[j], expSmallQ63(t), 63)
}

// roundShift returns m / 2^k rounded half up, for m ≤ 2^63.
func roundShift(m uint64, k uint) uint64 {
	if k == 0 {
		return m
	}
	if k > 64 {
		return 0
	}
	return (m>>(k-1) + 1) >> 1
}

// expNegQ63 returns exp(-x) in Q63 for x ≥ 0 in Q56, rounded to nearest.
// Error ≤ 2 ulp (2.2e-19) absolute (TestExpNegExact: worst 1.6), hence
// ≤ 1e-6 relative wherever exp(-x) ≥ 2.2e-13 (x ≤ 29.1); 0 for x ≥ 45,
// where the true value is below half an ulp.
func expNegQ63(x uint64) uint64 {
	if x >= expNegCutQ56 {
		return 0
	}
	// y = x·log2 e is exactly hi:lo in Q118.
	hi, lo := bits.Mul64(x, log2eQ62)
	return roundShift(exp2NegParts(hi<<10|lo>>54), uint(hi>>54))
}

// halfErfcQ63 returns ½·erfc(z) in Q63 (so the result is in [0, 1]) for z
// given as a sign and a Q56 magnitude. ½erfc rather than erfc because the
// former is what the rank weights need and it fits Q63 over all of z.
//
// Error (TestHalfErfcExact, against 320-bit math/big): ≤ 200 ulp (2.2e-17)
// absolute for |z| < 2, where the value is ≥ 2.3e-3, so ≤ 1e-14 relative;
// ≤ 1 ulp (1.1e-19) for |z| ≥ 2, so ≤ 1e-6 relative wherever ½erfc ≥ 1.1e-13
// (z ≤ 5.1). For z ≥ 7 the result is 0: ½erfc(7) = 2e-23 is below half an
// ulp, and a rank weight that small is < 1e-22 of the normaliser (≥ ½), so
// it cannot move R at 1e-9.
func halfErfcQ63(neg bool, z uint64) uint64 {
	h := halfErfcPosQ63(z)
	if neg {
		return one63 - h
	}
	return h
}

func halfErfcPosQ63(z uint64) uint64 {
	if z == 0 {
		return one63 / 2
	}
	if z >= erfcCutQ56 {
		return 0
	}
	x := mulShift(z, z, 54) // z² in Q58, < 49
	// e^{-z²} = 2^-y, y = z²·log2 e exactly hi:lo in Q120.
	hi, lo := bits.Mul64(x, log2eQ62)
	k := uint(hi >> 56)
	m := exp2NegParts(hi<<8 | lo>>56)
	u := x >> 1 // 2z² in Q56
	if z < erfcSeriesMaxQ56 {
		// erf(z) = 2/√π · e^{-z²} · Σ a_n, a_0 = z, a_n = a_{n-1}·2z²/(2n+1):
		// all terms positive, so the sum has no cancellation; the one
		// subtraction, 1 - erf, loses only the absolute error of erf.
		a := z << 2 // Q58; Σ a_n < 48 for z < 2
		s := a
		for n := uint64(1); n < 200; n++ {
			p, _ := mul64x64(a, u).quoRem64(2*n + 1)
			a = shr128(p.hi, p.lo, 56)
			if a == 0 {
				break
			}
			s += a
		}
		c := mulShift(m, twoOverSqrtPiQ62, 62) // 2/√π·mantissa, Q63
		hi, lo := bits.Mul64(c, s)
		erf := shr128(hi, lo, 58+k) // k ≤ 5 here, so the value fits in Q63
		if erf > one63 {
			erf = one63
		}
		return (one63 - erf + 1) >> 1
	}
	// erfc(z) = e^{-z²}/(z√π) · 1/D_1 with D_k = 1 + (k/2z²)/D_{k+1},
	// evaluated backwards from a fixed depth: every D_k is in [1, 1+k/2z²],
	// so the quotients stay well inside Q56.
	d := one56
	for kk := uint64(erfcCFTerms); kk >= 1; kk-- {
		c := mulShift(u, d, 56)
		q, _ := bits.Div64(kk<<48, 0, c) // kk·2^112/c = (kk/(2z²·D))·2^56
		d = one56 + q
	}
	zd := mulShift(z, d, 56)
	inv, _ := bits.Div64(1<<55, 0, zd) // 2^119/zd = 1/(zD) in Q63
	c := mulShift(m, invSqrtPiQ64, 64)
	hi, lo = bits.Mul64(c, inv)
	// Q126 → Q63, times 2^-k, times ½, rounded half up.
	v := shr128(hi, lo, 63+k)
	return (v + 1) >> 1
}

// u128 is an unsigned 128-bit integer for the few places (normaliser, risk)
// where a product of two 64-bit quantities must be divided exactly.
type u128 struct{ hi, lo uint64 }

func mul64x64(a, b uint64) u128 {
	hi, lo := bits.Mul64(a, b)
	return u128{hi, lo}
}

// mul64 returns u·b and whether it overflowed 128 bits.
func (u u128) mul64(b uint64) (u128, bool) {
	h1, l1 := bits.Mul64(u.lo, b)
	h2, l2 := bits.Mul64(u.hi, b)
	hi, c := bits.Add64(h1, l2, 0)
	return u128{hi, l1}, h2 != 0 || c != 0
}

func (u u128) add(v u128) (u128, bool) {
	lo, c := bits.Add64(u.lo, v.lo, 0)
	hi, c2 := bits.Add64(u.hi, v.hi, c)
	return u128{hi, lo}, c2 != 0
}

func (u u128) sub(v u128) u128 {
	lo, b := bits.Sub64(u.lo, v.lo, 0)
	hi, _ := bits.Sub64(u.hi, v.hi, b)
	return u128{hi, lo}
}

func (u u128) cmp(v u128) int {
	switch {
	case u.hi < v.hi:
		return -1
	case u.hi > v.hi:
		return 1
	case u.lo < v.lo:
		return -1
	case u.lo > v.lo:
		return 1
	}
	return 0
}

func (u u128) isZero() bool { return u.hi == 0 && u.lo == 0 }

func (u u128) lsh(n uint) u128 {
	switch {
	case n == 0:
		return u
	case n >= 64:
		return u128{u.lo << (n - 64), 0}
	}
	return u128{u.hi<<n | u.lo>>(64-n), u.lo << n}
}

func (u u128) rsh(n uint) u128 {
	switch {
	case n == 0:
		return u
	case n >= 64:
		return u128{0, u.hi >> (n - 64)}
	}
	return u128{u.hi >> n, u.lo>>n | u.hi<<(64-n)}
}

// quoRem64 divides by a non-zero 64-bit divisor.
func (u u128) quoRem64(v uint64) (u128, uint64) {
	qhi, r := u.hi/v, u.hi%v
	qlo, r := bits.Div64(r, u.lo, v)
	return u128{qhi, qlo}, r
}

// quoRem divides by a non-zero divisor (Hacker's Delight 9-5: estimate the
// quotient from the normalised top words, then correct by at most one).
func (u u128) quoRem(v u128) (u128, u128) {
	if v.hi == 0 {
		q, r := u.quoRem64(v.lo)
		return q, u128{0, r}
	}
	n := uint(bits.LeadingZeros64(v.hi))
	v1 := v.lsh(n)
	u1 := u.rsh(1)
	tq, _ := bits.Div64(u1.hi, u1.lo, v1.hi)
	tq >>= 63 - n
	if tq != 0 {
		tq--
	}
	q := u128{0, tq}
	p, _ := v.mul64(tq)
	r := u.sub(p)
	if r.cmp(v) >= 0 {
		q, _ = q.add(u128{0, 1})
		r = r.sub(v)
	}
	return q, r
}

// mantExp is a positive number m·2^-e with m normalised to [2^63, 2^64): a
// software float used only to carry the per-call time-scale factor
// log2(e)·1e9·gaps/(τ·span) at full 64-bit precision without a 128-bit
// quotient. All operations truncate, so each loses < 2^-63 relative.
type mantExp struct {
	m uint64
	e int
}

// meDiv returns n/d for n, d > 0.
func meDiv(n, d uint64) mantExp {
	ln, ld := bits.Len64(n), bits.Len64(d)
	nn, dd := n<<(64-ln), d<<(64-ld)
	if nn < dd {
		q, _ := bits.Div64(nn, 0, dd)
		return mantExp{q, 64 + ld - ln}
	}
	q, _ := bits.Div64(nn>>1, nn<<63, dd)
	return mantExp{q, 63 + ld - ln}
}

// div returns f/d for d > 0.
func (f mantExp) div(d uint64) mantExp {
	g := meDiv(f.m, d)
	g.e += f.e
	return g
}

// mul returns f·b for b > 0.
func (f mantExp) mul(b uint64) mantExp {
	hi, lo := bits.Mul64(f.m, b)
	l := uint(bits.Len64(hi)) // 0 only when b = 1; shifts by 64 yield 0 in Go
	return mantExp{hi<<(64-l) | lo>>l, f.e - int(l)}
}
