package crms

import "testing"

// TestReputationAfterAYearOfSilence pins the figures docs/crms.md quotes
// (keep them in step): R of a card whose window holds N = 20 verified-PIN
// payments at a steady gap, right after its last payment and after a year
// of silence, and the first whole day of silence at which R < 0.01. Decay
// is exp(−silence/(τ·AvgT)) with AvgT the card's own mean gap, so a year is
// 365 gaps of a daily card but about 12 of a monthly one: the daily card
// has lost everything, the monthly one keeps R ≈ 0.43.
func TestReputationAfterAYearOfSilence(t *testing.T) {
	e := mustEngine(t, DefaultParams())
	for _, c := range []struct {
		name               string
		gapDays            int64
		atLast, afterYear  int64 // R, nano
		belowOnePercentDay int64 // first day of silence with R < 0.01
	}{
		{"daily", 1, 784_439_113, 9, 88},
		{"weekly", 7, 784_439_113, 57_848_417, 611},
		{"monthly", 30, 784_439_113, 426_936_642, 2618},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h []Flow
			for k := range int64(20) {
				h = append(h, Flow{TimeMs: tBase + k*c.gapDays*day, RatingNano: Nano})
			}
			last := h[len(h)-1].TimeMs
			if r := e.ReputationAt(h, last); r != c.atLast {
				t.Errorf("R right after the last payment = %d, docs say %d", r, c.atLast)
			}
			if r := e.ReputationAt(h, last+365*day); r != c.afterYear {
				t.Errorf("R after a year of silence = %d, docs say %d", r, c.afterYear)
			}
			d := int64(0)
			for e.ReputationAt(h, last+d*day) >= Nano/100 {
				d++
			}
			if d != c.belowOnePercentDay {
				t.Errorf("R < 0.01 from day %d of silence, docs say day %d", d, c.belowOnePercentDay)
			}
		})
	}
}
