package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/sim"
	"github.com/bytepoints/bytepoints/sim/chainreplay"
	"github.com/spf13/cobra"
)

// newSimReplayCmd submits a trace sample to a running chain and compares its
// CRMS with the offline engine (package sim/chainreplay).
func newSimReplayCmd(g *globals) *cobra.Command {
	var (
		traces, probe           string
		limit, cards, window    int
		validFor                uint64
		timeScale               int64
		margin, offset, timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replay --traces FILE --home H [--limit N] [--cards M] [--node URL] [-o json]",
		Short: "Submit traces' purchases to a running network and compare on-chain CRMS with the offline simulation",
		Long: `replay submits a sample of a trace file to a running chain as Purchases of
this home's seller (signed by its operator key, no terminal), each carrying the
trace's own payment flow, then checks that the chain's CRMS agrees EXACTLY with
the offline engine run over the same rows with the chain's own CRMS
parameters and rating table (read from /params, never the defaults).

Sample: the rows in file order (the first --cards cards only, if given), up
to --limit rows; refunds and zero-amount sales are left out. Time: trace
times are mapped into the chain's payment-lag window, t' = base + (t - t0)/K,
K = 1 when the sample fits, else the smallest whole K that does (or
--time-scale); the offline side runs over the same t'. Submission: up to
--window transactions in flight, each card's rows in order; a flow-7 row
("no CVM granted by the CRMS") is re-checked by the chain against exactly
the card's earlier rows and the seller's epoch risk budget. Idempotency: a
re-run books nothing twice (rows come back replayed, the time map is read
back from the chain); a fresh run refuses cards with on-chain history.

Checks: every flow-7 purchase (violation, reason, R and risk) and every
card (R at the answer's block time, the decision for --probe, payments on
record). Any mismatch is listed and the command exits with status 1.
Replay through a seller that is otherwise idle. The whole contract is the
package documentation of sim/chainreplay. Progress goes to stderr.`,
		Example: `  bytepointsd sim gen --out traces.csv --scale 0.001 --seed 7
  bytepointsd sim replay --traces traces.csv --home ./net/seller-0 --limit 5000
  bytepointsd sim replay --traces traces.csv --home ./net/seller-0 --cards 100 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if traces == "" {
				return errors.New("--traces is required")
			}
			probePaise, err := amountFlag("probe", probe)
			if err != nil {
				return err
			}
			seller := homeSeller(g)
			if seller == "" {
				return fmt.Errorf("%s has no seller id (config/app.toml): replay submits as the home's seller", g.home)
			}
			key, err := node.LoadKey(g.home, node.OperatorKey)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			f, err := os.Open(traces)
			if err != nil {
				return err
			}
			sample, err := chainreplay.LoadSample(f, traces, chainreplay.SampleOptions{Limit: limit, Cards: cards, UTCOffset: offset})
			f.Close()
			if err != nil {
				return err
			}
			cl, err := dialSigner(ctx, g, key)
			if err != nil {
				return err
			}
			rep, err := chainreplay.Run(ctx, cl, sample, chainreplay.Options{
				Seller: seller, Traces: traces, Window: window, ValidFor: validFor, TimeScale: timeScale,
				Margin: margin, ProbePaise: probePaise, Timeout: timeout, Progress: cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				err = printJSON(w, rep)
			} else {
				err = rep.WriteText(w)
			}
			if err != nil {
				return err
			}
			if !rep.OK {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&traces, "traces", "", "trace CSV file (the sim format; header row)")
	fl.IntVar(&limit, "limit", 0, "replay at most N rows (0: all)")
	fl.IntVar(&cards, "cards", 0, "replay only the rows of the first M cards of the file (0: all)")
	fl.IntVar(&window, "window", 1000, "transactions awaiting their commit at once")
	fl.Uint64Var(&validFor, "valid-for", 0, "blocks each transaction (and its idempotency key) stays valid (0: the chain's max_valid_ahead_blocks)")
	fl.Int64Var(&timeScale, "time-scale", 0, "divide trace time gaps by K (0: 1 if the sample fits the payment-lag window, else the smallest K that fits)")
	fl.DurationVar(&margin, "margin", 2*time.Hour, "time the replay may take before its oldest payment would fall out of the lag window")
	fl.StringVar(&probe, "probe", "20.00", "amount of the per-card decision compared at the end")
	fl.DurationVar(&offset, "utc-offset", sim.DefaultUTCOffset, "offset from UTC of the traces' local date and time")
	fl.DurationVar(&timeout, "timeout", 2*time.Minute, "give up when no transaction commits for this long")
	return cmd
}
