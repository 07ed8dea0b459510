package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/cosmos/gogoproto/jsonpb"
	"github.com/spf13/cobra"
)

// newQueryCmd is the query command group: each subcommand has its own
// constructor below; they share the connection, --prove and the trust
// flags through a queryRunner.
func newQueryCmd(g *globals) *cobra.Command {
	r := &queryRunner{g: g}
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Read ledger state from a node, optionally verified with Merkle proofs",
		Long: `Reads committed state through the node's abci_query. With --prove the answer
carries a Merkle proof for every state entry it was built from (absence
proofs for what is missing); the client checks each proof, through the app's
proof operator, against the app hash of the next block's header, which
CometBFT's light client verifies from a header you trust (--trust-height and
--trust-hash, from a member out of band; stored under HOME/light so later runs
may omit them), cross-checked by --witness nodes; and it rebuilds the answer
from the proven entries. A verified answer says so; a failed verification
exits with code 18 (verification_failed) naming what failed.`,
	}
	cmd.PersistentFlags().BoolVar(&r.prove, "prove", false, "verify the answer with Merkle proofs against a light-client-verified header")
	r.trust.register(cmd.PersistentFlags())
	cmd.AddCommand(newQueryBalanceCmd(r), newQueryHistoryCmd(r), newQuerySellerCmd(r), newQuerySellersCmd(r),
		newQueryTotalsCmd(r), newQueryStatementCmd(r), newQueryStatementsCmd(r), newQueryParamsCmd(r),
		newQueryProposalsCmd(r), newQueryCRMSCmd(r), newQueryHeaderCmd(g), newQueryTxCmd(r), newQueryUpgradeCmd(r.run),
		newQueryCampaignsCmd(r), newQueryImportsCmd(r))
	return cmd
}

// queryRunner is what the query subcommands share: the globals, --prove
// and the trust root flags (persistent flags of the group).
type queryRunner struct {
	g     *globals
	prove bool
	trust trustFlags
}

// run reads path (verified with --prove), lets render write the text form
// and return the JSON form, and prints the one --output asks for, with
// what a proven answer was checked against.
func (r *queryRunner) run(cmd *cobra.Command, path string, render func(w io.Writer, q *client.QueryResult) (any, error)) error {
	return r.runPath(cmd, func(*client.Client) (string, error) { return path, nil }, render)
}

// runPath is run for a path that needs the node to be known (an epoch
// given as a date).
func (r *queryRunner) runPath(cmd *cobra.Command, pathOf func(*client.Client) (string, error), render func(w io.Writer, q *client.QueryResult) (any, error)) error {
	g := r.g
	cl, err := dialSigner(cmd.Context(), g, nil)
	if err != nil {
		return err
	}
	if r.prove {
		if err := r.trust.apply(cmd.Context(), g, cl); err != nil {
			return err
		}
		defer cl.Close()
	}
	path, err := pathOf(cl)
	if err != nil {
		return err
	}
	q, err := cl.Query(cmd.Context(), path, r.prove)
	if err != nil {
		return err
	}
	var text bytes.Buffer
	v, err := render(&text, q)
	if err != nil {
		return err
	}
	if g.output == "json" {
		if m, ok := v.(map[string]any); ok && q.Verified != nil {
			m["proof"] = proofJSON(q)
		}
		return printJSON(cmd.OutOrStdout(), v)
	}
	if _, err := io.Copy(cmd.OutOrStdout(), &text); err != nil {
		return err
	}
	if q.Verified != nil {
		fmt.Fprintf(cmd.OutOrStdout(), "\nproof: VERIFIED %d entries of state at height %d against app hash %x of header %d (signed by %d of %d voting power), verified by the light client from trusted header %d %x; %s\n",
			len(q.Proofs), q.Height, q.Verified.AppHash, q.Verified.Height, q.Verified.Power, q.Verified.Total,
			q.Verified.TrustHeight, q.Verified.TrustHash, witnessText(q.Verified))
	}
	return nil
}

