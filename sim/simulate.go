package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"

	"github.com/bytepoints/bytepoints/app/crms"
)

// DefaultVerifyMs is the time a skipped verification saves when the trace
// has no measured duration (SPEC §8 default: 4.5 s).
const DefaultVerifyMs = 4500

// DefaultSweep is the SPEC §8 default sweep of Risk_max: 0.005 to 0.020 in
// 16 steps of 0.001, in nano.
func DefaultSweep() []int64 {
	s := make([]int64, 0, 16)
	for v := int64(5_000_000); v <= 20_000_000; v += 1_000_000 {
		s = append(s, v)
	}
	return s
}

// DefaultCurrency is the currency of the published traces, and so of the
// default sweep's skip limits (50 to 200 at R = 1) and of the generator.
const DefaultCurrency = "PLN"

// DefaultMonthlyRiskMax is the Risk_max of the default month-by-month series.
const DefaultMonthlyRiskMax int64 = 10_000_000

// Config parameterises Simulate. The zero value means: chain defaults
// (crms.DefaultParams, crms.DefaultRatings), the default sweep, no monthly
// series, context 1.0, 4.5 s per verification.
type Config struct {
	Params  crms.Params      // zero value: crms.DefaultParams()
	Ratings crms.RatingTable // nil: crms.DefaultRatings()
	RiskMax []int64          // the sweep, nano; nil: DefaultSweep()
	// MonthlyRiskMax (nano) selects the Risk_max of the month-by-month
	// series; 0 disables it. It need not be part of the sweep.
	MonthlyRiskMax  int64
	ContextNano     int64  // the terminal context multiplier; 0: 1.0
	DefaultVerifyMs uint32 // 0: DefaultVerifyMs
	// Currency names the traces' currency in the report (a label: amounts
	// are used as they are); "": DefaultCurrency.
	Currency string
	// Progress, when set, is called every 65,536 rows and once at the end
	// with the number of rows read so far.
	Progress func(rows int64)
}

