package types

import "testing"

func TestUnitsText(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{RupeesText(2000), "₹20.00"},
		{RupeesText(5), "₹0.05"},
		{SignedRupeesText(-1050), "-₹10.50"},
		{PointsText(1), "1 point"},
		{PointsText(20), "20 points"},
		{TimeText(1767225600), "2026-01-01T00:00:00Z"},
		{TimeMsText(1795168800000), "2026-11-20T10:00:00Z"},
		{TimeMsText(1795694690290), "2026-11-26T12:04:50.290Z"},
		{DecimalText(5_000_000), "0.005"},
		{DecimalText(2_000_000_000), "2"},
		{DecimalText(-5), "-0.000000005"},
		{SecondsText(7 * 86400), "7 days"},
		{SecondsText(300), "5 minutes"},
		{SecondsText(1), "1 s"},
		{EarnRateText(10000), "10000 bps (100 points per ₹100)"},
		{EarnRateText(150), "150 bps (1.50 points per ₹100)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