// newQueryBalanceCmd is `query balance`.
func newQueryBalanceCmd(r *queryRunner) *cobra.Command {
	var customer string
	balance := &cobra.Command{
		Use: "balance", Short: "A customer's points and lots (earliest expiry first)", Args: cobra.NoArgs,
		Example: "  bytepointsd query balance --home ./net/seller-0 --customer C --prove --trust-height 1 --trust-hash <hash>",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := types.ValidateCustomerID(customer); err != nil {
				return err
			}
			return r.run(cmd, "/balance/"+customer, func(w io.Writer, q *client.QueryResult) (any, error) {
				b, err := client.Decode[types.BalanceResponse](q)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(w, "customer %s: %d points\n", b.CustomerId, b.Points)
				if b.PendingPoints > 0 {
					fmt.Fprintf(w, "  %d available, %d pending (inside a seller's return window)\n", b.AvailablePoints, b.PendingPoints)
				}
				if tr := b.Tier; tr != nil && (tr.Tier != "" || tr.NextTier != "") {
					fmt.Fprintf(w, "  tier: %s, spend counted ₹%s", orNone(tr.Tier), types.FormatPaise(tr.SpendPaise))
					if tr.NextTier != "" {
						fmt.Fprintf(w, "; %s needs ₹%s more", tr.NextTier, types.FormatPaise(tr.NextTierNeedsPaise))
					}
					fmt.Fprintln(w)
				}
				if len(b.Lots) > 0 {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ISSUER\tPOINTS\tISSUED\tEXPIRES")
					for _, l := range b.Lots {
						fmt.Fprintf(tw, "%s\t%d\t%s\t%s", l.Issuer, l.Points, types.FormatDate(l.IssuedAt), types.FormatDate(l.ExpiresAt))
						if l.PendingUntil != 0 {
							fmt.Fprintf(tw, "\tpending until %s", types.FormatUnix(l.PendingUntil))
						}
						fmt.Fprintln(tw)
					}
					tw.Flush()
				}
				return balanceFields(b, q.Height), nil
			})
		},
	}
	balance.Flags().StringVar(&customer, "customer", "", "customer id")
	must(balance.MarkFlagRequired("customer"))
	return balance
}

// newQueryHistoryCmd is `query history`.
func newQueryHistoryCmd(r *queryRunner) *cobra.Command {
	var hCustomer string
	var page, limit uint64
	history := &cobra.Command{
		Use: "history", Short: "A customer's point movements, newest first (paged)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := types.ValidateCustomerID(hCustomer); err != nil {
				return err
			}
			return r.run(cmd, fmt.Sprintf("/history/%s/%d/%d", hCustomer, page, limit), func(w io.Writer, q *client.QueryResult) (any, error) {
				h, err := client.Decode[types.HistoryResponse](q)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(w, "customer %s: %d entries in all, page %d\n", h.CustomerId, h.Total, h.Page)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "#\tWHEN\tKIND\tPOINTS\tSELLER\tBALANCE\tHEIGHT")
				entries := make([]map[string]any, 0, len(h.Entries))
				for _, e := range h.Entries {
					kind := types.HistoryKinds.Name(e.Kind)
					fmt.Fprintf(tw, "%d\t%s\t%s\t%+d\t%s\t%d\t%d\n", e.Seq, types.FormatUnix(e.Time), kind, e.PointsDelta, e.SellerId, e.BalanceAfter, e.Height)
					entries = append(entries, map[string]any{"seq": e.Seq, "kind": kind, "points": e.PointsDelta, "seller_id": e.SellerId,
						"balance_after": e.BalanceAfter, "height": e.Height, "time": types.FormatUnix(e.Time), "time_unix": e.Time, "tx_hash": hex.EncodeToString(e.TxId)})
				}
				tw.Flush()
				return map[string]any{"customer_id": h.CustomerId, "total": h.Total, "page": h.Page, "limit": h.Limit, "entries": entries}, nil
			})
		},
	}
	history.Flags().StringVar(&hCustomer, "customer", "", "customer id")
	history.Flags().Uint64Var(&page, "page", 0, "page number, from 0 (newest)")
	history.Flags().Uint64Var(&limit, "limit", 50, "entries per page")
	must(history.MarkFlagRequired("customer"))
	return history
}

