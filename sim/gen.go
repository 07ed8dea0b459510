package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
)

// The scale of the published terminal traces (SPEC §8).
const (
	PublishedTraces    = 2_463_203
	PublishedCards     = 293_795
	PublishedTerminals = 68
	PublishedShops     = 18
)

// GenOptions parameterise Generate.
type GenOptions struct {
	Seed  uint64
	Scale float64 // in (0, 1]; 0 means 1: the published scale
	Year  int     // calendar year of the traces; 0 means 2025
	// Progress, when set, is called while rows are written (every 65,536
	// rows and at the end) with rows written and the total.
	Progress func(done, total int64)
}

// GenStats describes a generated file.
type GenStats struct {
	Seed      uint64  `json:"seed"`
	Scale     float64 `json:"scale"`
	Traces    int64   `json:"traces"`
	Cards     int64   `json:"cards"`
	Terminals int64   `json:"terminals"`
	Shops     int64   `json:"shops"`
	FirstDate string  `json:"first_date"`
	LastDate  string  `json:"last_date"`

	Sales    int64 `json:"sales"`
	Refunds  int64 `json:"refunds"`
	Declined int64 `json:"declined"`

	ByReadType map[string]int64 `json:"by_read_type"` // sales per read type
	ByCVM      map[string]int64 `json:"by_cvm"`       // sales per CVM outcome

	// Amount quantiles of the sales, in the traces' currency (PLN).
	AmountMedian float64 `json:"amount_median"`
	AmountP90    float64 `json:"amount_p90"`
	AmountP99    float64 `json:"amount_p99"`
	AmountMax    float64 `json:"amount_max"`

	CardsByPayments    []Bucket `json:"cards_by_payments"` // cards by traces in the year
	MaxPaymentsPerCard int64    `json:"max_payments_per_card"`

	// ActivityScale is the common factor applied to the regular and
	// frequent cards' payments beyond their first so that the total is
	// exact (occasional cards keep what they drew): ≈ 1 at the published
	// scale, where the drawn activity already has the published mean.
	ActivityScale float64 `json:"activity_scale"`
}

// Bucket is one bar of a histogram.
type Bucket struct {
	Label string `json:"label"`
	Count int64  `json:"count"`
}

// Names of the flow codes in GenStats: the protocol's vocabulary
// (types/names.go), the codes being the same numbers.
var (
	readTypeNames = flowNames([]crms.ReadType{crms.ReadMagstripe, crms.ReadContactEMV, crms.ReadContactlessMagstripe, crms.ReadContactlessEMV},
		func(rt crms.ReadType) string { return types.ReadTypes.Name(types.ReadType(rt)) })
	cvmNames = flowNames([]crms.CVM{crms.CVMPinOnlineOK, crms.CVMPinOfflineOK, crms.CVMWrongPinThenOK, crms.CVMWrongPinAborted,
		crms.CVMSignature, crms.CVMNoCVMUnderLimit, crms.CVMNoCVMByCRMS},
		func(c crms.CVM) string { return types.CVMs.Name(types.CVM(c)) })
)

func flowNames[T comparable](codes []T, name func(T) string) map[T]string {
	m := make(map[T]string, len(codes))
	for _, c := range codes {
		m[c] = name(c)
	}
	return m
}

// shopKind is a kind of shop: its share of payments, ticket sizes, opening
// hours and weekly rhythm.
type shopKind struct {
	name      string
	count     int     // shops of this kind
	terminals int     // terminals per shop
	share     float64 // share of all payments, for the kind as a whole
	median    float64 // lognormal ticket in the traces' currency (PLN): median and sigma
	sigma     float64
	max       float64
	round     float64    // probability the amount is a whole number of złoty
	round10   float64    // probability it is a multiple of 10 zł (fuel)
	hours     [24]uint8  // relative traffic per local hour; 0 = closed
	weekday   [7]float64 // Sunday first (time.Weekday order)
}

