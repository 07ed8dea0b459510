package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ParseNano parses a non-negative decimal ("0.005", "1", "2.5") into nano
// units exactly (at most 9 decimals).
func ParseNano(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty number")
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" {
		ip = "0"
	}
	if len(fp) > 9 || len(ip) > 9 {
		return 0, fmt.Errorf("%q: at most 9 digits before and after the point", s)
	}
	var v int64
	for _, c := range ip {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
		v = v*10 + int64(c-'0')
	}
	var f int64
	for i := range 9 {
		f *= 10
		if i < len(fp) {
			c := fp[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q is not a decimal number", s)
			}
			f += int64(c - '0')
		}
	}
	return v*1_000_000_000 + f, nil
}

// ParseSweep parses a Risk_max sweep: "FROM:TO:STEP" (inclusive, exact in
// nano: "0.005:0.020:0.001" is 16 values) or a comma list "0.005,0.01".
func ParseSweep(s string) ([]int64, error) {
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var v [3]int64
		for i, p := range parts {
			n, err := ParseNano(p)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		from, to, step := v[0], v[1], v[2]
		if from <= 0 || step <= 0 || to < from {
			return nil, fmt.Errorf("%q: need 0 < FROM ≤ TO and STEP > 0", s)
		}
		if (to-from)/step >= 1000 {
			return nil, fmt.Errorf("%q: more than 1000 values", s)
		}
		var out []int64
		for x := from; x <= to; x += step {
			out = append(out, x)
		}
		return out, nil
	}
	var out []int64
	for p := range strings.SplitSeq(s, ",") {
		n, err := ParseNano(p)
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return nil, fmt.Errorf("Risk_max %q must be positive", p)
		}
		out = append(out, n)
	}
	if len(out) == 0 || len(out) > 1000 {
		return nil, fmt.Errorf("%q: need 1 to 1000 values", s)
	}
	return out, nil
}

// ProgressTo draws progress on w: a bar when w is a terminal, tenths
// otherwise (a log file, a test's buffer).
func ProgressTo(w io.Writer, label string, total int64) *Progress {
	if f, ok := w.(*os.File); ok {
		return NewProgress(f, label, total)
	}
	return newProgress(w, false, label, total, time.Now)
}
