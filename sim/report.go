package sim

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Output files written by WriteReport into its directory.
const (
	FileSweepCSV    = "crms_sweep.csv"
	FileSweepJSON   = "crms_sweep.json"
	FileMonthlyCSV  = "crms_monthly.csv"
	FileMonthlyJSON = "crms_monthly.json"
	FileTable       = "crms_report.txt"
)

// WriteReport writes into dir (created if needed): the table
// (crms_report.txt), crms_sweep.csv/json, crms_monthly.csv/json (when the
// report has a monthly series) and every chart as PNG and SVG (see
// ChartFiles). It returns the paths written, in a stable order.
func (r *Report) WriteReport(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	write := func(name string, fn func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		err = fn(bw)
		if e := bw.Flush(); err == nil {
			err = e
		}
		if e := f.Close(); err == nil {
			err = e
		}
		if err != nil {
			return fmt.Errorf("sim: writing %s: %w", path, err)
		}
		written = append(written, path)
		return nil
	}
	if err := write(FileTable, r.WriteTable); err != nil {
		return written, err
	}
	if len(r.Ratings) > 0 {
		if err := write(FileRatings, func(w io.Writer) error { return WriteRatings(w, r.Ratings.Table()) }); err != nil {
			return written, err
		}
	}
	if err := write(FileSweepCSV, func(w io.Writer) error { return writeMetricsCSV(w, r.Sweep, nil) }); err != nil {
		return written, err
	}
	sweep := *r
	sweep.Monthly, sweep.MonthlyRiskMax = nil, 0
	if err := write(FileSweepJSON, func(w io.Writer) error { return writeJSON(w, &sweep) }); err != nil {
		return written, err
	}
	if len(r.Monthly) > 0 {
		ms := make([]Metrics, len(r.Monthly))
		months := make([]string, len(r.Monthly))
		for i, m := range r.Monthly {
			ms[i], months[i] = m.Metrics, m.Month
		}
		if err := write(FileMonthlyCSV, func(w io.Writer) error { return writeMetricsCSV(w, ms, months) }); err != nil {
			return written, err
		}
		doc := struct {
			RiskMax float64        `json:"risk_max"`
			Months  []MonthMetrics `json:"months"`
		}{r.MonthlyRiskMax, r.Monthly}
		if err := write(FileMonthlyJSON, func(w io.Writer) error { return writeJSON(w, doc) }); err != nil {
			return written, err
		}
	}
	charts, err := r.WriteCharts(dir)
	written = append(written, charts...)
	return written, err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// metricColumns are the CSV columns, named as the JSON fields.
var metricColumns = []struct {
	name string
	get  func(*Metrics) float64
}{
	{"risk_max", func(m *Metrics) float64 { return m.RiskMax }},
	{"skip_limit_at_rmax", func(m *Metrics) float64 { return m.SkipLimitAtRmax }},
	{"cards", func(m *Metrics) float64 { return float64(m.Cards) }},
	{"promoted_cards", func(m *Metrics) float64 { return float64(m.PromotedCards) }},
	{"promoted_cards_pct", func(m *Metrics) float64 { return m.PromotedCardsPct }},
	{"sales", func(m *Metrics) float64 { return float64(m.Sales) }},
	{"candidates", func(m *Metrics) float64 { return float64(m.Candidates) }},
	{"skipped", func(m *Metrics) float64 { return float64(m.Skipped) }},
	{"skipped_pct", func(m *Metrics) float64 { return m.SkippedPct }},
	{"skipped_of_candidates_pct", func(m *Metrics) float64 { return m.SkippedOfCandidatesPct }},
	{"sales_amount", func(m *Metrics) float64 { return m.SalesAmount }},
	{"skipped_amount", func(m *Metrics) float64 { return m.SkippedAmount }},
	{"skipped_amount_pct", func(m *Metrics) float64 { return m.SkippedAmountPct }},
	{"time_gained_hours", func(m *Metrics) float64 { return m.TimeGainedHours }},
	{"max_loss_with_reputation", func(m *Metrics) float64 { return m.MaxLossWithRep }},
	{"max_loss_without_reputation", func(m *Metrics) float64 { return m.MaxLossWithoutRep }},
	{"cost_per_minute", func(m *Metrics) float64 { return m.CostPerMinute }},
	{"cost_per_skipped_tx", func(m *Metrics) float64 { return m.CostPerSkip }},
	{"cost_per_promoted_card", func(m *Metrics) float64 { return m.CostPerCard }},
	{"budget_refused", func(m *Metrics) float64 { return float64(m.BudgetRefused) }},
	{"skipped_failed_pin", func(m *Metrics) float64 { return float64(m.SkippedFailedPIN) }},
	{"naive_skipped", func(m *Metrics) float64 { return float64(m.NaiveSkipped) }},
	{"naive_skipped_amount", func(m *Metrics) float64 { return m.NaiveSkippedAmount }},
	{"naive_time_gained_hours", func(m *Metrics) float64 { return m.NaiveTimeGainedHours }},
	{"naive_cost_per_minute", func(m *Metrics) float64 { return m.NaiveCostPerMinute }},
}

// writeMetricsCSV writes one row per Metrics; with months, a first "month" column.
func writeMetricsCSV(w io.Writer, ms []Metrics, months []string) error {
	cw := csv.NewWriter(w)
	var hdr []string
	if months != nil {
		hdr = append(hdr, "month")
	}
	for _, c := range metricColumns {
		hdr = append(hdr, c.name)
	}
	if err := cw.Write(hdr); err != nil {
		return err
	}
	row := make([]string, 0, len(hdr))
	for i := range ms {
		row = row[:0]
		if months != nil {
			row = append(row, months[i])
		}
		for _, c := range metricColumns {
			row = append(row, strconv.FormatFloat(c.get(&ms[i]), 'f', -1, 64))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the human-readable report: the input summary, the sweep
// and the month-by-month series, in aligned columns.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "CRMS what-if: %s rows (%s sales, %s refunds, %s declined), %s cards, %d shops, %s .. %s\n",
		groupThousands(r.Rows), groupThousands(r.Sales), groupThousands(r.Refunds), groupThousands(r.Declined),
		groupThousands(r.Cards), r.Shops, r.FirstDate, r.LastDate)
	fmt.Fprintf(bw, "%s sales went through a verification the CRMS could skip (candidates); context %.2f; %.1f s per verification when not measured\n\n",
		groupThousands(r.Candidates), r.Context, float64(r.DefaultVerifyMs)/1000)

	cur := r.Currency
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Risk_max\tlimit@Rmax\tpromoted cards\t%%\tskipped tx\t%% sales\t%% cand.\tamount\ttime h\tmax loss\tw/o rep.\t%[1]s/min\t%[1]s/tx\t%[1]s/card\tbudget refused\t\n", cur)
	for _, m := range r.Sweep {
		fmt.Fprintf(tw, "%.3f\t%s\t%s\t%.2f\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			m.RiskMax, money(m.SkipLimitAtRmax), groupThousands(m.PromotedCards), m.PromotedCardsPct,
			groupThousands(m.Skipped), m.SkippedPct, m.SkippedOfCandidatesPct, money(m.SkippedAmount),
			num1(m.TimeGainedHours), small(m.MaxLossWithRep), money(m.MaxLossWithoutRep),
			small(m.CostPerMinute), small(m.CostPerSkip), small(m.CostPerCard), groupThousands(m.BudgetRefused))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Monthly) > 0 {
		fmt.Fprintf(bw, "\nMonth by month at Risk_max %.3f\n\n", r.MonthlyRiskMax)
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "month\tcards\tpromoted\t%%\tsales\tskipped\t%%\tamount\ttime h\tmax loss\tw/o rep.\t%s/min\t\n", cur)
		for _, m := range r.Monthly {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n",
				m.Month, groupThousands(m.Cards), groupThousands(m.PromotedCards), m.PromotedCardsPct,
				groupThousands(m.Sales), groupThousands(m.Skipped), m.SkippedPct, money(m.SkippedAmount),
				num1(m.TimeGainedHours), small(m.MaxLossWithRep), money(m.MaxLossWithoutRep), small(m.CostPerMinute))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(bw, "\nAmounts in %s. max loss = Σ risk of the skipped payments (amount·p·f(R)); w/o rep. = the same bound for a\n", cur)
	fmt.Fprintln(bw, "reputation-blind floor limit (skip every candidate ≤ limit@Rmax; unknown card = whole amount).")
	fmt.Fprintf(bw, "%[1]s/min, %[1]s/tx, %[1]s/card = max loss per minute gained, per skipped transaction, per promoted card.\n", cur)
	return bw.Flush()
}

// money formats an amount with thousands separators and 2 decimals.
func money(v float64) string { return grouped(v, 2) }

func num1(v float64) string { return grouped(v, 1) }

// grouped formats v with dec decimals and thousands separators.
func grouped(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(intPart[i])
	}
	b.WriteString(frac)
	return b.String()
}

// small formats a small amount with 4 significant decimals.
func small(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000:
		return money(v)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 6, 64)
}
