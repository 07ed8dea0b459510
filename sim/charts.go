package sim

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/bytepoints/bytepoints/node/chartstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type series struct {
	name   string
	ys     []float64
	dashed bool
}

// chartSpec is one chart: lines over the sweep's Risk_max values, or over
// months when labels is set (one label per x = 0, 1, ...).
type chartSpec struct {
	file, title, xLabel, yLabel string
	xs                          []float64
	labels                      []string
	series                      []series
	log                         bool // log y axis, used when every value is positive
	yFmt                        func(v float64, decimals int) string
}

// ChartFiles lists the chart base names WriteCharts produces (each as .png
// and .svg); the monthly ones only when the report has a monthly series.
func (r *Report) ChartFiles() []string {
	var out []string
	for _, c := range r.chartSpecs() {
		out = append(out, c.file)
	}
	return out
}

func (r *Report) chartSpecs() []chartSpec {
	xs := make([]float64, len(r.Sweep))
	col := func(get func(*Metrics) float64) []float64 {
		ys := make([]float64, len(r.Sweep))
		for i := range r.Sweep {
			ys[i] = get(&r.Sweep[i])
		}
		return ys
	}
	for i, m := range r.Sweep {
		xs[i] = m.RiskMax
	}
	cur := r.Currency
	if cur == "" {
		cur = DefaultCurrency
	}
	xl := "Risk_max (expected loss accepted per payment, " + cur + ")"
	pctFmt := func(v float64, dec int) string { return grouped(v, dec) + "%" }
	amount := func(v float64, dec int) string { return grouped(v, dec) }
	hours := func(v float64, dec int) string { return grouped(v, dec) }
	specs := []chartSpec{
		{file: "crms_cards_promoted", title: "Cards promoted: at least one verification skipped in the year",
			xLabel: xl, yLabel: "cards promoted (% of cards)", xs: xs, yFmt: pctFmt,
			series: []series{{name: "% of cards", ys: col(func(m *Metrics) float64 { return m.PromotedCardsPct })}}},
		{file: "crms_transactions_skipped", title: "Transactions promoted: verification skipped",
			xLabel: xl, yLabel: "skipped transactions (%)", xs: xs, yFmt: pctFmt,
			series: []series{
				{name: "% of all sales", ys: col(func(m *Metrics) float64 { return m.SkippedPct })},
				{name: "% of sales that had a verification", ys: col(func(m *Metrics) float64 { return m.SkippedOfCandidatesPct }), dashed: true},
			}},
		{file: "crms_amount_skipped", title: "Amount paid without verification",
			xLabel: xl, yLabel: "amount skipped (" + cur + ")", xs: xs, yFmt: amount,
			series: []series{{name: cur + " skipped", ys: col(func(m *Metrics) float64 { return m.SkippedAmount })}}},
		{file: "crms_time_gained", title: "Checkout time gained by skipped verifications",
			xLabel: xl, yLabel: "time gained (hours)", xs: xs, yFmt: hours,
			series: []series{{name: "hours", ys: col(func(m *Metrics) float64 { return m.TimeGainedHours })}}},
		{file: "crms_max_loss", title: "Theoretical maximum loss, with and without reputation",
			xLabel: xl, yLabel: "maximum loss (" + cur + ", log scale)", xs: xs, log: true, yFmt: amount,
			series: []series{
				{name: "with reputation (CRMS)", ys: col(func(m *Metrics) float64 { return m.MaxLossWithRep })},
				{name: "without reputation (floor limit for every card)", ys: col(func(m *Metrics) float64 { return m.MaxLossWithoutRep }), dashed: true},
			}},
		{file: "crms_cost_per_minute", title: "Cost per minute of checkout time gained",
			xLabel: xl, yLabel: "max loss per minute gained (" + cur + ", log scale)", xs: xs, log: true, yFmt: amount,
			series: []series{
				{name: "with reputation (CRMS)", ys: col(func(m *Metrics) float64 { return m.CostPerMinute })},
				{name: "without reputation", ys: col(func(m *Metrics) float64 { return m.NaiveCostPerMinute }), dashed: true},
			}},
		{file: "crms_cost_per_transaction", title: "Cost per skipped transaction",
			xLabel: xl, yLabel: "max loss per skipped transaction (" + cur + ")", xs: xs, yFmt: amount,
			series: []series{{name: cur + " per skipped transaction", ys: col(func(m *Metrics) float64 { return m.CostPerSkip })}}},
		{file: "crms_cost_per_card", title: "Cost per promoted card",
			xLabel: xl, yLabel: "max loss per promoted card (" + cur + ")", xs: xs, yFmt: amount,
			series: []series{{name: cur + " per promoted card", ys: col(func(m *Metrics) float64 { return m.CostPerCard })}}},
	}
	if len(r.Monthly) == 0 {
		return specs
	}
	mx := make([]float64, len(r.Monthly))
	labels := make([]string, len(r.Monthly))
	mcol := func(get func(*Metrics) float64) []float64 {
		ys := make([]float64, len(r.Monthly))
		for i := range r.Monthly {
			ys[i] = get(&r.Monthly[i].Metrics)
		}
		return ys
	}
	for i, m := range r.Monthly {
		mx[i], labels[i] = float64(i), m.Month
	}
	rm := fmt.Sprintf("Risk_max %.3f", r.MonthlyRiskMax)
	return append(specs,
		chartSpec{file: "crms_monthly_promoted", title: "Month by month: cards and transactions promoted, " + rm,
			xLabel: "month", yLabel: "% of the month's cards / sales", xs: mx, labels: labels, yFmt: pctFmt,
			series: []series{
				{name: "cards promoted (% of active cards)", ys: mcol(func(m *Metrics) float64 { return m.PromotedCardsPct })},
				{name: "transactions skipped (% of sales)", ys: mcol(func(m *Metrics) float64 { return m.SkippedPct }), dashed: true},
			}},
		chartSpec{file: "crms_monthly_time_gained", title: "Month by month: time gained, " + rm,
			xLabel: "month", yLabel: "time gained (hours)", xs: mx, labels: labels, yFmt: hours,
			series: []series{{name: "hours", ys: mcol(func(m *Metrics) float64 { return m.TimeGainedHours })}}},
		chartSpec{file: "crms_monthly_amount_skipped", title: "Month by month: amount paid without verification, " + rm,
			xLabel: "month", yLabel: "amount skipped (" + cur + ")", xs: mx, labels: labels, yFmt: amount,
			series: []series{{name: cur + " skipped", ys: mcol(func(m *Metrics) float64 { return m.SkippedAmount })}}},
		chartSpec{file: "crms_monthly_max_loss", title: "Month by month: maximum loss with and without reputation, " + rm,
			xLabel: "month", yLabel: "maximum loss (" + cur + ", log scale)", xs: mx, labels: labels, log: true, yFmt: amount,
			series: []series{
				{name: "with reputation (CRMS)", ys: mcol(func(m *Metrics) float64 { return m.MaxLossWithRep })},
				{name: "without reputation", ys: mcol(func(m *Metrics) float64 { return m.MaxLossWithoutRep }), dashed: true},
			}},
	)
}

