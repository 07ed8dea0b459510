package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/sim"
	"github.com/spf13/cobra"
)

// newSimCRMSCmd is the what-if report (sim.Simulate) with every CRMS
// parameter settable for the run.
func newSimCRMSCmd(g *globals) *cobra.Command {
	var (
		traces, riskmax, monthly, out, context, ratings, currency string
		verifyMs                                                  uint32
		offset                                                    time.Duration
	)
	overrides := sim.ParamOverrides()
	values := make([]string, len(overrides))
	defaults := crms.DefaultParams()
	var params strings.Builder
	for _, o := range overrides {
		fmt.Fprintf(&params, "  --%-13s %s (default %s)\n", o.Flag, o.Usage, o.Get(defaults))
	}
	cmd := &cobra.Command{
		Use:   "crms --traces FILE --out DIR [--riskmax 0.005:0.020:0.001] [--month-by-month 0.01] [CRMS parameters]",
		Short: "What-if of the CRMS over payment traces, for a sweep of Risk_max",
		Long: `crms replays the traces in time order through the chain's CRMS engine, with
the genesis parameters and rating table unless told otherwise. Per card it
keeps the last N flows; for each sale that went through a cardholder
verification (PIN, signature; a contactless payment under the no-CVM limit
had nothing to skip) it computes the reputation R once and decides for every
Risk_max of the sweep, with each shop's epoch risk budget (per UTC day, per
Risk_max) passed in and charged. The history records each trace's own flow:
the what-if never rewrites it.

Metrics per Risk_max (and per month for --month-by-month), amounts in the
traces' currency (--currency, PLN for the published traces):
  promoted cards      cards with at least one skipped verification (count, %
                      of the cards with a sale)
  skipped tx          sales whose verification is skipped (count, % of sales,
                      % of the sales that had a verification)
  amount              total amount of the skipped sales
  time gained         Σ of each skipped sale's measured verification time
                      (cvm_ms), else --verify-ms (default 4.5 s)
  max loss            theoretical maximum (expected) loss WITH reputation:
                      Σ over skipped sales of risk = amount·p·f(R), the
                      figure the CRMS charges to the risk budget
  w/o rep.            the same bound WITHOUT reputation: a reputation-blind
                      floor limit that skips every verified sale at or under
                      the limit a perfect card gets (limit@Rmax, 50 at 0.005
                      ... 200 at 0.020), each priced at the card's true risk
                      amount·p·f(R), capped at the amount (a card with no
                      history may lose it all)
  cost per minute / per skipped tx / per promoted card
                      max loss with reputation divided by minutes gained,
                      skipped sales, promoted cards
  budget refused      decisions that would have skipped but for the budget

What-if: every CRMS parameter (SPEC §6.2, §6.3) can be set for the run; the
values are checked against the chain's bounds.
` + params.String() + `  --ratings FILE  the rating table (flow → rating), CSV read_type,cvm,auth,rating
                  naming flows as the CLI does (contact-emv, pin-online,
                  approved, ...) with * for any; each report directory holds the table its
                  run used (crms_ratings.csv), a starting point to edit

Output: the table on stdout (or the whole report with -o json), and in --out:
crms_report.txt, crms_sweep.csv/json, crms_monthly.csv/json, crms_ratings.csv
and charts as PNG and SVG. Traces must be sorted by date and time.`,
		Example: `  bytepointsd sim crms --traces traces.csv --out ./sim-out
  bytepointsd sim crms --traces traces.csv --out ./what-if --tau 10 --n 30 --riskmax 0.005,0.01,0.02`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if traces == "" || out == "" {
				return errors.New("--traces and --out are required")
			}
			sweep, err := sim.ParseSweep(riskmax)
			if err != nil {
				return fmt.Errorf("--riskmax: %w", err)
			}
			var monthlyNano int64
			if monthly != "" {
				if monthlyNano, err = sim.ParseNano(monthly); err != nil {
					return fmt.Errorf("--month-by-month: %w", err)
				}
			}
			ctx, err := sim.ParseNano(context)
			if err != nil || ctx <= 0 {
				return fmt.Errorf("--context: %q is not a positive multiplier", context)
			}
			set := map[string]string{}
			for i, o := range overrides {
				if c.Flags().Changed(o.Flag) {
					set[o.Flag] = values[i]
				}
			}
			p, err := sim.ApplyOverrides(defaults, set)
			if err != nil {
				return err
			}
			table := crms.DefaultRatings()
			if ratings != "" {
				f, err := os.Open(ratings)
				if err != nil {
					return fmt.Errorf("--ratings: %w", err)
				}
				table, err = sim.ReadRatings(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("--ratings %s: %w", ratings, err)
				}
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
			rd, err := sim.NewReader(f)
			if err != nil {
				return err
			}
			rd.SetUTCOffset(offset)
			pr := sim.ProgressTo(c.ErrOrStderr(), "crms", size)
			start := time.Now()
			rep, err := sim.Simulate(rd, sim.Config{
				Params: p, Ratings: table, RiskMax: sweep, MonthlyRiskMax: monthlyNano, ContextNano: ctx,
				DefaultVerifyMs: verifyMs, Currency: currency,
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
			fmt.Fprintf(c.ErrOrStderr(), "simulated %d rows in %.1f s; wrote %d files to %s\n", rep.Rows, time.Since(start).Seconds(), len(files), out)
			if g.output == "json" {
				return printJSON(c.OutOrStdout(), rep)
			}
			return rep.WriteTable(c.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&traces, "traces", "", "trace CSV file (header row; sorted by date and time)")
	fl.StringVar(&riskmax, "riskmax", "0.005:0.020:0.001", "Risk_max sweep: FROM:TO:STEP or a comma list")
	fl.StringVar(&monthly, "month-by-month", "0.01", "Risk_max of the month-by-month series (empty or 0: none)")
	fl.StringVar(&out, "out", "", "directory for the CSV, JSON and chart files")
	fl.StringVar(&context, "context", "1", "terminal context multiplier on Risk_max (clamped to [--context-min, --context-max])")
	fl.Uint32Var(&verifyMs, "verify-ms", sim.DefaultVerifyMs, "time a skipped verification saves when the trace has no cvm_ms")
	fl.DurationVar(&offset, "utc-offset", sim.DefaultUTCOffset, "offset from UTC of the traces' local date and time")
	fl.StringVar(&currency, "currency", sim.DefaultCurrency, "currency of the traces' amounts (a label for the report)")
	fl.StringVar(&ratings, "ratings", "", "rating table file (CSV read_type,cvm,auth,rating; default: the chain's genesis table)")
	for i, o := range overrides {
		fl.StringVar(&values[i], o.Flag, o.Get(defaults), o.Usage)
	}
	return cmd
}
