package types

import (
	"fmt"
	"strings"
	"time"
)

// Amounts, times and ratios in the units people read, for error messages
// and logs (money in ₹ with two decimals, points counted, UTC RFC 3339
// times, real numbers as plain decimals). Machine-readable fields keep
// their integer units; these are for text only.

// RupeesText renders paise as rupees: "₹1000.00".
func RupeesText(paise uint64) string { return "₹" + FormatPaise(paise) }

// SignedRupeesText renders a signed paise amount: "-₹10.00".
func SignedRupeesText(paise int64) string {
	if paise < 0 {
		return "-₹" + FormatPaise(uint64(-paise))
	}
	return RupeesText(uint64(paise))
}

// PointsText counts points: "1 point", "20 points".
func PointsText(n uint64) string {
	if n == 1 {
		return "1 point"
	}
	return fmt.Sprintf("%d points", n)
}

// TimeText renders Unix seconds as a UTC RFC 3339 time.
func TimeText(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// TimeMsText renders Unix milliseconds as a UTC RFC 3339 time, with the
// milliseconds when there are any.
func TimeMsText(ms int64) string {
	if ms%1000 == 0 {
		return TimeText(ms / 1000)
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// DecimalText renders a 1e-9 fixed-point value as a plain decimal with no
// trailing zeros: 5_000_000 -> "0.005", 2e9 -> "2".
func DecimalText(nano int64) string {
	neg := nano < 0
	u := uint64(nano)
	if neg {
		u = -u
	}
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%09d", u/1e9, u%1e9), "0"), ".")
	if neg {
		return "-" + s
	}
	return s
}

// SecondsText renders a duration in seconds in its largest whole unit:
// "7 days", "5 minutes", "90 s".
func SecondsText(s int64) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case s != 0 && s%86400 == 0:
		return unit(s/86400, "day")
	case s != 0 && s%3600 == 0:
		return unit(s/3600, "hour")
	case s != 0 && s%60 == 0:
		return unit(s/60, "minute")
	}
	return fmt.Sprintf("%d s", s)
}

// EarnRateText renders an earn rate in basis points as points per ₹100
// spent (10000 bps = 100 points per ₹100): "10000 bps (100 points per ₹100)".
func EarnRateText(bps uint32) string {
	return fmt.Sprintf("%d bps (%s per ₹100)", bps, pointsPer100(bps))
}

func pointsPer100(bps uint32) string {
	if bps%100 == 0 {
		return PointsText(uint64(bps / 100))
	}
	return fmt.Sprintf("%d.%02d points", bps/100, bps%100)
}

// ShareText renders a share in basis points as a percentage: 5000 ->
// "50%", 1250 -> "12.5%".
func ShareText(bps uint32) string {
	s := fmt.Sprintf("%d.%02d", bps/100, bps%100)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".") + "%"
}