// newQuerySellerCmd is `query seller`.
func newQuerySellerCmd(r *queryRunner) *cobra.Command {
	g := r.g
	var sellerID string
	seller := &cobra.Command{
		Use: "seller", Short: "A seller: settlement position, terminals, earn rate, open-epoch activity", Args: cobra.NoArgs,
		Example: "  bytepointsd query seller --home ./net/seller-0                 # this home's seller\n" +
			"  bytepointsd query seller --home ./net/seller-0 --seller seller-1",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sellerID == "" {
				if sellerID = homeSeller(g); sellerID == "" {
					return usagef("--seller is required: %s has no seller of its own", g.home)
				}
			}
			if err := types.ValidateSellerID(sellerID); err != nil {
				return err
			}
			return r.run(cmd, "/seller/"+sellerID, func(w io.Writer, q *client.QueryResult) (any, error) {
				s, err := client.Decode[types.SellerResponse](q)
				if err != nil {
					return nil, err
				}
				f := sellerFields(s)
				riskFrom := "its own"
				if s.RiskMaxIsDefault {
					riskFrom = "the governed default"
				}
				fmt.Fprintf(w, "seller %s (%s)\n  position: ₹%s (%s)\n  earn rate: %v bps   risk_max: %v (%s)   validator power: %d\n",
					s.Seller.SellerId, f["status"], f["position"], types.DirectionName(s.Seller.PositionPaise), s.EffectiveEarnRateBps, f["effective_risk_max"], riskFrom, s.Seller.ValidatorPower)
				for _, t := range s.Terminals {
					fmt.Fprintf(w, "  terminal %s: %s (since height %d)\n", t.TerminalId, types.TerminalStatuses.Name(t.Status), t.RegisteredHeight)
				}
				return f, nil
			})
		},
	}
	seller.Flags().StringVar(&sellerID, "seller", "", "seller id (default: this home's seller)")
	return seller
}

// newQuerySellersCmd is `query sellers`.
func newQuerySellersCmd(r *queryRunner) *cobra.Command {
	sellers := &cobra.Command{
		Use: "sellers", Short: "Every member seller", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, "/sellers", func(w io.Writer, q *client.QueryResult) (any, error) {
				r, err := client.Decode[types.SellersResponse](q)
				if err != nil {
					return nil, err
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SELLER\tSTATUS\tPOSITION (₹)\tPOWER\tNODE")
				out := []map[string]any{}
				for _, s := range r.Sellers {
					f := sellerFields(&types.SellerResponse{Seller: s})
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s.SellerId, f["status"], f["position"], s.ValidatorPower, s.NodeId)
					out = append(out, f)
				}
				tw.Flush()
				return map[string]any{"sellers": out}, nil
			})
		},
	}
	return sellers
}

// newQueryTotalsCmd is `query totals`.
func newQueryTotalsCmd(r *queryRunner) *cobra.Command {
	totals := &cobra.Command{
		Use: "totals", Short: "Outstanding points, escrow balance and chain-wide counters", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, "/totals", func(w io.Writer, q *client.QueryResult) (any, error) {
				t, err := client.Decode[types.Totals](q)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(w, "outstanding points: %d\nescrow: ₹%s\nissued %d, redeemed %d, clawed back %d, expired %d\ncustomers %d, lots %d, purchases %d, redemptions %d, statements %d\n",
					t.OutstandingPoints, types.FormatPaise(t.EscrowPaise), t.IssuedPoints, t.RedeemedPoints, t.ClawedBackPoints, t.ExpiredPoints,
					t.Customers, t.Lots, t.Purchases, t.Redemptions, t.Statements)
				return totalsFields(t), nil
			})
		},
	}
	return totals
}

