package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/app/imports/approval"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// Import of an existing program (SPEC §5.6, docs/protocol.md): the
// approve-import proposal, `import balances` and `query imports`.

func newTxProposeApproveImportCmd(propose func(*cobra.Command, *types.MsgPropose) error) *cobra.Command {
	var a types.ApproveImport
	cmd := &cobra.Command{
		Use:   "approve-import",
		Short: "Propose letting a seller import its existing program's balances, up to a number of points",
		Long: `Imported points are redeemable at every member's till, so members vote on an
import first. Once passed, the seller's operator may import rows worth up to
--max-points points (bytepointsd import balances) until --until-height (0: no
deadline). A further approval for the same seller adds to its allowance.`,
		Example: "  bytepointsd tx propose approve-import --home ./net/seller-0 --seller shop-b --max-points 1000000 --until-height 50000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := types.ValidateSellerID(a.SellerId); err != nil {
				return usagef("--seller: %s", types.Message(err))
			}
			if a.MaxPoints == 0 {
				return usagef("--max-points must be positive")
			}
			return propose(cmd, &types.MsgPropose{Action: &types.MsgPropose_ApproveImport{ApproveImport: &a}})
		},
	}
	cmd.Flags().StringVar(&a.SellerId, "seller", "", "the seller that imports")
	cmd.Flags().Uint64Var(&a.MaxPoints, "max-points", 0, "points it may import in all")
	cmd.Flags().Int64Var(&a.UntilHeight, "until-height", 0, "last height at which rows may book (0: no deadline)")
	return cmd
}

// newQueryImportsCmd is `query imports`.
func newQueryImportsCmd(r *queryRunner) *cobra.Command {
	var seller string
	cmd := &cobra.Command{
		Use:   "imports",
		Short: "Import approvals: allowance, what was used, and by which files (digests)",
		Args:  cobra.NoArgs,
		Example: `  bytepointsd query imports --home ./net/seller-0
  bytepointsd query imports --home ./net/seller-0 --seller shop-b --prove`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if seller == "" {
				return r.run(cmd, "/imports", func(w io.Writer, q *client.QueryResult) (any, error) {
					r, err := client.Decode[types.ImportsResponse](q)
					if err != nil {
						return nil, err
					}
					var list []any
					fmt.Fprintf(w, "%d approvals; %d rows, %d points imported in all\n", r.Totals.Approvals, r.Totals.Rows, r.Totals.Points)
					for _, a := range r.Approvals {
						printApproval(w, a)
						list = append(list, approvalFields(a))
					}
					return map[string]any{"height": q.Height, "approvals": list, "rows": r.Totals.Rows, "points": r.Totals.Points}, nil
				})
			}
			if err := types.ValidateSellerID(seller); err != nil {
				return usagef("--seller: %s", types.Message(err))
			}
			return r.run(cmd, "/imports/"+seller, func(w io.Writer, q *client.QueryResult) (any, error) {
				r, err := client.Decode[types.ImportResponse](q)
				if err != nil {
					return nil, err
				}
				printApproval(w, r.Approval)
				out := approvalFields(r.Approval)
				var files []any
				for _, f := range r.Files {
					fmt.Fprintf(w, "  file %x: %d of %d rows booked, %d points, %d batches, heights %d-%d\n",
						f.Digest, f.BookedRows, f.FileRows, f.Points, f.Batches, f.FirstHeight, f.LastHeight)
					files = append(files, fileFields(f))
				}
				out["files"] = files
				out["height"] = q.Height
				return out, nil
			})
		},
	}
	cmd.Flags().StringVar(&seller, "seller", "", "one seller's approval and files")
	return cmd
}

func printApproval(w io.Writer, a *types.ImportApproval) {
	until := "no deadline"
	if a.UntilHeight != 0 {
		until = fmt.Sprintf("until height %d", a.UntilHeight)
	}
	fmt.Fprintf(w, "%s: approved %d points (%s, last approved at height %d); used %d in %d rows from %d files; %d remain\n",
		a.SellerId, a.MaxPoints, until, a.ApprovedHeight, a.UsedPoints, a.Rows, a.FileCount, approval.Remaining(a))
}

