package main

import (
	"fmt"
	"strings"

	"github.com/bytepoints/bytepoints/node/audit"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

func newAuditVerifyCmd(g *globals) *cobra.Command {
	var src auditSource
	var quiet bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify headers from one trusted header, then totals, sellers and statements, and re-check conservation",
		Long: `Starts CometBFT's light client from the header you trust (--trust-height and
--trust-hash, from any member out of band; or the root an earlier run stored
in --light-dir, kept per chain id and genesis), walks headers forward to the
latest with the first --rpc node as primary and the others as witnesses
(each a distinct node: the primary itself, or a node named twice, is refused
by node id), then reads with Merkle proofs, each checked against a
light-client-verified app hash and refused if its state is more than
--max-lag blocks behind the latest verified header:

  the totals and every seller (record, position, open epoch), at one state height
  every settlement statement, complete by the proven statement count

and re-checks from those verified answers only:

  escrow = 100 x outstanding points; outstanding = issued - redeemed -
  clawed back - expired; the sellers' positions + the escrow = 0; in every
  statement the sellers' nets + the escrow's change = 0 and the outstanding
  lines are counted right; each seller's position = its statements' nets +
  its open epoch's net; the open epoch balances the same way.

It prints what it checked (counts, heights, app hash). It exits 0 when all
of it holds; otherwise non-zero with code 18 (verification_failed), naming
exactly what failed: the header, the answer whose proof did not verify, or
the rule that does not hold. Customer balances are not enumerated; prove one
with "query balance --prove".`,
		Example: `  bytepointsd audit verify --rpc http://10.0.0.1:26657,http://10.0.0.2:26657 \
      --trust-height 1 --trust-hash 3f6c...e1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			errw := cmd.ErrOrStderr()
			progress := func(s string) {
				if !quiet {
					fmt.Fprintln(errw, "audit:", s)
				}
			}
			cl, url, err := src.dial(ctx, g)
			if err != nil {
				return err
			}
			defer cl.Close()
			switch n := len(src.trust.witnesses); n {
			case 0:
				progress(fmt.Sprintf("light client: primary %s, no witness (nothing is cross-checked)", url))
			case 1:
				progress(fmt.Sprintf("light client: primary %s, 1 witness (a distinct node)", url))
			default:
				progress(fmt.Sprintf("light client: primary %s, %d witnesses (distinct nodes)", url, n))
			}
			v, err := audit.Verify(ctx, cl, progress)
			if err != nil {
				return err
			}
			failed := v.Failed()
			w := cmd.OutOrStdout()
			if g.output == "json" {
				m := map[string]any{"ok": len(failed) == 0, "verified": v}
				if len(failed) > 0 {
					m["error"] = "audit failed: " + names(failed)
					m["code"], m["code_name"] = uint32(types.CodeVerificationFailed), types.CodeVerificationFailed.Name()
				}
				if err := printJSON(w, m); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "chain %s: headers verified by CometBFT's light client from trusted header %d (%s) to %d (%s)\n",
					v.ChainID, v.TrustHeight, v.TrustHash, v.LatestHeight, v.LatestHash)
				if len(v.Witnesses) == 0 {
					fmt.Fprintln(w, "witnesses: none given (the primary was not cross-checked)")
				} else {
					fmt.Fprintf(w, "witnesses: %s\n", strings.Join(v.Witnesses, ", "))
				}
				fmt.Fprintf(w, "state at height %d, app hash %s: %d sellers, %d statements, open epoch %d, %d proven state entries\n\n",
					v.StateHeight, v.AppHash, v.Sellers, v.Statements, v.OpenEpoch, v.ProvenEntries)
				for _, c := range v.Checks {
					mark := "ok  "
					if !c.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(w, "%s %-30s %s\n", mark, c.Name, c.Detail)
				}
				if len(failed) == 0 {
					fmt.Fprintln(w, "\naudit: everything above verified")
				}
			}
			if len(failed) > 0 {
				if g.output == "json" {
					return &exitError{code: 1}
				}
				return &client.VerificationError{What: "the audit", Err: fmt.Errorf("%d checks failed: %s", len(failed), names(failed))}
			}
			return nil
		},
	}
	src.addFlags(cmd)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}

func names(cs []audit.Check) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name+" ("+c.Detail+")")
	}
	return strings.Join(n, "; ")
}