func (c Config) withDefaults() (Config, error) {
	if c.Params == (crms.Params{}) {
		c.Params = crms.DefaultParams()
	}
	if c.Ratings == nil {
		c.Ratings = crms.DefaultRatings()
	}
	if c.RiskMax == nil {
		c.RiskMax = DefaultSweep()
	}
	if len(c.RiskMax) == 0 {
		return c, errors.New("sim: empty Risk_max sweep")
	}
	for _, v := range c.RiskMax {
		if v <= 0 {
			return c, fmt.Errorf("sim: Risk_max %s must be positive", fmtNano(v))
		}
	}
	if c.MonthlyRiskMax < 0 {
		return c, fmt.Errorf("sim: monthly Risk_max %s must be positive", fmtNano(c.MonthlyRiskMax))
	}
	if c.ContextNano == 0 {
		c.ContextNano = crms.Nano
	}
	if c.DefaultVerifyMs == 0 {
		c.DefaultVerifyMs = DefaultVerifyMs
	}
	if c.Currency == "" {
		c.Currency = DefaultCurrency
	}
	if err := c.Ratings.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// Metrics are the what-if results for one Risk_max, over the whole input
// (Report.Sweep) or one calendar month (Report.Monthly). See the package
// documentation for the exact definitions.
type Metrics struct {
	RiskMax         float64 `json:"risk_max"`
	SkipLimitAtRmax float64 `json:"skip_limit_at_rmax"` // calibration: largest skippable amount at R = Rmax

	Cards            int64   `json:"cards"`              // cards with ≥ 1 sale
	PromotedCards    int64   `json:"promoted_cards"`     // cards with ≥ 1 skipped verification
	PromotedCardsPct float64 `json:"promoted_cards_pct"` // of Cards

	Sales                  int64   `json:"sales"`
	Candidates             int64   `json:"candidates"` // sales that went through a verification
	Skipped                int64   `json:"skipped"`
	SkippedPct             float64 `json:"skipped_pct"` // of Sales
	SkippedOfCandidatesPct float64 `json:"skipped_of_candidates_pct"`

	SalesAmount      float64 `json:"sales_amount"`
	SkippedAmount    float64 `json:"skipped_amount"`
	SkippedAmountPct float64 `json:"skipped_amount_pct"` // of SalesAmount

	TimeGainedHours float64 `json:"time_gained_hours"`

	MaxLossWithRep    float64 `json:"max_loss_with_reputation"`
	MaxLossWithoutRep float64 `json:"max_loss_without_reputation"`

	CostPerMinute float64 `json:"cost_per_minute"`
	CostPerSkip   float64 `json:"cost_per_skipped_tx"`
	CostPerCard   float64 `json:"cost_per_promoted_card"`

	BudgetRefused    int64 `json:"budget_refused"`     // would have skipped but for the epoch budget
	SkippedFailedPIN int64 `json:"skipped_failed_pin"` // skips of attempts whose PIN was wrong and aborted

	NaiveSkipped         int64   `json:"naive_skipped"`
	NaiveSkippedAmount   float64 `json:"naive_skipped_amount"`
	NaiveTimeGainedHours float64 `json:"naive_time_gained_hours"`
	NaiveCostPerMinute   float64 `json:"naive_cost_per_minute"`
}

// MonthMetrics are the Metrics of one calendar month (local date of the
// traces) at Report.MonthlyRiskMax.
type MonthMetrics struct {
	Month string `json:"month"` // YYYY-MM
	Metrics
}

// Report is the result of Simulate.
type Report struct {
	Rows       int64  `json:"rows"`
	Sales      int64  `json:"sales"`
	Refunds    int64  `json:"refunds"`
	Declined   int64  `json:"declined"`
	Candidates int64  `json:"candidates"`
	Cards      int64  `json:"cards"`
	Shops      int    `json:"shops"`
	FirstDate  string `json:"first_date"`
	LastDate   string `json:"last_date"`

	Currency        string       `json:"currency"` // of every amount in the report
	Params          crms.Params  `json:"params"`
	Ratings         NamedRatings `json:"ratings"`
	Context         float64      `json:"context"`
	DefaultVerifyMs uint32       `json:"default_verify_ms"`

	Sweep          []Metrics      `json:"sweep"`
	MonthlyRiskMax float64        `json:"monthly_risk_max,omitempty"`
	Monthly        []MonthMetrics `json:"monthly,omitempty"`
}

// accum collects one Risk_max's counters (for the year or one month).
type accum struct {
	cards, sales, candidates int64
	salesAmount              uint64

	promoted, skipped, budgetRefused, failedPIN int64
	amount                                      uint64 // paise
	timeMs                                      int64
	risk                                        int64 // nano currency units, Σ Decision.Risk

	nSkipped int64
	nAmount  uint64
	nTimeMs  int64
	nLoss    u128 // nano currency units
}

type u128 struct{ hi, lo uint64 }

func (a *u128) add(v uint64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, v, 0)
	a.hi += c
}

func (a u128) float() float64 { return float64(a.hi)*0x1p64 + float64(a.lo) }

// amountNano is an amount in nano currency units, saturating at MaxInt64.
func amountNano(paise uint64) int64 {
	if paise > math.MaxInt64/10_000_000 {
		return math.MaxInt64
	}
	return int64(paise) * 10_000_000
}

