package types

import (
	"math"
	"math/bits"
)

// Checked arithmetic: money and points never wrap. Each helper reports an
// *Error with CodeOverflow, which rejects the transaction.

func errOverflow(what string) error {
	return Errorf(CodeOverflow, "%s would overflow", what)
}

// AddU64 returns a+b or an overflow error.
func AddU64(what string, a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, errOverflow(what)
	}
	return s, nil
}

// SubU64 returns a-b; b > a is a programming error reported as overflow.
func SubU64(what string, a, b uint64) (uint64, error) {
	if b > a {
		return 0, errOverflow(what)
	}
	return a - b, nil
}

// MulU64 returns a*b or an overflow error.
func MulU64(what string, a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, errOverflow(what)
	}
	return lo, nil
}

// MulDivU64 returns floor(a*b/d) computed in 128 bits, or an overflow error
// when the quotient does not fit.
func MulDivU64(what string, a, b, d uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if d == 0 || hi >= d {
		return 0, errOverflow(what)
	}
	q, _ := bits.Div64(hi, lo, d)
	return q, nil
}

// AddI64 returns a+b or an overflow error.
func AddI64(what string, a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, errOverflow(what)
	}
	return s, nil
}

// PaiseOfPoints converts points to paise (1 point = Rs 1 = 100 paise) as a
// signed amount for positions.
func PaiseOfPoints(points uint64) (int64, error) {
	p, err := MulU64("points value", points, 100)
	if err != nil || p > math.MaxInt64 {
		return 0, errOverflow("points value")
	}
	return int64(p), nil
}

// FloorDiv is a/b rounded toward negative infinity (Go's / truncates toward
// zero): the one conversion of block times between units (ns to ms to s),
// so that a time before 1970 falls in the second and epoch it lies in.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