var shopKinds = []shopKind{
	{name: "grocery", count: 5, terminals: 8, share: 0.479, median: 24, sigma: 0.5, max: 3_000, round: 0.1,
		hours:   [24]uint8{8: 4, 9: 6, 10: 8, 11: 10, 12: 10, 13: 8, 14: 6, 15: 6, 16: 7, 17: 10, 18: 13, 19: 14, 20: 12, 21: 6},
		weekday: [7]float64{1.25, 0.9, 0.85, 0.9, 0.95, 1.05, 1.35}},
	{name: "pharmacy", count: 3, terminals: 2, share: 0.192, median: 24, sigma: 0.35, max: 2_000, round: 0.2,
		hours:   [24]uint8{8: 5, 9: 8, 10: 9, 11: 9, 12: 8, 13: 7, 14: 6, 15: 6, 16: 7, 17: 8, 18: 10, 19: 11, 20: 10, 21: 7, 22: 4},
		weekday: [7]float64{0.8, 1.05, 1, 1, 1, 1.05, 1.0}},
	{name: "cafe", count: 3, terminals: 2, share: 0.193, median: 24, sigma: 0.35, max: 400, round: 0.5,
		hours:   [24]uint8{7: 5, 8: 10, 9: 11, 10: 7, 11: 6, 12: 9, 13: 10, 14: 7, 15: 6, 16: 8, 17: 10, 18: 11, 19: 10, 20: 8, 21: 6, 22: 3},
		weekday: [7]float64{1.1, 0.95, 0.95, 0.95, 1, 1.1, 1.3}},
	{name: "fuel", count: 2, terminals: 3, share: 0.038, median: 180, sigma: 0.39, max: 1_500, round: 0.3, round10: 0.45,
		hours:   [24]uint8{6: 4, 7: 8, 8: 10, 9: 9, 10: 7, 11: 6, 12: 6, 13: 6, 14: 6, 15: 6, 16: 7, 17: 9, 18: 10, 19: 9, 20: 7, 21: 5, 22: 3},
		weekday: [7]float64{0.9, 1.05, 1, 1, 1, 1.05, 1.0}},
	{name: "apparel", count: 3, terminals: 2, share: 0.041, median: 155, sigma: 0.43, max: 5_000, round: 0.8,
		hours:   [24]uint8{10: 3, 11: 5, 12: 6, 13: 6, 14: 6, 15: 7, 16: 8, 17: 10, 18: 12, 19: 12, 20: 9},
		weekday: [7]float64{1.6, 0.75, 0.75, 0.8, 0.85, 1.05, 1.5}},
	{name: "electronics", count: 2, terminals: 2, share: 0.057, median: 290, sigma: 0.58, max: 20_000, round: 0.9,
		hours:   [24]uint8{10: 3, 11: 5, 12: 6, 13: 6, 14: 6, 15: 7, 16: 8, 17: 10, 18: 11, 19: 10, 20: 7},
		weekday: [7]float64{1.6, 0.75, 0.75, 0.8, 0.85, 1.05, 1.5}},
}

// genModel holds the generator's distributions of cards and flows, the
// values calibrated against the paper's published results (SPEC §8; the
// targets, the achieved figures and how each knob moves them are in
// docs/crms-calibration.md). Only Generate reads it; tests may vary a copy.
type genModel struct {
	// Card activity: a share of occasional cards paying 1 + geometric(p)
	// times (at most occMax), a share of regular cards (lognormal payments
	// a year) and the rest frequent (lognormal, capped).
	occasional, regular   float64
	occGeomP              float64
	occMax                float64
	regMedian, regSigma   float64
	freqMedian, freqSigma float64
	freqMin, freqMax      float64
	// Share of regular and frequent cards active over part of the year
	// only (they arrive or leave), and the shortest such span in days.
	partial    float64
	partialMin int

	// Card habits. chipOnly cards have no contactless interface: every
	// payment is a chip read with a PIN. Other cards tap a payment at or
	// under the no-CVM limit with probability tap. A tap under the limit
	// still asks for the PIN when the card's cumulative counters run out:
	// more than counterCount consecutive taps without a PIN, or their sum
	// above counterAmount (in the traces' currency), as EMV contactless
	// cards count offline; a PIN entry resets both. Above the limit a
	// tapping card taps (and enters the PIN) with probability tapAbove,
	// else inserts the chip.
	chipOnly, tap, tapAbove float64
	counterCount            int
	counterAmount           float64

	// Verification outcomes of a PIN payment: wrong then right, wrong and
	// aborted (declined), PIN verified offline by the chip (contact reads).
	wrongThenOK, aborted, offline float64
	errorProne, errorFactor       float64 // share of cards this many times as error-prone
	fallback                      float64 // magstripe fallback swipes
	signature                     float64 // share of swipes signed rather than PIN
	declined                      float64 // other declines (funds, issuer)
	refund                        float64 // a later payment refunds the previous sale
}