// newQueryStatementCmd is `query statement`.
func newQueryStatementCmd(r *queryRunner) *cobra.Command {
	var epoch string
	statement := &cobra.Command{
		Use: "statement", Short: "The settlement statement of a closed epoch", Args: cobra.NoArgs,
		Example: "  bytepointsd query statement --home H --epoch 20415",
		RunE: func(cmd *cobra.Command, _ []string) error {
			arg, err := parseEpochArg("--epoch", epoch)
			if err != nil {
				return err
			}
			path := func(cl *client.Client) (string, error) {
				e, err := arg.resolve(cmd.Context(), cl)
				return fmt.Sprintf("/statement/%d", e), err
			}
			return r.runPath(cmd, path, func(w io.Writer, q *client.QueryResult) (any, error) {
				s, err := client.Decode[types.Statement](q)
				if err != nil {
					return nil, err
				}
				PrintStatement(w, s)
				return statementFields(s), nil
			})
		},
	}
	statement.Flags().StringVar(&epoch, "epoch", "", "epoch number, or a UTC date YYYY-MM-DD on a chain of daily epochs")
	must(statement.MarkFlagRequired("epoch"))
	return statement
}

// newQueryStatementsCmd is `query statements`.
func newQueryStatementsCmd(r *queryRunner) *cobra.Command {
	statements := &cobra.Command{
		Use: "statements", Short: "Recent settlement statements and the open epoch", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, "/statements", func(w io.Writer, q *client.QueryResult) (any, error) {
				r, err := client.Decode[types.StatementsResponse](q)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(w, "open epoch %d (since height %d, %s)\n", r.Open.Epoch, r.Open.StartHeight, types.FormatUnix(r.Open.StartTime))
				list := []map[string]any{}
				for _, s := range r.Statements {
					fmt.Fprintf(w, "epoch %d closed at height %d: %d lines, %d outstanding\n", s.Epoch, s.ClosedHeight, len(s.Lines), s.OutstandingLines)
					list = append(list, statementFields(s))
				}
				return map[string]any{"open_epoch": r.Open.Epoch, "statements": list}, nil
			})
		},
	}
	return statements
}

// newQueryParamsCmd is `query params`.
func newQueryParamsCmd(r *queryRunner) *cobra.Command {
	params := &cobra.Command{
		Use: "params", Short: "The chain parameters (governed)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, "/params", func(w io.Writer, q *client.QueryResult) (any, error) {
				p, err := client.Decode[types.Params](q)
				if err != nil {
					return nil, err
				}
				m, err := paramsFields(p)
				if err != nil {
					return nil, err
				}
				bz, err := json.MarshalIndent(m, "", "  ")
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(w, "%s\n", bz)
				return m, nil
			})
		},
	}
	return params
}

// newQueryProposalsCmd is `query proposals`.
func newQueryProposalsCmd(r *queryRunner) *cobra.Command {
	proposals := &cobra.Command{
		Use: "proposals", Short: "Governance proposals, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, "/proposals", func(w io.Writer, q *client.QueryResult) (any, error) {
				r, err := client.Decode[types.ProposalsResponse](q)
				if err != nil {
					return nil, err
				}
				out := []map[string]any{}
				for _, p := range r.Proposals {
					var m types.MsgPropose
					_ = m.Unmarshal(p.Action)
					f := proposalFields(p, &m)
					fmt.Fprintf(w, "#%d %s by %s: %v (yes %v, no %v) %s\n", p.Id, f["action"], p.Proposer, f["status"], p.Yes, p.No, p.Result)
					out = append(out, f)
				}
				return map[string]any{"proposals": out}, nil
			})
		},
	}
	return proposals
}

