package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bytepoints/bytepoints/node/audit"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

func newAuditReportCmd(g *globals) *cobra.Command {
	var src auditSource
	var from, to, out string
	var png bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Export proven settlement statements, liabilities and confirmations as CSV, JSON and a chart",
		Long: `Reads the settlement statements of epochs --from-epoch to --to-epoch (closed
epochs: numbers, or UTC dates YYYY-MM-DD on a chain of daily epochs, as in
"query statement"), every seller and the totals, each with Merkle proofs
checked against a header CometBFT's light client verified from --trust-height
and --trust-hash (or the root stored in --light-dir), and writes to --out:

  statements.csv/.json     one row per epoch per seller: net (Rs and paise),
                           payable/receivable, points, confirmation
  liabilities.csv/.json    per seller: cumulative position, open epoch's net,
                           lines of the range awaiting confirmation
  confirmations.csv/.json  the confirmed lines with their bank references
  summary.svg (.png)       net per seller per epoch
  manifest.json            range, chain id, headers, the conservation check
                           per epoch, and each file's SHA-256

Every row carries the header height (proven_height) and app hash its proofs
were checked against. See docs/audit.md.`,
		Example: "  bytepointsd audit report --rpc http://127.0.0.1:26657 --from-epoch 20410 --to-epoch 20416 --out ./audit\n" +
			"  bytepointsd audit report --home ./net/seller-0 --from-epoch 2025-11-01 --to-epoch 2025-11-30 --out ./nov --png",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromArg, err := parseEpochArg("--from-epoch", from)
			if err != nil {
				return err
			}
			toArg, err := parseEpochArg("--to-epoch", to)
			if err != nil {
				return err
			}
			if !fromArg.isDate && !toArg.isDate && fromArg.n > toArg.n {
				return usagef("--from-epoch %d is after --to-epoch %d", fromArg.n, toArg.n)
			}
			ctx := cmd.Context()
			cl, url, err := src.dial(ctx, g)
			if err != nil {
				return err
			}
			defer cl.Close()
			a, err := fromArg.resolve(ctx, cl)
			if err != nil {
				return err
			}
			b, err := toArg.resolve(ctx, cl)
			if err != nil {
				return err
			}
			if a > b {
				return usagef("--from-epoch %d is after --to-epoch %d", a, b)
			}
			if err := audit.PrepareDir(out); err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			r, err := audit.Collect(ctx, cl, audit.Options{
				ChainID: cl.ChainID, RPC: url, From: a, To: b, Dates: fromArg.isDate || toArg.isDate,
				Progress: func(done, total int, e uint64, p *audit.Proof) {
					if total < 10 {
						return
					}
					at := "no statement"
					if p != nil {
						at = fmt.Sprintf("proven at height %d", p.ProvenHeight)
					}
					fmt.Fprintf(stderr, "audit report: epoch %d (%d/%d): %s\n", e, done, total, at)
				},
			})
			if err != nil {
				return err
			}
			x := audit.Build(r)
			files, err := x.Write(out, png)
			if err != nil {
				return err
			}
			m := x.Manifest
			var unbalanced []string
			for _, e := range m.Epochs {
				if e.Balanced != nil && !*e.Balanced {
					unbalanced = append(unbalanced, strconv.FormatUint(e.Epoch, 10))
				}
			}
			if len(unbalanced) > 0 {
				return types.Errorf(types.CodeInternal, "epochs %s do not balance (sum of nets + escrow change is not zero); the report is in %s",
					strings.Join(unbalanced, ", "), out)
			}
			return printReport(cmd, g, out, x, files)
		},
	}
	src.addFlags(cmd)
	cmd.Flags().StringVar(&from, "from-epoch", "", "first epoch: number, or UTC date YYYY-MM-DD (daily epochs)")
	cmd.Flags().StringVar(&to, "to-epoch", "", "last epoch (closed), inclusive: number or date")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the report to (created if needed)")
	cmd.Flags().BoolVar(&png, "png", false, "also write summary.png")
	must(cmd.MarkFlagRequired("from-epoch"), cmd.MarkFlagRequired("to-epoch"), cmd.MarkFlagRequired("out"))
	return cmd
}

func printReport(cmd *cobra.Command, g *globals, out string, x *audit.Export, files []audit.FileEntry) error {
	m := x.Manifest
	if g.output == "json" {
		paths := make([]string, 0, len(files)+1)
		for _, f := range files {
			paths = append(paths, filepath.Join(out, f.Name))
		}
		paths = append(paths, filepath.Join(out, audit.ManifestJSON))
		return printJSON(cmd.OutOrStdout(), map[string]any{
			"out": out, "chain_id": m.ChainID, "rpc": m.RPC, "from_epoch": m.FromEpoch, "to_epoch": m.ToEpoch,
			"statements": m.Statements, "missing_epochs": m.Missing,
			"statement_rows": len(x.Statements), "confirmations": len(x.Confirmations), "sellers": len(x.Liabilities),
			"balanced": m.Balanced, "latest": m.Latest, "files": paths,
		})
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "audit report: epochs %d to %d of chain %s, read from %s\n", m.FromEpoch, m.ToEpoch, m.ChainID, m.RPC)
	fmt.Fprintf(w, "  %s (%s), %s, %s", reportPlural(m.Statements, "statement"), reportPlural(len(x.Statements), "row"),
		reportPlural(len(x.Confirmations), "confirmed line"), reportPlural(len(x.Liabilities), "seller"))
	if len(m.Missing) > 0 {
		fmt.Fprintf(w, "; no statement for %d epochs of the range (no block in them)", len(m.Missing))
	}
	fmt.Fprintln(w)
	known := 0
	for _, e := range m.Epochs {
		if e.Balanced != nil {
			known++
		}
	}
	fmt.Fprintf(w, "  conservation: %d of %d epochs checked, each balanced (sum of nets + escrow change = 0)\n", known, len(m.Epochs))
	fmt.Fprintf(w, "  proven against %d headers, latest %d (app hash %s)\n", len(m.Headers), m.Latest.ProvenHeight, m.Latest.AppHash)
	for _, f := range files {
		fmt.Fprintf(w, "  wrote %s\n", filepath.Join(out, f.Name))
	}
	fmt.Fprintf(w, "  wrote %s\n", filepath.Join(out, audit.ManifestJSON))
	return nil
}

// reportPlural counts what: "1 row", "2 rows".
func reportPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