var model = genModel{
	occasional: 0.83, regular: 0.12,
	occGeomP: 0.5, occMax: 12,
	regMedian: 13, regSigma: 0.57,
	freqMedian: 91, freqSigma: 0.34, freqMin: 37, freqMax: 700,
	partial: 0.2, partialMin: 90,
	chipOnly: 0.056, tap: 0.955, tapAbove: 0.06, counterCount: 15, counterAmount: 185,
	wrongThenOK: 0.024, aborted: 0.006, offline: 0.15,
	errorProne: 0.03, errorFactor: 5,
	fallback: 0.008, signature: 0.25, declined: 0.015, refund: 0.006,
}

// monthFactor is the seasonal traffic per month (festive Oct-Nov, slow
// monsoon), January first.
var monthFactor = [12]float64{0.97, 0.92, 1.0, 0.95, 0.95, 0.9, 0.88, 0.93, 0.98, 1.15, 1.22, 1.1}

type genShop struct {
	kind      *shopKind
	id        string
	terminals []string
	hourCum   [24]uint32
}

// genEvent is one generated row before sorting; times are seconds since
// local midnight of January 1.
type genEvent struct {
	card     uint32
	sec      uint32
	amount   uint32 // paise
	verifyMs uint16
	shop     uint8
	terminal uint8
	typ      TxType
	rt       crms.ReadType
	cvm      crms.CVM
	auth     crms.Auth
}

// Card segments of the activity distribution.
const (
	segOccasional = iota
	segRegular
	segFrequent
)

type genCard struct {
	seg      int
	n        int     // traces in the year
	tap      float64 // probability a small payment is contactless
	wrongPIN float64 // multiplier of the wrong-PIN rates
	home     uint8   // primary shop
	second   uint8
	homeP    float64 // probability a payment is at the primary shop
}