func approvalFields(a *types.ImportApproval) map[string]any {
	return map[string]any{"seller": a.SellerId, "max_points": a.MaxPoints, "used_points": a.UsedPoints,
		"remaining_points": approval.Remaining(a), "until_height": a.UntilHeight, "approved_height": a.ApprovedHeight,
		"rows": a.Rows, "files": a.FileCount}
}

func fileFields(f *types.ImportFile) map[string]any {
	var ranges [][2]uint64
	for _, r := range f.Booked {
		ranges = append(ranges, [2]uint64{r.First, r.End})
	}
	return map[string]any{"digest": hex.EncodeToString(f.Digest), "file_rows": f.FileRows, "booked_rows": f.BookedRows,
		"points": f.Points, "batches": f.Batches, "first_height": f.FirstHeight, "last_height": f.LastHeight, "booked_ranges": ranges}
}

func newImportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Bring an existing loyalty program's balances into the ledger",
	}
	var o importOpts
	balances := &cobra.Command{
		Use:   "balances",
		Short: "Import customers' balances from a CSV file, as this home's seller (after approve-import)",
		Long: `Reads F.csv, one row per customer: customer_id,points,expires_at[,external_ref]
(an optional header line starting with customer_id; expires_at as RFC 3339,
YYYY-MM-DD or Unix seconds). Every row is checked first, as the chain will:
ids per SPEC §3, points > 0, expiry after the chain's time and within the
governed lot validity, no customer twice, the total within what the
approval has left. With --dry-run it prints the bad rows with their line
numbers and books nothing (exit status 1 if any).

Otherwise the rows go in batches (at most the chain's max_import_rows_per_tx),
each signed by the operator key with an idempotency key made of the file's
SHA-256 and the batch's row range. Each row becomes a lot issued by this
seller, marked imported; the seller pays 100 paise per point into the escrow.
An import that stopped (killed, timed out, the node away) is resumed by
running the same command: the chain says which rows of the file it booked,
those are skipped, and a batch that was in flight is answered as a replay:
every row books exactly once.`,
		Example: `  bytepointsd import balances --home ./net/seller-1 --file members.csv --dry-run
  bytepointsd import balances --home ./net/seller-1 --file members.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runImport(cmd, g, o) },
	}
	balances.Flags().StringVar(&o.file, "file", "", "the CSV file")
	balances.Flags().BoolVar(&o.dryRun, "dry-run", false, "check every row and report; book nothing")
	balances.Flags().Uint64Var(&o.batch, "batch", 0, "rows per transaction (default and at most: the chain's max_import_rows_per_tx)")
	balances.Flags().IntVar(&o.inFlight, "in-flight", 8, "batches submitted at a time")
	balances.Flags().DurationVar(&o.timeout, "timeout", 60*time.Second, "how long to wait for one batch's commit")
	balances.Flags().BoolVar(&o.noProgress, "no-progress", false, "no progress bar on stderr")
	cmd.AddCommand(balances)
	return cmd
}

type importOpts struct {
	file       string
	dryRun     bool
	batch      uint64
	inFlight   int
	timeout    time.Duration
	noProgress bool
}

func runImport(cmd *cobra.Command, g *globals, o importOpts) error {
	if o.file == "" {
		return usagef("--file is required")
	}
	if o.inFlight < 1 {
		return usagef("--in-flight must be at least 1")
	}
	seller := homeSeller(g)
	if seller == "" {
		return fmt.Errorf("no seller id in %s's config/app.toml: import from a seller's home", g.home)
	}
	fh, err := os.Open(o.file)
	if err != nil {
		return err
	}
	file, err := imports.ParseFile(fh)
	fh.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", o.file, err)
	}
	var key []byte
	if !o.dryRun {
		k, err := loadKey(g, node.OperatorKey)
		if err != nil {
			return err
		}
		key = k
	}
	ctx := cmd.Context()
	cl, err := dialSigner(ctx, g, key)
	if err != nil {
		return err
	}
	cl.Timeout = o.timeout
	st, err := cl.RPC.Status(ctx)
	if err != nil {
		return err
	}
	now := st.SyncInfo.LatestBlockTime.Unix()
	pq, err := cl.Query(ctx, "/params", false)
	if err != nil {
		return err
	}
	params, err := client.Decode[types.Params](pq)
	if err != nil {
		return err
	}
	appr, rec, err := importState(ctx, cl, seller, file.Digest)
	if err != nil {
		return err
	}
	n := uint64(len(file.Lines))
	// What the approval has left, plus what this file already booked: the
	// file's total is checked against both (a rerun counts its own rows once).
	remaining := approval.Remaining(appr) + rec.Points
	probs, total := imports.Validate(file, params, now, remaining)
	if appr.SellerId == "" {
		probs = append([]imports.Problem{{Kind: "approval", Detail: fmt.Sprintf(
			"seller %s has no approved import: members vote one with bytepointsd tx propose approve-import --seller %s --max-points N", seller, seller)}}, probs...)
	} else if appr.UntilHeight != 0 && st.SyncInfo.LatestBlockHeight >= appr.UntilHeight {
		probs = append([]imports.Problem{{Kind: "approval", Detail: fmt.Sprintf("the approval ended at height %d", appr.UntilHeight)}}, probs...)
	}
	w := cmd.OutOrStdout()
	report := map[string]any{
		"file": o.file, "digest": hex.EncodeToString(file.Digest), "rows": n, "points": total, "seller": seller,
		"approval_remaining_points": approval.Remaining(appr), "booked_rows_before": rec.BookedRows, "dry_run": o.dryRun,
	}
	var bad []any
	for _, p := range probs {
		bad = append(bad, map[string]any{"line": p.Line, "kind": p.Kind, "detail": p.Detail})
	}
	report["problems"] = bad
	text := g.output != "json"
	if text {
		fmt.Fprintf(w, "file %s: %d rows, %d points, sha256 %x\n", o.file, n, total, file.Digest)
		fmt.Fprintf(w, "seller %s: approval has %d points left; %d of this file's rows already booked\n", seller, approval.Remaining(appr), rec.BookedRows)
		for _, p := range probs {
			fmt.Fprintln(w, p.String())
		}
	}
	if len(probs) > 0 {
		report["status"] = "refused"
		if !text {
			if err := printJSON(w, report); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(w, "%d bad rows or problems; nothing booked\n", len(probs))
		}
		return &exitError{code: exitFailed}
	}
	if o.dryRun {
		report["status"] = "ok"
		if !text {
			return printJSON(w, report)
		}
		fmt.Fprintf(w, "dry run: every row is good; nothing booked\n")
		return nil
	}

	size := uint64(params.MaxImportRowsPerTx)
	if o.batch != 0 && o.batch < size {
		size = o.batch
	}
	if size == 0 {
		return fmt.Errorf("imports are off on this chain (max_import_rows_per_tx is 0)")
	}
	todo := imports.Unbooked(file.Digest, imports.Batches(file, size), rec.Booked)
	if text && rec.BookedRows > 0 {
		fmt.Fprintf(w, "resuming: %d of %d rows were booked before; %d batches to send\n", rec.BookedRows, n, len(todo))
	}
	var bar *progressbar.ProgressBar
	if !o.noProgress {
		bar = progressbar.NewOptions64(int64(n),
			progressbar.OptionSetWriter(cmd.ErrOrStderr()),
			progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }),
		)
		_ = bar.Set64(int64(rec.BookedRows))
	}
	start := time.Now()
	sent, fail := sendBatches(ctx, cl, seller, file, todo, o.inFlight, bar)
	took := time.Since(start)
	if bar != nil {
		_ = bar.Exit()
	}
	// How far it got is what the chain says, not what this run counted.
	appr, rec, err = importState(ctx, cl, seller, file.Digest)
	if err != nil {
		return err
	}
	report["booked_rows"] = rec.BookedRows
	report["batches_sent"] = sent.Batches
	report["batches_replayed"] = sent.Replayed
	report["rows_sent"] = sent.rows
	report["approval_remaining_points"] = approval.Remaining(appr)
	report["seconds"] = took.Seconds()
	var rate float64
	if sent.rows > 0 && took > 0 {
		rate = float64(sent.rows) / took.Seconds()
	}
	report["rows_per_second"] = rate
	if fail != nil {
		report["status"] = "incomplete"
		report["error"] = fail.Error()
	} else {
		report["status"] = "complete"
	}
	if !text {
		if err := printJSON(w, report); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "booked %d of %d rows of %x (%d batches sent this run, %d replayed, %d rows/s); approval has %d points left\n",
			rec.BookedRows, n, file.Digest[:8], sent.Batches, sent.Replayed, int(rate+0.5), approval.Remaining(appr))
		if fail != nil {
			fmt.Fprintf(w, "stopped: %v\nrun the same command again to continue: booked rows are skipped, none books twice\n", fail)
		}
	}
	if fail != nil || rec.BookedRows != n {
		return &exitError{code: exitFailed}
	}
	return nil
}

// importState reads the seller's approval and the file's record (both
// empty when absent).
func importState(ctx context.Context, cl *client.Client, seller string, digest []byte) (*types.ImportApproval, *types.ImportFile, error) {
	q, err := cl.Query(ctx, "/imports/"+seller, false)
	if client.IsNotFound(err) {
		return &types.ImportApproval{}, &types.ImportFile{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	r, err := client.Decode[types.ImportResponse](q)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range r.Files {
		if string(f.Digest) == string(digest) {
			return r.Approval, f, nil
		}
	}
	return r.Approval, &types.ImportFile{}, nil
}

type sentCount struct {
	Batches, Replayed int
	rows              uint64
}

// sendBatches submits the batches, inFlight at a time, until all are
// committed or one fails (then the rest are not sent).
func sendBatches(ctx context.Context, cl *client.Client, seller string, f *imports.FileRows, todo []imports.Batch, inFlight int, bar *progressbar.ProgressBar) (sentCount, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		out  sentCount
		fail error
		wg   sync.WaitGroup
	)
	next := make(chan imports.Batch)
	n := uint64(len(f.Lines))
	for i := 0; i < inFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				m := &types.MsgImportBalances{SellerId: seller, FileDigest: f.Digest, FirstRow: b.First, FileRows: n}
				for _, l := range f.Lines[b.First:b.End] {
					m.Rows = append(m.Rows, l.Row)
				}
				res, err := cl.Submit(ctx, m, client.Options{IdempotencyKey: b.Key})
				if err == nil && !res.OK() {
					err = fmt.Errorf("rows %d to %d refused: code %d (%s): %s", b.First+1, b.End, res.Code, res.Code.Name(), res.Log)
				}
				var nc *client.ErrNotCommitted
				if errors.As(err, &nc) {
					err = fmt.Errorf("rows %d to %d: no commit seen within %s (tx %X)", b.First+1, b.End, nc.Timeout, nc.TxHash)
				}
				mu.Lock()
				if err != nil {
					if fail == nil && ctx.Err() == nil {
						fail = err
					}
					cancel()
				} else {
					out.Batches++
					out.rows += b.End - b.First
					if res.Replayed {
						out.Replayed++
					}
					if bar != nil {
						_ = bar.Add64(int64(b.End - b.First))
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, b := range todo {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if fail == nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		fail = ctx.Err()
	}
	return out, fail
}