// decimalsFor is the number of decimals that shows a step (or a value) of
// this magnitude: 0 for ≥ 1, 1 for 0.1…, 2 for 0.01…
func decimalsFor(v float64) int {
	a := math.Abs(v)
	if a == 0 || a >= 1 {
		return 0
	}
	return min(9, int(math.Ceil(-math.Log10(a)-1e-9)))
}

// WriteCharts draws every chart into dir as PNG and SVG and returns the
// paths written.
func (r *Report) WriteCharts(dir string) ([]string, error) {
	var written []string
	for _, spec := range r.chartSpecs() {
		p, err := spec.plot()
		if err != nil {
			return written, fmt.Errorf("sim: chart %s: %w", spec.file, err)
		}
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(dir, spec.file+ext)
			if err := savePlot(p, path, ext); err != nil {
				return written, fmt.Errorf("sim: chart %s: %w", path, err)
			}
			written = append(written, path)
		}
	}
	return written, nil
}

func savePlot(p *plot.Plot, path, ext string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = chartstyle.Encode(p, bw, strings.TrimPrefix(ext, "."))
	if e := bw.Flush(); err == nil {
		err = e
	}
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}

// fmtTicker labels the ticks of another ticker with f, with as many
// decimals as the spacing of the labelled ticks needs (on a log axis, as
// each value needs).
type fmtTicker struct {
	base plot.Ticker
	log  bool
	f    func(v float64, decimals int) string
}

func (t fmtTicker) Ticks(lo, hi float64) []plot.Tick {
	ts := t.base.Ticks(lo, hi)
	step := math.Inf(1)
	prev := math.NaN()
	for _, tk := range ts {
		if tk.Label != "" {
			if !math.IsNaN(prev) {
				step = math.Min(step, tk.Value-prev)
			}
			prev = tk.Value
		}
	}
	dec := 0
	if !math.IsInf(step, 1) {
		dec = decimalsFor(step)
	}
	for i := range ts {
		if ts[i].Label != "" {
			d := dec
			if t.log {
				d = decimalsFor(ts[i].Value)
			}
			ts[i].Label = t.f(ts[i].Value, d)
		}
	}
	return ts
}

func (s chartSpec) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = s.title
	p.Title.TextStyle.Font = chartstyle.Sans(15)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text, p.Y.Label.Text = s.xLabel, s.yLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = chartstyle.Sans(12)
		ax.Tick.Label.Font = chartstyle.Sans(10.5)
		ax.Padding = vg.Points(4)
	}
	p.Legend.TextStyle.Font = chartstyle.Sans(11)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = vg.Points(3)
	p.Add(plotter.NewGrid())

	logY := s.log
	for _, se := range s.series {
		for _, y := range se.ys {
			if !(y > 0) {
				logY = false
			}
		}
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = fmtTicker{base: plot.LogTicks{}, log: true, f: s.yFmt}
	} else {
		p.Y.Tick.Marker = fmtTicker{base: plot.DefaultTicks{}, f: s.yFmt}
	}
	if s.labels != nil {
		p.NominalX(s.labels...)
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	} else {
		p.X.Tick.Marker = fmtTicker{base: plot.DefaultTicks{}, f: func(v float64, _ int) string { return fmt.Sprintf("%.3f", v) }}
	}
	for i, se := range s.series {
		pts := make(plotter.XYs, len(s.xs))
		for j := range s.xs {
			pts[j].X, pts[j].Y = s.xs[j], se.ys[j]
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		c := chartstyle.Palette[i%len(chartstyle.Palette)]
		line.Color, line.Width = c, vg.Points(2)
		if se.dashed {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		points.Color, points.Radius = c, vg.Points(3)
		points.Shape = draw.CircleGlyph{}
		p.Add(line, points)
		if se.name != "" && len(s.series) > 1 {
			p.Legend.Add(se.name, line, points)
		}
	}
	if !logY {
		p.Y.Min = math.Min(0, p.Y.Min)
		if p.Y.Max <= p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
		if len(s.series) > 1 {
			p.Y.Max += 0.15 * (p.Y.Max - p.Y.Min) // headroom for the legend
		}
	} else if len(s.series) > 1 {
		p.Y.Max *= 3
	}
	if s.labels != nil {
		p.X.Min, p.X.Max = -0.5, float64(len(s.labels))-0.5
	}
	return p, nil
}
