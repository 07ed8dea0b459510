package types

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRupees parses a rupee amount such as "250", "250.5" or "250.00"
// into paise exactly (no floating point). At most two decimals.
func ParseRupees(s string) (uint64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "₹"))
	if s == "" {
		return 0, fmt.Errorf("amount is empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if hasDot && (len(frac) == 0 || len(frac) > 2) {
		return 0, fmt.Errorf("amount %q: use at most two decimals (paise)", s)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("amount %q is not a non-negative number of rupees", s)
			}
		}
	}
	r, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	p, _ := strconv.ParseUint(frac, 10, 64)
	total, err := MulU64("amount", r, 100)
	if err == nil {
		total, err = AddU64("amount", total, p)
	}
	if err != nil {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	return total, nil
}

// FormatPaise renders paise as rupees with two decimals ("100.00").
func FormatPaise(p uint64) string { return fmt.Sprintf("%d.%02d", p/100, p%100) }

// FormatSignedPaise renders a signed paise amount ("-100.00").
func FormatSignedPaise(p int64) string {
	if p < 0 {
		return "-" + FormatPaise(uint64(-p))
	}
	return FormatPaise(uint64(p))
}
