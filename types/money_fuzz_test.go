package types

import (
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// The grammar ParseRupees reads, written out as the reference:
//
//	input  = ws* ["₹"] ws* amount ws*       ws: Unicode white space (strings.TrimSpace)
//	amount = digit+ | digit* "." digit digit?
//
// so "250", "250.5", "250.50", ".5", "₹ 250" and " 007.00 " are rupees and
// "", ".", "5.", "1.005", "+1", "-1", "1e3", "1/2" and "१" are not; its
// value, whole*100 + paise, must fit in a uint64 (at most 2^64-1 paise).
// The gateway's schema (^[0-9]{1,16}(\.[0-9]{1,2})?$) is narrower: huma
// refuses the rest of this grammar before ParseRupees sees it.
var rupeeGrammar = regexp.MustCompile(`^(?:[0-9]+|[0-9]*\.[0-9]{1,2})$`)

// referenceRupees is the reference parser: the grammar above by regexp,
// the value by math/big (exact rationals, no uint64 arithmetic).
func referenceRupees(s string) (uint64, bool) {
	core := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "₹"))
	if !rupeeGrammar.MatchString(core) {
		return 0, false
	}
	if strings.HasPrefix(core, ".") {
		core = "0" + core
	}
	r, ok := new(big.Rat).SetString(core)
	if !ok {
		return 0, false
	}
	paise := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !paise.IsInt() {
		return 0, false // cannot happen with at most two decimals
	}
	n := paise.Num()
	if !n.IsUint64() {
		return 0, false
	}
	return n.Uint64(), true
}

// ratOf is what a formatted amount means, by math/big.
func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("%q is not a decimal number", s)
	}
	return r
}

var formatted = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

// FuzzRupees: ParseRupees accepts exactly the strings of its grammar, with
// the value math/big gives them, and FormatPaise/FormatSignedPaise write
// what ParseRupees reads back to the same paise.
func FuzzRupees(f *testing.F) {
	for _, s := range []string{"250", "250.5", "250.50", "0.01", ".5", "₹ 100.00", " 7 ", "0", "000123.4",
		"184467440737095516.15", "184467440737095516.16", "99999999999999999999", "", ".", "5.", "1.005",
		"+1", "-1", "1e3", "1/2", "0x10", "१", "1,000.00", "₹", "₹₹1", "1 .5", "\u00a01.00\u2003", "１"} {
		f.Add(s, uint64(0), int64(0))
	}
	f.Add("1", uint64(math.MaxUint64), int64(math.MinInt64))
	f.Add("2", uint64(100), int64(-1))
	f.Add("3", uint64(12345), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s string, p uint64, sp int64) {
		got, err := ParseRupees(s)
		want, ok := referenceRupees(s)
		switch {
		case ok && err != nil:
			t.Fatalf("ParseRupees(%q) refused a valid amount (%d paise): %v", s, want, err)
		case !ok && err == nil:
			t.Fatalf("ParseRupees(%q) = %d paise; the grammar refuses it", s, got)
		case ok && got != want:
			t.Fatalf("ParseRupees(%q) = %d paise, want %d", s, got, want)
		}
		if err == nil {
			// What was read formats to the same value.
			if back := FormatPaise(got); ratOf(t, back).Cmp(new(big.Rat).SetFrac(new(big.Int).SetUint64(got), big.NewInt(100))) != 0 {
				t.Fatalf("FormatPaise(%d) = %q", got, back)
			}
		}

		// Formatting round-trips for every uint64 and int64.
		fp := FormatPaise(p)
		if !formatted.MatchString(fp) || strings.HasPrefix(fp, "-") {
			t.Fatalf("FormatPaise(%d) = %q: not rupees with two decimals", p, fp)
		}
		if back, err := ParseRupees(fp); err != nil || back != p {
			t.Fatalf("ParseRupees(FormatPaise(%d) = %q) = %d, %v", p, fp, back, err)
		}
		want100 := new(big.Rat).SetFrac(new(big.Int).SetUint64(p), big.NewInt(100))
		if ratOf(t, fp).Cmp(want100) != 0 {
			t.Fatalf("FormatPaise(%d) = %q is not %s", p, fp, want100.FloatString(2))
		}
		fs := FormatSignedPaise(sp)
		if !formatted.MatchString(fs) {
			t.Fatalf("FormatSignedPaise(%d) = %q: not rupees with two decimals", sp, fs)
		}
		if ratOf(t, fs).Cmp(new(big.Rat).SetFrac(big.NewInt(sp), big.NewInt(100))) != 0 {
			t.Fatalf("FormatSignedPaise(%d) = %q", sp, fs)
		}
		if sp >= 0 {
			if back, err := ParseRupees(fs); err != nil || back != uint64(sp) {
				t.Fatalf("ParseRupees(FormatSignedPaise(%d) = %q) = %d, %v", sp, fs, back, err)
			}
		}
	})
}
