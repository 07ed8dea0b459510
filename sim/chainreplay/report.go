package chainreplay

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/types"
)

// Report is the outcome of a replay (`sim replay -o json`).
type Report struct {
	ChainID   string `json:"chain_id"`
	Seller    string `json:"seller"`
	Traces    string `json:"traces"`
	RowsRead  int64  `json:"rows_read"`
	Refunds   int64  `json:"refunds_skipped"`
	ZeroSales int64  `json:"zero_amount_skipped"`
	Rows      int    `json:"rows"`
	Cards     int    `json:"cards"`

	TimeMap      TimeMap `json:"time_map"`
	Resumed      bool    `json:"resumed"`
	Submitted    int     `json:"purchases_submitted"`
	Committed    int     `json:"purchases_committed"`
	Replayed     int     `json:"purchases_replayed"`
	Failed       int     `json:"purchases_failed"`
	PointsIssued uint64  `json:"points_issued"`
	Seconds      float64 `json:"seconds"`
	TxPerSecond  float64 `json:"tx_per_second"`

	Flow7Checked int `json:"flow7_checked"`
	Flow7Matched int `json:"flow7_matched"`
	// Flow7BudgetUnverified counts replayed flow-7 rows whose budget input
	// is not known any more (their R, risk and any budget-independent
	// verdict were still checked).
	Flow7BudgetUnverified int `json:"flow7_budget_unverified"`
	// Flow7Reasons counts the chain's verdicts (crms_reason) on them.
	Flow7Reasons map[string]int `json:"flow7_reasons"`

	ProbePaise      uint64 `json:"probe_amount_paise"`
	CardsChecked    int    `json:"cards_checked"`
	CardsMatched    int    `json:"cards_matched"`
	CardsMismatched int    `json:"cards_mismatched"`

	Mismatches []Mismatch `json:"mismatches"`
	OK         bool       `json:"ok"`
}

// Kinds of Mismatch.
const (
	KindCard   = "card"   // the decision query disagrees with the offline state
	KindFlow7  = "flow7"  // a re-checked flow-7 purchase disagrees
	KindFailed = "failed" // a purchase was not booked
)

// Mismatch is one disagreement (or a purchase that was not booked).
type Mismatch struct {
	Kind    string `json:"kind"`
	Card    string `json:"card"`
	Line    int64  `json:"line,omitempty"`
	Field   string `json:"field"`
	Chain   string `json:"chain"`
	Offline string `json:"offline"`
}

// WriteText writes the human-readable report; at most 50 mismatches are
// listed (-o json has them all).
func (r *Report) WriteText(w io.Writer) error {
	ts := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05Z") }
	dur := func(ms int64) string {
		d := time.Duration(ms) * time.Millisecond
		if d >= 48*time.Hour {
			return fmt.Sprintf("%.1fd", d.Hours()/24)
		}
		return d.Round(time.Second).String()
	}
	tm := r.TimeMap
	resumed := ""
	if r.Resumed {
		resumed = ", read back from the first run"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "chain\t%s, seller %s\n", r.ChainID, r.Seller)
	fmt.Fprintf(tw, "traces\t%s: %d rows read, %d replayed (%d refunds and %d zero-amount sales left out)\n", r.Traces, r.RowsRead, r.Rows, r.Refunds, r.ZeroSales)
	fmt.Fprintf(tw, "time map\tt' = base + (t - t0)/%d: %s .. %s (%s) -> %s .. %s (%s)%s\n", tm.Scale,
		ts(tm.FirstMs), ts(tm.LastMs), dur(tm.LastMs-tm.FirstMs), ts(tm.MappedMin), ts(tm.MappedMax), dur(tm.MappedMax-tm.MappedMin), resumed)
	fmt.Fprintf(tw, "cards replayed\t%d\n", r.Cards)
	fmt.Fprintf(tw, "purchases submitted\t%d in %.1f s (%.0f tx/s)\n", r.Submitted, r.Seconds, r.TxPerSecond)
	fmt.Fprintf(tw, "purchases committed\t%d new, %d replayed (booked before), %d failed; %d points issued\n", r.Committed, r.Replayed, r.Failed, r.PointsIssued)
	fmt.Fprintf(tw, "%s re-checks matched\t%d of %d", types.CVMs.Name(types.CVM_CVM_NO_CVM_CRMS), r.Flow7Matched, r.Flow7Checked)
	if len(r.Flow7Reasons) > 0 {
		var rs []string
		for k, v := range r.Flow7Reasons {
			rs = append(rs, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(rs)
		fmt.Fprintf(tw, " (chain: %s)", strings.Join(rs, ", "))
	}
	if r.Flow7BudgetUnverified > 0 {
		fmt.Fprintf(tw, "; %d replayed: their budget input is gone, R, risk and verdict checked", r.Flow7BudgetUnverified)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "cards whose R matched\t%d of %d (and decision for ₹%s, payments on record)\n", r.CardsMatched, r.CardsChecked, types.FormatPaise(r.ProbePaise))
	fmt.Fprintf(tw, "mismatches\t%d\n", len(r.Mismatches))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Mismatches) == 0 {
		_, err := fmt.Fprintln(w, "OK: the chain's CRMS agrees exactly with the offline replay")
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tCARD\tLINE\tFIELD\tCHAIN\tOFFLINE")
	for k, m := range r.Mismatches {
		if k == 50 {
			fmt.Fprintf(tw, "... %d more (see -o json)\n", len(r.Mismatches)-50)
			break
		}
		line := ""
		if m.Line > 0 {
			line = strconv.FormatInt(m.Line, 10)
		}
		card := m.Card
		if len(card) > 16 {
			card = card[:16] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Kind, card, line, m.Field, m.Chain, m.Offline)
	}
	return tw.Flush()
}