// Generate writes a synthetic trace file (SPEC §8 format with every optional
// column) for one calendar year to w, seeded by opts.Seed: the same options
// give byte-identical output on a given architecture. At scale 1 it holds
// exactly PublishedTraces rows of PublishedCards cards in PublishedShops
// shops with PublishedTerminals terminals; a smaller scale shrinks the rows
// and cards proportionally and keeps the shops and terminals. See the package
// documentation for the model.
func Generate(w io.Writer, opts GenOptions) (GenStats, error) {
	scale := opts.Scale
	if scale == 0 {
		scale = 1
	}
	if !(scale > 0 && scale <= 1) {
		return GenStats{}, fmt.Errorf("sim: scale %v outside (0, 1]", opts.Scale)
	}
	year := opts.Year
	if year == 0 {
		year = 2025
	}
	if year < 1971 || year > 9999 {
		return GenStats{}, fmt.Errorf("sim: year %d out of range", year)
	}
	nTraces := int(math.Round(PublishedTraces * scale))
	nCards := max(1, int(math.Round(PublishedCards*scale)))
	nTraces = max(nTraces, nCards)

	rng := rand.New(rand.NewPCG(opts.Seed, 0x6279746570747332)) // "byteptss"
	shops := buildShops()
	days := 365
	if isLeap(year) {
		days = 366
	}
	cal := newCalendar(year, days)

	cards, activity := drawCards(rng, nCards, nTraces, shops)

	// Events, card by card; each card's events are sorted by time, then given
	// amounts and flows in order (a refund repeats an earlier sale).
	events := make([]genEvent, 0, nTraces)
	for ci := range cards {
		c := &cards[ci]
		start := len(events)
		scheduleCard(rng, c, uint32(ci), shops, cal, &events)
		evs := events[start:]
		slices.SortFunc(evs, func(a, b genEvent) int { return int(a.sec) - int(b.sec) })
		fillFlows(rng, c, shops, evs)
	}

	// Global time order: key = second << 32 | event number (ties by number).
	keys := make([]uint64, len(events))
	for i := range events {
		keys[i] = uint64(events[i].sec)<<32 | uint64(i)
	}
	slices.Sort(keys)

	tokens := cardTokens(opts.Seed, nCards)
	tw, err := NewWriter(w)
	if err != nil {
		return GenStats{}, err
	}
	st := GenStats{Seed: opts.Seed, Scale: scale, Cards: int64(nCards), ActivityScale: activity,
		ByReadType: map[string]int64{}, ByCVM: map[string]int64{}}
	yearStartMs := daysFromCivil(year, 1, 1)*dayMs - DefaultUTCOffset.Milliseconds()
	amounts := make([]uint32, 0, len(events))
	var usedShops [256]bool
	var usedTerms [256 * 16]bool
	var byRT [8]int64
	var byCVM [8]int64
	var t Trace
	for i, k := range keys {
		ev := &events[uint32(k)]
		sh := &shops[ev.shop]
		date, clock := cal.local(ev.sec)
		t = Trace{
			Card: tokens[ev.card], ReadType: ev.rt, Date: date, Clock: clock,
			TimeMs: yearStartMs + int64(ev.sec)*1000, Type: ev.typ, AmountPaise: uint64(ev.amount),
			Terminal: sh.terminals[ev.terminal], Shop: sh.id, CVM: ev.cvm, VerifyMs: uint32(ev.verifyMs), Auth: ev.auth,
		}
		if err := tw.Write(&t); err != nil {
			return GenStats{}, err
		}
		if i == 0 {
			st.FirstDate = fmtDate(date)
		}
		st.LastDate = fmtDate(date)
		usedShops[ev.shop] = true
		usedTerms[int(ev.shop)*16+int(ev.terminal)] = true
		if ev.typ == TxRefund {
			st.Refunds++
		} else {
			st.Sales++
			amounts = append(amounts, ev.amount)
			byRT[ev.rt&7]++
			byCVM[ev.cvm&7]++
			if ev.auth == crms.AuthDeclined {
				st.Declined++
			}
		}
		if opts.Progress != nil && (i+1)&0xffff == 0 {
			opts.Progress(int64(i+1), int64(len(keys)))
		}
	}
	if err := tw.Flush(); err != nil {
		return GenStats{}, err
	}
	if opts.Progress != nil {
		opts.Progress(int64(len(keys)), int64(len(keys)))
	}

	st.Traces = int64(len(events))
	for i := range usedShops {
		if usedShops[i] {
			st.Shops++
		}
	}
	for i := range shops {
		for j := range shops[i].terminals {
			if usedTerms[i*16+j] {
				st.Terminals++
			}
		}
	}
	for rt, name := range readTypeNames {
		if byRT[rt] > 0 {
			st.ByReadType[name] = byRT[rt]
		}
	}
	for c, name := range cvmNames {
		if byCVM[c] > 0 {
			st.ByCVM[name] = byCVM[c]
		}
	}
	if len(amounts) > 0 {
		slices.Sort(amounts)
		q := func(p float64) float64 { return float64(amounts[int(p*float64(len(amounts)-1))]) / 100 }
		st.AmountMedian, st.AmountP90, st.AmountP99, st.AmountMax = q(0.5), q(0.9), q(0.99), q(1)
	}
	bounds := []struct {
		lo, hi int
		label  string
	}{{1, 1, "1"}, {2, 2, "2"}, {3, 3, "3"}, {4, 11, "4-11"}, {12, 51, "12-51 (monthly+)"}, {52, 364, "52-364 (weekly+)"}, {365, math.MaxInt, "365+ (daily)"}}
	for _, b := range bounds {
		var n int64
		for i := range cards {
			if cards[i].n >= b.lo && cards[i].n <= b.hi {
				n++
			}
		}
		st.CardsByPayments = append(st.CardsByPayments, Bucket{b.label, n})
	}
	for i := range cards {
		st.MaxPaymentsPerCard = max(st.MaxPaymentsPerCard, int64(cards[i].n))
	}
	return st, nil
}

func buildShops() []genShop {
	var shops []genShop
	for ki := range shopKinds {
		k := &shopKinds[ki]
		for i := range k.count {
			s := genShop{kind: k, id: fmt.Sprintf("%s-%02d", k.name, i+1)}
			for j := range k.terminals {
				s.terminals = append(s.terminals, fmt.Sprintf("%s-t%02d", s.id, j+1))
			}
			var cum uint32
			for h, v := range k.hours {
				cum += uint32(v)
				s.hourCum[h] = cum
			}
			shops = append(shops, s)
		}
	}
	return shops
}

// pickShop draws a shop by payment share.
func pickShop(rng *rand.Rand, shops []genShop) uint8 {
	u := rng.Float64()
	for i := range shops {
		k := shops[i].kind
		u -= k.share / float64(k.count)
		if u < 0 {
			return uint8(i)
		}
	}
	return uint8(len(shops) - 1)
}