// Simulate replays src (in time order) through the CRMS engine and computes
// the what-if metrics for every Risk_max of cfg.RiskMax. See the package
// documentation for the conventions; it is deterministic and single-threaded.
func Simulate(src Source, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e, err := crms.NewEngine(cfg.Params)
	if err != nil {
		return nil, err
	}
	rc := newRatingCache(cfg.Ratings)
	budget := cfg.Params.EpochRiskBudget
	rms := slices.Clone(cfg.RiskMax)
	kMonth := -1
	if cfg.MonthlyRiskMax > 0 {
		kMonth = slices.Index(rms, cfg.MonthlyRiskMax)
		if kMonth < 0 {
			rms = append(rms, cfg.MonthlyRiskMax)
			kMonth = len(rms) - 1
		}
	}
	K := len(rms)
	limits := make([]uint64, K) // skip limit at R = Rmax: the reputation-blind floor
	for k, rm := range rms {
		limits[k] = e.Decide(cfg.Params.Rmax, 0, rm, cfg.ContextNano, 0).SkipLimitPaise
	}

	var (
		bk        = newBook(cfg.Params.N)
		bud       = newBudgets(K)
		acc       = make([]accum, K)
		words     = (K + 63) / 64
		promoted  []uint64 // per card, K bits
		lastMonth []int32  // per card: 1 + month index of its last sale, 0 = none
		lastProm  []int32  // per card: 1 + month index of its last skip at kMonth
		months    []accum
		monthKeys []int32 // YYYYMM
		shops     = map[string]struct{}{}
		rep       = &Report{Currency: cfg.Currency, Params: cfg.Params, Ratings: NamedRatings(cfg.Ratings), Context: float64(cfg.ContextNano) / 1e9, DefaultVerifyMs: cfg.DefaultVerifyMs}
		t         Trace
		prevMs    = int64(math.MinInt64)
		curMonth  = -1
		firstDate int32
		lastDate  int32
		liner, _  = src.(interface{ Line() int64 })
		dense, _  = src.(interface{ CardIndex() int32 })
	)
	where := func() string {
		if liner != nil {
			return fmt.Sprintf("line %d", liner.Line())
		}
		return fmt.Sprintf("row %d", rep.Rows)
	}
	for {
		if err := src.Read(&t); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		rep.Rows++
		if rep.Rows&0xffff == 0 && cfg.Progress != nil {
			cfg.Progress(rep.Rows)
		}
		if t.TimeMs < prevMs {
			return nil, fmt.Errorf("sim: %s: payment at %08d %06d is earlier than the row before it; traces must be in time order (sort the rows by date, then time)", where(), t.Date, t.Clock)
		}
		prevMs = t.TimeMs
		if rep.Rows == 1 {
			firstDate = t.Date
		}
		lastDate = t.Date
		if ym := t.Date / 100; curMonth < 0 || monthKeys[curMonth] != ym {
			curMonth = len(monthKeys)
			monthKeys = append(monthKeys, ym)
			months = append(months, accum{})
		}
		if _, ok := shops[t.Shop]; !ok {
			shops[t.Shop] = struct{}{}
		}

		var id int32
		var isNew bool
		if dense != nil {
			id, isNew = bk.idDense(dense.CardIndex(), t.Card)
		} else {
			id, isNew = bk.id(t.Card)
		}
		if isNew {
			promoted = append(promoted, make([]uint64, words)...)
			lastMonth = append(lastMonth, 0)
			lastProm = append(lastProm, 0)
		}
		switch t.Type {
		case TxRefund:
			// A refund reverses points, not a payment flow: it earns no
			// reputation and is not a verification decision.
			rep.Refunds++
			continue
		case TxSale:
		default:
			return nil, fmt.Errorf("sim: %s: transaction type %d is neither 1 (sale) nor 6 (refund)", where(), t.Type)
		}

		mo := &months[curMonth]
		amt := t.AmountPaise
		rep.Sales++
		mo.sales++
		mo.salesAmount += amt
		if lastMonth[id] == 0 {
			rep.Cards++
		}
		if lastMonth[id] != int32(curMonth+1) {
			lastMonth[id] = int32(curMonth + 1)
			mo.cards++
		}

		f := t.Flow()
		if f.Auth == crms.AuthDeclined {
			rep.Declined++
		}
		if f.CVM != crms.CVMNoCVMUnderLimit && amt > 0 {
			rep.Candidates++
			mo.candidates++
			hist := bk.hist[id]
			r := e.ReputationAt(hist, t.TimeMs) // once per payment, shared by the sweep
			used := bud.slot(t.Shop, t.TimeMs)
			vms := int64(t.VerifyMs)
			if vms == 0 {
				vms = int64(cfg.DefaultVerifyMs)
			}
			pbits := promoted[int(id)*words : int(id+1)*words]
			for k := range K {
				d := e.Decide(r, amt, rms[k], cfg.ContextNano, used[k])
				a := &acc[k]
				var m *accum
				if k == kMonth {
					m = mo
				}
				if !d.CVMRequired {
					used[k] = crms.ChargeBudget(used[k], d.Risk, budget)
					a.addSkip(amt, vms, d.Risk, f.CVM)
					if pbits[k>>6]&(1<<(k&63)) == 0 {
						pbits[k>>6] |= 1 << (k & 63)
						a.promoted++
					}
					if m != nil {
						m.addSkip(amt, vms, d.Risk, f.CVM)
						if lastProm[id] != int32(curMonth+1) {
							lastProm[id] = int32(curMonth + 1)
							m.promoted++
						}
					}
				} else if d.Reason == crms.ReasonBudgetExhausted {
					a.budgetRefused++
					if m != nil {
						m.budgetRefused++
					}
				}
				if amt <= limits[k] {
					loss := uint64(min(d.Risk, amountNano(amt))) // f(R) = ∞ ⇒ the whole amount
					a.addNaive(amt, vms, loss)
					if m != nil {
						m.addNaive(amt, vms, loss)
					}
				}
			}
		}
		bk.record(id, crms.Flow{TimeMs: t.TimeMs, RatingNano: rc.rating(f)})
	}
	if cfg.Progress != nil {
		cfg.Progress(rep.Rows)
	}

	rep.Shops = len(shops)
	if rep.Rows > 0 {
		rep.FirstDate, rep.LastDate = fmtDate(firstDate), fmtDate(lastDate)
	}
	var salesAmount uint64
	for i := range months {
		salesAmount += months[i].salesAmount
	}
	for k := range cfg.RiskMax {
		a := &acc[k]
		a.cards, a.sales, a.candidates, a.salesAmount = rep.Cards, rep.Sales, rep.Candidates, salesAmount
		rep.Sweep = append(rep.Sweep, a.metrics(rms[k], limits[k]))
	}
	if kMonth >= 0 {
		rep.MonthlyRiskMax = float64(rms[kMonth]) / 1e9
		for i, ym := range monthKeys {
			rep.Monthly = append(rep.Monthly, MonthMetrics{
				Month:   fmt.Sprintf("%04d-%02d", ym/100, ym%100),
				Metrics: months[i].metrics(rms[kMonth], limits[kMonth]),
			})
		}
	}
	return rep, nil
}