// newQueryCRMSCmd is `query crms`.
func newQueryCRMSCmd(r *queryRunner) *cobra.Command {
	g := r.g
	var cCustomer, cAmount, cSeller string
	var cContext int64
	crmsCmd := &cobra.Command{
		Use:   "crms",
		Short: "The CRMS decision for a payment: may the PIN be skipped?",
		Long: `Asks the node, from committed state and without a consensus round, whether a
payment of --amount by --customer at --seller (default: this home's seller)
may skip cardholder verification: the card's reputation R, the payment's
risk = amount x p x a/(b R), the seller's Risk_max (times the context
multiplier), the largest amount that would skip now, and the reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paise, err := amountFlag("amount", cAmount)
			if err != nil {
				return err
			}
			if cSeller == "" {
				cSeller = homeSeller(g)
			}
			// Ids are checked before they become parts of a query path.
			if err := types.ValidateCustomerID(cCustomer); err != nil {
				return err
			}
			path := fmt.Sprintf("/crms/%s/%d", cCustomer, paise)
			if cSeller != "" {
				if err := types.ValidateSellerID(cSeller); err != nil {
					return err
				}
				path += fmt.Sprintf("/%s/%d", cSeller, cContext)
			}
			return r.run(cmd, path, func(w io.Writer, q *client.QueryResult) (any, error) {
				d, err := client.Decode[types.DecisionResponse](q)
				if err != nil {
					return nil, err
				}
				f := decisionFields(d)
				verdict := "skip verification"
				if d.CvmRequired {
					verdict = "CVM REQUIRED"
				}
				fmt.Fprintf(w, "%s (%s)\n  reputation R: %v\n  risk:         %v\n  risk max:     %v\n  skip limit:   ₹%v\n",
					verdict, d.Reason, f["reputation"], f["risk"], f["risk_max"], f["skip_limit"])
				return f, nil
			})
		},
	}
	crmsCmd.Flags().StringVar(&cCustomer, "customer", "", "customer id (card token)")
	crmsCmd.Flags().StringVar(&cAmount, "amount", "", "payment amount in rupees")
	crmsCmd.Flags().StringVar(&cSeller, "seller", "", "seller id (default: this home's seller)")
	crmsCmd.Flags().Int64Var(&cContext, "context", 0, "context multiplier in 1e-9 units (0 = 1.0)")
	must(crmsCmd.MarkFlagRequired("customer"), crmsCmd.MarkFlagRequired("amount"))
	return crmsCmd
}

// newQueryHeaderCmd is `query header` (read as the node has it, never proven).
func newQueryHeaderCmd(g *globals) *cobra.Command {
	var hHeight int64
	header := &cobra.Command{
		Use:   "header",
		Short: "Show a header's height and hash, to hand to an auditor as a trust root",
		Long: `Prints the node's header at --height (default: the latest): its height,
hash, time, app hash and validators hash. Read from the node as it is, not
verified: it is what a member hands out of band to someone who will verify
everything else from it (--trust-height/--trust-hash).`,
		Example: "  bytepointsd query header --home ./net/seller-0 --height 1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hHeight < 0 {
				return usagef("--height must be positive")
			}
			cl, err := dialSigner(cmd.Context(), g, nil)
			if err != nil {
				return err
			}
			var hp *int64
			if hHeight > 0 {
				hp = &hHeight
			}
			res, err := cl.RPC.Header(cmd.Context(), hp)
			if err != nil {
				return fmt.Errorf("header: %w", err)
			}
			h := res.Header
			f := map[string]any{"chain_id": h.ChainID, "height": h.Height, "hash": hex.EncodeToString(h.Hash()),
				"time": h.Time.UTC().Format(time.RFC3339), "app_hash": hex.EncodeToString(h.AppHash),
				"validators_hash": hex.EncodeToString(h.ValidatorsHash)}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), f)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "chain %s height %d\nhash      %s\ntime      %s\napp hash  %s\n\ntrust it with: --trust-height %d --trust-hash %s\n",
				h.ChainID, h.Height, f["hash"], f["time"], f["app_hash"], h.Height, f["hash"])
			return nil
		},
	}
	header.Flags().Int64Var(&hHeight, "height", 0, "header height (default: the latest)")
	return header
}

// newQueryTxCmd is `query tx`.
func newQueryTxCmd(r *queryRunner) *cobra.Command {
	g := r.g
	txCmd := &cobra.Command{
		Use:   "tx HASH",
		Short: "A submitted transaction's committed result, or \"not found yet\"",
		Long: `Looks HASH (a tx_hash printed by a tx command, its timeout included) up
in the node's committed blocks. Committed, it prints the result as the tx
command would have: code, height and what was booked (a retry that replayed
an earlier booking names the original, "replayed": true). Not in a
committed block yet, it says so and exits 75: the transaction may still
commit while its validity lasts (--valid-for blocks after it was signed);
one refused before a block, or expired, is never found. Either way the
booking's own tx command with the same --idempotency-key is a safe retry.

Exit status: 0 committed, 1 committed but refused (its code and log are
printed) or an error, 75 not found yet.`,
		Example: "  bytepointsd query tx 3f9a...c2 --home ./net/seller-0",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if r.prove {
				return usagef("query tx does not take --prove: a transaction's result is read from the node's block index")
			}
			hash, err := txIDFlag("HASH", args[0])
			if err != nil {
				return usagef("HASH must be a 64-hex transaction hash (printed as tx_hash)")
			}
			cl, err := dialSigner(cmd.Context(), g, nil)
			if err != nil {
				return err
			}
			res, err := cl.LookupTx(cmd.Context(), hash)
			if err != nil {
				return err
			}
			if res == nil {
				msg := "not found yet: no committed block of this node holds it (it may still commit; a tx refused before a block or expired never does)"
				if g.output == "json" {
					if err := printJSON(cmd.OutOrStdout(), map[string]any{"tx_hash": hex.EncodeToString(hash), "status": txNotFoundYet, "message": msg}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "tx %x %s\n", hash, msg)
				}
				return &exitError{code: exitNotCommitted}
			}
			return printTxResult(cmd, g, res)
		},
	}
	return txCmd
}

// txNotFoundYet is query tx's status for a hash no committed block holds.
const txNotFoundYet = "not-found-yet"

// epochArg is an epoch flag's value: an epoch number, or a UTC date
// YYYY-MM-DD naming a daily epoch.
type epochArg struct {
	flag   string
	n      uint64
	date   time.Time
	isDate bool
}

// parseEpochArg reads flag's value s (syntax only: a date is resolved on
// the chain's epoch length by resolve).
func parseEpochArg(flag, s string) (epochArg, error) {
	if e, err := strconv.ParseUint(s, 10, 64); err == nil {
		return epochArg{flag: flag, n: e}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Unix() < 0 {
		return epochArg{}, usagef("%s %q: give an epoch number or a date YYYY-MM-DD", flag, s)
	}
	return epochArg{flag: flag, date: t, isDate: true}, nil
}

// oneDay is the epoch length under which a date names an epoch.
const oneDay = int64(24 * time.Hour / time.Second)

// resolve is the epoch number. A date is the epoch holding its first
// second on the chain's epoch length (epoch_seconds, read from the
// node's params, settle.EpochOf as the chain computes it), and only names
// an epoch on a chain of daily epochs, as in the gateway and the audit
// report.
func (e epochArg) resolve(ctx context.Context, cl *client.Client) (uint64, error) {
	if !e.isDate {
		return e.n, nil
	}
	q, err := cl.Query(ctx, "/params", false)
	if err != nil {
		return 0, err
	}
	p, err := client.Decode[types.Params](q)
	if err != nil {
		return 0, err
	}
	if p.EpochSeconds != oneDay {
		return 0, usagef("%s %s: a date names a daily epoch, and this chain's epochs last %s: give the epoch number (see `query statements`)",
			e.flag, e.date.Format("2006-01-02"), types.SecondsText(p.EpochSeconds))
	}
	return settle.EpochOf(e.date.Unix(), p.EpochSeconds), nil
}

// PrintStatement renders a statement as a table.
func PrintStatement(w io.Writer, s *types.Statement) {
	fmt.Fprintf(w, "Settlement statement, epoch %d (%s to %s, heights %d-%d)\n", s.Epoch,
		types.FormatUnix(s.StartTime), types.FormatUnix(s.EndTime), s.StartHeight, s.ClosedHeight)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seller\tissued\timported\tredeemed same\tredeemed cross\tclawed back\tshortfall\texpired\tnet (₹)\tdirection\tstatus\t")
	for _, l := range s.Lines {
		a := l.Activity
		if a == nil {
			a = &types.SellerEpoch{}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", l.SellerId, a.IssuedPoints, a.ImportedPoints, a.RedeemedSamePoints, a.RedeemedCrossPoints,
			a.ClawedBackPoints, a.RefundShortfallPoints, a.ExpiredPoints, types.FormatSignedPaise(l.NetPaise), types.DirectionName(l.NetPaise),
			types.LineStatuses.Name(l.Status))
	}
	tw.Flush()
	printProgramColumns(w, s)
	lines := "lines"
	if s.OutstandingLines == 1 {
		lines = "line"
	}
	fmt.Fprintf(w, "escrow at close: ₹%s for %d outstanding points; %d %s awaiting confirmation\n",
		types.FormatPaise(s.EscrowPaise), s.OutstandingPoints, s.OutstandingLines, lines)
}

// proofJSON says what a proven answer was checked against.
func proofJSON(q *client.QueryResult) map[string]any {
	v := q.Verified
	return map[string]any{"verified": true, "height": q.Height, "header_height": v.Height,
		"header_hash": hex.EncodeToString(v.Header), "app_hash": hex.EncodeToString(v.AppHash),
		"signed_power": v.Power, "total_power": v.Total, "entries": len(q.Proofs),
		"trust_height": v.TrustHeight, "trust_hash": hex.EncodeToString(v.TrustHash),
		"witnesses": v.Witnesses, "self_witness": v.SelfWitness}
}

func witnessText(v *client.Verification) string {
	if v.SelfWitness {
		return "no witness given (the primary was not cross-checked)"
	}
	return fmt.Sprintf("cross-checked by %d witnesses", len(v.Witnesses))
}

// paramsFields is the JSON of the chain parameters: their protobuf JSON
// (the names --set takes) with every enum value by its vocabulary name
// (types/names.go), never a protobuf identifier; 0 in a rating entry,
// the wildcard, is "any".
func paramsFields(p *types.Params) (map[string]any, error) {
	var buf bytes.Buffer
	if err := (&jsonpb.Marshaler{OrigName: true, EmitDefaults: true}).Marshal(&buf, p); err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	renameEnums(m)
	return m, nil
}

// enumNamer maps a protobuf enum identifier of a field to its name.
var enumNamers = map[string]func(string) (string, bool){
	"read_type": func(id string) (string, bool) {
		v, ok := types.ReadType_value[id]
		return enumName(v, ok, func(v int32) string { return types.ReadTypes.Name(types.ReadType(v)) })
	},
	"cvm": func(id string) (string, bool) {
		v, ok := types.CVM_value[id]
		return enumName(v, ok, func(v int32) string { return types.CVMs.Name(types.CVM(v)) })
	},
	"auth": func(id string) (string, bool) {
		v, ok := types.AuthResult_value[id]
		return enumName(v, ok, func(v int32) string { return types.AuthResults.Name(types.AuthResult(v)) })
	},
}

func enumName(v int32, ok bool, name func(int32) string) (string, bool) {
	if !ok {
		return "", false
	}
	if v == 0 {
		return "any", true
	}
	return name(v), true
}

func renameEnums(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if id, ok := e.(string); ok {
				if f, ok := enumNamers[k]; ok {
					if n, ok := f(id); ok {
						x[k] = n
					}
				}
				continue
			}
			renameEnums(e)
		}
	case []any:
		for _, e := range x {
			renameEnums(e)
		}
	}
}