// drawCards draws each card's segment and habits, then its number of traces
// so that they sum to exactly nTraces with every card at least once.
//
// Segments (model): occasional cards (1 + geometric payments: mostly 1-3),
// regular cards (lognormal payments a year) and frequent cards (lognormal,
// capped: weekly to daily shoppers). The regular and frequent cards' extra
// payments (beyond each card's first) are then scaled by one common factor
// and rounded by largest remainder, which makes the total exact without
// changing the shape of either distribution.
func drawCards(rng *rand.Rand, nCards, nTraces int, shops []genShop) ([]genCard, float64) {
	m := &model
	cards := make([]genCard, nCards)
	extra := make([]float64, nCards)
	var sum float64
	for i := range cards {
		c := &cards[i]
		u := rng.Float64()
		var d float64
		switch {
		case u < m.occasional:
			c.seg = segOccasional
			d = 1
			for rng.Float64() >= m.occGeomP && d < m.occMax {
				d++
			}
			c.homeP = 0.3
		case u < m.occasional+m.regular:
			c.seg = segRegular
			d = math.Max(2, m.regMedian*math.Exp(m.regSigma*rng.NormFloat64()))
			c.homeP = 0.55
		default:
			c.seg = segFrequent
			d = math.Min(m.freqMax, math.Max(m.freqMin, m.freqMedian*math.Exp(m.freqSigma*rng.NormFloat64())))
			c.homeP = 0.75
		}
		extra[i] = d - 1
		sum += extra[i]
		c.tap = m.tap
		if rng.Float64() < m.chipOnly {
			c.tap = 0 // no contactless interface
		}
		c.wrongPIN = 1
		if rng.Float64() < m.errorProne {
			c.wrongPIN = m.errorFactor
		}
		c.home = pickShop(rng, shops)
		c.second = pickShop(rng, shops)
	}
	// Occasional cards keep the payments they drew (the heavy tail's shape:
	// most pay once or twice); the rest of the total goes to regular and
	// frequent cards, in proportion to what they drew. Only if that is
	// impossible (a tiny scale) is everyone scaled alike.
	var occ, rf float64
	for i := range cards {
		if cards[i].seg == segOccasional {
			occ += extra[i]
		} else {
			rf += extra[i]
		}
	}
	target := float64(nTraces - nCards)
	f, fOcc := 0.0, 1.0
	switch {
	case rf > 0 && target > occ:
		f = (target - occ) / rf
	case sum > 0:
		f = target / sum
		fOcc = f
	}
	type frac struct {
		f float64
		i int
	}
	fr := make([]frac, nCards)
	total := 0
	for i := range cards {
		x := extra[i] * f
		if cards[i].seg == segOccasional {
			x = extra[i] * fOcc
		}
		fl := math.Floor(x)
		cards[i].n = 1 + int(fl)
		total += cards[i].n
		fr[i] = frac{x - fl, i}
	}
	rest := nTraces - total
	if rest > 0 {
		slices.SortFunc(fr, func(a, b frac) int {
			switch {
			case a.f > b.f:
				return -1
			case a.f < b.f:
				return 1
			}
			return a.i - b.i
		})
		for j := 0; j < rest; j++ {
			cards[fr[j%nCards].i].n++
		}
	}
	return cards, f
}

// calendar maps second-of-year to local date and time, and weights days.
type calendar struct {
	days    int
	date    []int32   // YYYYMMDD per day of year
	weight  []float64 // seasonal × festive factor per day
	weekday []uint8   // 0 = Sunday
	maxW    float64
}

func newCalendar(year, days int) *calendar {
	c := &calendar{days: days}
	d0 := daysFromCivil(year, 1, 1)
	m, dd := 1, 1
	for i := range days {
		c.date = append(c.date, int32(year*10000+m*100+dd))
		wd := uint8((d0 + int64(i) + 4) % 7) // 1970-01-01 was a Thursday
		c.weekday = append(c.weekday, wd)
		w := monthFactor[m-1]
		if m == 10 && dd >= 10 && dd <= 21 { // the run-up to Diwali
			w *= 1.5
		}
		c.weight = append(c.weight, w)
		c.maxW = max(c.maxW, w)
		if dd++; dd > daysIn(year, m) {
			m, dd = m+1, 1
		}
	}
	return c
}

func (c *calendar) local(sec uint32) (date, clock int32) {
	day := sec / 86400
	r := sec % 86400
	return c.date[day], int32(r/3600*10000 + r%3600/60*100 + r%60)
}