func (a *accum) addSkip(amt uint64, vms, risk int64, cvm crms.CVM) {
	a.skipped++
	a.amount += amt
	a.timeMs += vms
	a.risk += risk
	if cvm == crms.CVMWrongPinAborted {
		a.failedPIN++
	}
}

func (a *accum) addNaive(amt uint64, vms int64, loss uint64) {
	a.nSkipped++
	a.nAmount += amt
	a.nTimeMs += vms
	a.nLoss.add(loss)
}

func pct(n, d float64) float64 {
	if d == 0 {
		return 0
	}
	return 100 * n / d
}

func ratio(n, d float64) float64 {
	if d == 0 {
		return 0
	}
	return n / d
}

func (a *accum) metrics(rm int64, limit uint64) Metrics {
	m := Metrics{
		RiskMax:          float64(rm) / 1e9,
		SkipLimitAtRmax:  float64(limit) / 100,
		Cards:            a.cards,
		PromotedCards:    a.promoted,
		Sales:            a.sales,
		Candidates:       a.candidates,
		Skipped:          a.skipped,
		SalesAmount:      float64(a.salesAmount) / 100,
		SkippedAmount:    float64(a.amount) / 100,
		TimeGainedHours:  float64(a.timeMs) / 3.6e6,
		MaxLossWithRep:   float64(a.risk) / 1e9,
		BudgetRefused:    a.budgetRefused,
		SkippedFailedPIN: a.failedPIN,
		NaiveSkipped:     a.nSkipped,

		NaiveSkippedAmount:   float64(a.nAmount) / 100,
		NaiveTimeGainedHours: float64(a.nTimeMs) / 3.6e6,
		MaxLossWithoutRep:    a.nLoss.float() / 1e9,
	}
	m.PromotedCardsPct = pct(float64(m.PromotedCards), float64(m.Cards))
	m.SkippedPct = pct(float64(m.Skipped), float64(m.Sales))
	m.SkippedOfCandidatesPct = pct(float64(m.Skipped), float64(m.Candidates))
	m.SkippedAmountPct = pct(m.SkippedAmount, m.SalesAmount)
	m.CostPerMinute = ratio(m.MaxLossWithRep, float64(a.timeMs)/60_000)
	m.CostPerSkip = ratio(m.MaxLossWithRep, float64(m.Skipped))
	m.CostPerCard = ratio(m.MaxLossWithRep, float64(m.PromotedCards))
	m.NaiveCostPerMinute = ratio(m.MaxLossWithoutRep, float64(a.nTimeMs)/60_000)
	return m
}

func fmtDate(d int32) string {
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

// fmtNano formats a nano value as a decimal ("0.005").
func fmtNano(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := fmt.Sprintf("%d.%09d", v/1e9, v%1e9)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if neg {
		s = "-" + s
	}
	return s
}
