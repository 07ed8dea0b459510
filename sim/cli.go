package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Command returns the `sim` command with its subcommands `gen` and `crms`.
// It defines its own persistent --output/-o (text or json), which shadows a
// root flag of the same name, so it works standalone and under bytepointsd.
func Command() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Offline CRMS what-if simulation over payment traces",
		Long: `sim replays a year of payment traces through the same CRMS code the chain
runs (reputation and skip decision, SPEC §6) and reports what skipping
cardholder verification would have gained and risked, for a sweep of
Risk_max values (SPEC §8). It runs offline: no node, no chain.

  bytepointsd sim gen  --out traces.csv --seed 1            synthetic year, published scale
  bytepointsd sim crms --traces traces.csv --out ./sim-out  the what-if report`,
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", output)
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.AddCommand(genCommand(&output), crmsCommand(&output))
	return cmd
}

func genCommand(output *string) *cobra.Command {
	var (
		out   string
		seed  uint64
		scale float64
		year  int
	)
	cmd := &cobra.Command{
		Use:   "gen --out FILE --seed S [--scale F]",
		Short: "Generate a synthetic year of payment traces",
		Long: `gen writes a seeded synthetic trace file: one calendar year of payments in
time order, in the trace CSV format (SPEC §8) with every optional column:

  card,read_type,date,time,type,amount,terminal,shop,flow,cvm_ms,auth

At --scale 1 (the default) it has exactly the published scale: 2,463,203
traces of 293,795 cards at 68 terminals in 18 shops. A smaller scale shrinks
traces and cards proportionally and keeps the shops and terminals.

The same seed and scale give a byte-identical file. The model: a heavy tail
of occasional cards (most pay 1-3 times a year) and a core of regular and
frequent cards (monthly, weekly, daily) with a steady rhythm; six kinds of
shop (grocery, pharmacy, cafe, fuel, apparel, electronics) with their opening
hours, weekly rhythm, festive season and lognormal ticket sizes (median about
Rs 500, a long tail of big tickets); contactless dominating payments under
the Rs 5,000 no-CVM limit; PIN online/offline, wrong-PIN-then-OK, aborted
PINs, rare signatures; about 1.7% declines and 0.5% refunds; measured
verification times (PIN about 4-6 s). See the package documentation.

The summary (counts, amount quantiles, mix of read types and CVMs, cards by
number of payments) goes to stdout; use -o json for a machine-readable one.
With --out - the traces go to stdout and the summary to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			var w io.Writer
			summary := c.OutOrStdout()
			var f *os.File
			if out == "-" {
				w, summary = c.OutOrStdout(), c.ErrOrStderr()
			} else {
				var err error
				if f, err = os.Create(out); err != nil {
					return err
				}
				w = f
			}
			s := scale
			if s == 0 {
				s = 1
			}
			pr := progressTo(c.ErrOrStderr(), "gen", int64(float64(PublishedTraces)*s))
			start := time.Now()
			st, err := Generate(w, GenOptions{Seed: seed, Scale: scale, Year: year, Progress: func(done, total int64) {
				pr.total = total
				pr.Update(done, done)
			}})
			if f != nil {
				if e := f.Close(); err == nil {
					err = e
				}
			}
			if err != nil {
				return err
			}
			pr.Done(st.Traces, st.Traces)
			if *output == "json" {
				enc := json.NewEncoder(summary)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			fmt.Fprintf(summary, "wrote %s in %.1f s (seed %d, scale %g)\n%s", out, time.Since(start).Seconds(), seed, st.Scale, st)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "trace file to write (- for stdout)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same file")
	cmd.Flags().Float64Var(&scale, "scale", 1, "fraction of the published scale, in (0, 1]")
	cmd.Flags().IntVar(&year, "year", 2025, "calendar year of the traces")
	return cmd
}

func crmsCommand(output *string) *cobra.Command {
	var (
		traces, riskmax, monthly, out, context string
		verifyMs                               uint32
		offset                                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "crms --traces FILE --out DIR [--riskmax 0.005:0.020:0.001] [--month-by-month 0.01]",
		Short: "What-if of the CRMS over payment traces, for a sweep of Risk_max",
		Long: `crms replays the traces in time order through the chain's CRMS engine with
the genesis parameters and rating table. Per card it keeps the last N flows;
for each sale that went through a cardholder verification (PIN, signature;
a contactless payment under the no-CVM limit had nothing to skip) it computes
the reputation R once and decides for every Risk_max of the sweep, with each
shop's epoch risk budget (per UTC day, per Risk_max) passed in and charged.
The history records each trace's own flow: the what-if never rewrites it.

Metrics per Risk_max (and per month for --month-by-month):
  promoted cards      cards with at least one skipped verification (count, %
                      of the cards with a sale)
  skipped tx          sales whose verification is skipped (count, % of sales,
                      % of the sales that had a verification)
  amount              total amount of the skipped sales (Rs)
  time gained         Σ of each skipped sale's measured verification time
                      (cvm_ms), else --verify-ms (default 4.5 s)
  max loss            theoretical maximum (expected) loss WITH reputation:
                      Σ over skipped sales of risk = amount·p·f(R), the
                      figure the CRMS charges to the risk budget
  w/o rep.            the same bound WITHOUT reputation: a reputation-blind
                      floor limit that skips every verified sale at or under
                      the limit a perfect card gets (limit@Rmax, Rs 50 at
                      0.005 ... Rs 200 at 0.020), each priced at the card's
                      true risk amount·p·f(R), capped at the amount (a card
                      with no history may lose it all)
  cost per minute / per skipped tx / per promoted card
                      max loss with reputation divided by minutes gained,
                      skipped sales, promoted cards
  budget refused      decisions that would have skipped but for the budget

Output: the table on stdout (or the whole report with -o json), and in --out:
crms_report.txt, crms_sweep.csv/json, crms_monthly.csv/json and charts as PNG
and SVG. Traces must be sorted by date and time.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if traces == "" || out == "" {
				return errors.New("--traces and --out are required")
			}
			sweep, err := ParseSweep(riskmax)
			if err != nil {
				return fmt.Errorf("--riskmax: %w", err)
			}
			var monthlyNano int64
			if monthly != "" {
				if monthlyNano, err = ParseNano(monthly); err != nil {
					return fmt.Errorf("--month-by-month: %w", err)
				}
			}
			ctx, err := ParseNano(context)
			if err != nil || ctx <= 0 {
				return fmt.Errorf("--context: %q is not a positive multiplier", context)
			}
			f, err := os.Open(traces)
			if err != nil {
				return err
			}
			defer f.Close()
			var size int64
			if fi, err := f.Stat(); err == nil {
				size = fi.Size()
			}
			rd, err := NewReader(f)
			if err != nil {
				return err
			}
			rd.SetUTCOffset(offset)
			pr := progressTo(c.ErrOrStderr(), "crms", size)
			start := time.Now()
			rep, err := Simulate(rd, Config{
				RiskMax: sweep, MonthlyRiskMax: monthlyNano, ContextNano: ctx, DefaultVerifyMs: verifyMs,
				Progress: func(rows int64) { pr.Update(rd.BytesRead(), rows) },
			})
			if err != nil {
				return err
			}
			pr.Done(rd.BytesRead(), rep.Rows)
			files, err := rep.WriteReport(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "simulated %s rows in %.1f s; wrote %d files to %s\n", groupThousands(rep.Rows), time.Since(start).Seconds(), len(files), out)
			if *output == "json" {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteTable(c.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&traces, "traces", "", "trace CSV file (header row; sorted by date and time)")
	cmd.Flags().StringVar(&riskmax, "riskmax", "0.005:0.020:0.001", "Risk_max sweep: FROM:TO:STEP or a comma list")
	cmd.Flags().StringVar(&monthly, "month-by-month", "0.01", "Risk_max of the month-by-month series (empty or 0: none)")
	cmd.Flags().StringVar(&out, "out", "", "directory for the CSV, JSON and chart files")
	cmd.Flags().StringVar(&context, "context", "1", "terminal context multiplier on Risk_max (clamped to the chain's bounds)")
	cmd.Flags().Uint32Var(&verifyMs, "verify-ms", DefaultVerifyMs, "time a skipped verification saves when the trace has no cvm_ms")
	cmd.Flags().DurationVar(&offset, "utc-offset", DefaultUTCOffset, "offset from UTC of the traces' local date and time")
	return cmd
}

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

// progressTo draws on w: a bar when w is a terminal, tenths otherwise.
func progressTo(w io.Writer, label string, total int64) *Progress {
	if f, ok := w.(*os.File); ok {
		return NewProgress(f, label, total)
	}
	return newProgress(w, false, label, total, time.Now)
}