// scheduleCard appends the card's events with shop, terminal and time.
// Occasional cards pay on independent random days; regular and frequent
// cards spread their payments evenly over an active window (the whole year
// for most, a part of it for cards that arrive or leave), with jitter, which
// gives them the steady rhythm the reputation rewards.
func scheduleCard(rng *rand.Rand, c *genCard, ci uint32, shops []genShop, cal *calendar, events *[]genEvent) {
	from, to := 0, cal.days
	if c.seg != segOccasional && rng.Float64() < model.partial {
		span := model.partialMin + rng.IntN(cal.days-model.partialMin)
		from = rng.IntN(cal.days - span + 1)
		to = from + span
	}
	for j := range c.n {
		s := c.home
		if u := rng.Float64(); u >= c.homeP {
			if u < c.homeP+(1-c.homeP)/2 {
				s = c.second
			} else {
				s = pickShop(rng, shops)
			}
		}
		sh := &shops[s]
		var day int
		for try := 0; ; try++ {
			if c.seg == segOccasional {
				day = from + rng.IntN(to-from)
			} else {
				day = from + int((float64(j)+rng.Float64())*float64(to-from)/float64(c.n))
			}
			w := cal.weight[day] * sh.kind.weekday[cal.weekday[day]]
			if try >= 3 || rng.Float64()*cal.maxW*1.6 < w {
				break
			}
		}
		u := uint32(rng.IntN(int(sh.hourCum[23])))
		h := 0
		for sh.hourCum[h] <= u {
			h++
		}
		sec := uint32(day)*86400 + uint32(h)*3600 + uint32(rng.IntN(3600))
		*events = append(*events, genEvent{card: ci, sec: sec, shop: s, terminal: uint8(rng.IntN(len(sh.terminals)))})
	}
}

// lognormal returns median·e^(σ·N(0,1)).
func lognormal(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// fillFlows gives a card's time-sorted events their type, amount, read type,
// CVM outcome, verification time and authorisation.
func fillFlows(rng *rand.Rand, c *genCard, shops []genShop, evs []genEvent) {
	m := &model
	var lastSale *genEvent
	var taps int      // consecutive taps without a PIN
	var tapped uint32 // their sum, 1/100 units
	for i := range evs {
		ev := &evs[i]
		ev.auth = crms.AuthApproved
		if lastSale != nil && rng.Float64() < m.refund {
			// A refund of the previous sale (a third of them partial), at its shop.
			ev.typ = TxRefund
			ev.shop, ev.terminal, ev.rt = lastSale.shop, lastSale.terminal, lastSale.rt
			ev.amount = lastSale.amount
			if rng.Float64() < 0.33 {
				ev.amount = max(100, uint32(float64(ev.amount)*(0.2+0.6*rng.Float64()))/100*100)
			}
			lastSale = nil
			continue
		}
		ev.typ = TxSale
		k := shops[ev.shop].kind
		v := math.Min(k.max, math.Max(1, lognormal(rng, k.median, k.sigma)))
		cents := uint32(math.Round(v * 100))
		switch u := rng.Float64(); {
		case u < k.round10:
			cents = max(1_000, (cents+500)/1_000*1_000)
		case u < k.round10+k.round:
			cents = max(100, (cents+50)/100*100)
		}
		ev.amount = cents

		small := uint64(cents) <= StaticNoCVMLimitPaise
		pinAnyway := false // a tap under the limit that asks for the PIN
		switch u := rng.Float64(); {
		case u < m.fallback:
			ev.rt = crms.ReadMagstripe // fallback swipe (chip unreadable)
		case small && u < m.fallback+c.tap:
			ev.rt = crms.ReadContactlessEMV
			if rng.Float64() < 0.004 {
				ev.rt = crms.ReadContactlessMagstripe
			}
			if taps+1 > m.counterCount || float64(tapped+cents) > m.counterAmount*100 {
				pinAnyway = true // the card's offline counters ran out
			}
		case !small && c.tap > 0 && u < m.fallback+m.tapAbove:
			ev.rt = crms.ReadContactlessEMV // tap and PIN above the limit
		default:
			ev.rt = crms.ReadContactEMV
		}

		switch {
		case small && !pinAnyway && (ev.rt == crms.ReadContactlessEMV || ev.rt == crms.ReadContactlessMagstripe):
			ev.cvm = crms.CVMNoCVMUnderLimit
		case ev.rt == crms.ReadMagstripe:
			if rng.Float64() < m.signature {
				ev.cvm = crms.CVMSignature
				ev.verifyMs = verifyTime(rng, 18_000, 0.35)
			} else {
				ev.cvm = crms.CVMPinOnlineOK
				ev.verifyMs = verifyTime(rng, 5_000, 0.3)
			}
		default:
			u := rng.Float64()
			switch {
			case u < m.aborted*c.wrongPIN:
				ev.cvm = crms.CVMWrongPinAborted
				ev.verifyMs = verifyTime(rng, 15_000, 0.35)
				ev.auth = crms.AuthDeclined // never approved: crms.ValidFlow
			case u < (m.aborted+m.wrongThenOK)*c.wrongPIN:
				ev.cvm = crms.CVMWrongPinThenOK
				ev.verifyMs = verifyTime(rng, 11_000, 0.3)
			case u < (m.aborted+m.wrongThenOK)*c.wrongPIN+m.offline && ev.rt == crms.ReadContactEMV:
				ev.cvm = crms.CVMPinOfflineOK
				ev.verifyMs = verifyTime(rng, 4_200, 0.3)
			default:
				ev.cvm = crms.CVMPinOnlineOK
				ev.verifyMs = verifyTime(rng, 5_000, 0.3)
			}
		}
		if ev.cvm == crms.CVMNoCVMUnderLimit {
			taps, tapped = taps+1, tapped+cents
		} else if ev.cvm != crms.CVMSignature {
			taps, tapped = 0, 0 // a PIN was entered (or tried): counters reset
		}
		if ev.auth == crms.AuthApproved && rng.Float64() < m.declined {
			ev.auth = crms.AuthDeclined // insufficient funds, issuer refusal
		}
		lastSale = ev
	}
}

// verifyTime draws a verification duration in ms (lognormal, clipped to
// [1.5 s, 60 s]).
func verifyTime(rng *rand.Rand, medianMs, sigma float64) uint16 {
	return uint16(math.Min(60_000, math.Max(1_500, lognormal(rng, medianMs, sigma))))
}

// cardTokens derives each card's 64-hex token: SHA-256 of the seed and the
// card's number, standing in for the terminal's keyed hash of the PAN.
func cardTokens(seed uint64, n int) []string {
	out := make([]string, n)
	var buf [32]byte
	copy(buf[:], "bytepoints-sim-card/")
	binary.BigEndian.PutUint64(buf[20:], seed)
	var num [4]byte
	h := sha256.New()
	for i := range out {
		h.Reset()
		h.Write(buf[:28])
		binary.BigEndian.PutUint32(num[:], uint32(i))
		h.Write(num[:])
		out[i] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// String renders the stats as a short human summary.
func (s GenStats) String() string {
	b := fmt.Appendf(nil, "traces %d (sales %d, refunds %d, declined %d), cards %d, shops %d, terminals %d, %s..%s\n",
		s.Traces, s.Sales, s.Refunds, s.Declined, s.Cards, s.Shops, s.Terminals, s.FirstDate, s.LastDate)
	b = fmt.Appendf(b, "amount (PLN) median %.2f, p90 %.2f, p99 %.2f, max %.2f\n", s.AmountMedian, s.AmountP90, s.AmountP99, s.AmountMax)
	b = append(b, "cards by payments a year:"...)
	for _, bk := range s.CardsByPayments {
		b = fmt.Appendf(b, " %s: %d;", bk.Label, bk.Count)
	}
	b = append(b, " max "...)
	b = strconv.AppendInt(b, s.MaxPaymentsPerCard, 10)
	b = fmt.Appendf(b, " (activity scale %.2f)\n", s.ActivityScale)
	b = append(b, "read types:"...)
	for _, rt := range []crms.ReadType{6, 3, 5, 2} {
		b = fmt.Appendf(b, " %s %.1f%%", readTypeNames[rt], pct(float64(s.ByReadType[readTypeNames[rt]]), float64(s.Sales)))
	}
	b = append(b, "\ncvm:"...)
	for c := crms.CVM(1); c <= 7; c++ {
		if n := s.ByCVM[cvmNames[c]]; n > 0 {
			b = fmt.Appendf(b, " %s %.2f%%", cvmNames[c], pct(float64(n), float64(s.Sales)))
		}
	}
	b = append(b, '\n')
	return string(b)
}
