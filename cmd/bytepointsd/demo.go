package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

func newDemoCmd(g *globals) *cobra.Command {
	var keep bool
	var epochSeconds int64
	var transport string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the worked example on a throwaway two-seller network in this process",
		Long: `Starts two sellers' nodes (CometBFT validators with Badger state, talking over
loopback) in this process on a temporary directory, and plays the worked
example of the product brief through real signed transactions:

  1. a customer spends ₹100 at seller A: 100 points; A pays ₹100 into the escrow
  2. redeems 60 points at A: same-seller, ₹60 discount reimbursed to A
  3. redeems 40 points at B: cross-seller, the escrow pays B ₹40
  4. spends ₹50 at B (50 points), then B refunds ₹20 of it: 20 points clawed back
  5. the day's settlement statement once the epoch closes

The demo's epoch is short (--epoch-seconds) so the statement appears in
seconds instead of at the next UTC midnight. The conservation invariants are
checked on both nodes at the end. Nothing outside the temporary directory is
touched, and it is removed afterwards unless --keep.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, g, keep, epochSeconds, transport)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary network directory (its path is printed)")
	cmd.Flags().Int64Var(&epochSeconds, "epoch-seconds", 15, "settlement epoch length for the demo chain")
	cmd.Flags().StringVar(&transport, "p2p", node.TransportLibP2P, "p2p transport between the two nodes: libp2p or tcp")
	return cmd
}

// demoStep is a step of the demo's JSON output.
type demoStep struct {
	Step   string         `json:"step"`
	Seller string         `json:"seller"`
	Result map[string]any `json:"result"`
}

// runDemo runs the script (networks.Demo) on a temporary directory and
// prints each phase as it ends: text, or one JSON document with -o json.
func runDemo(cmd *cobra.Command, g *globals, keep bool, epochSeconds int64, transport string) error {
	out := cmd.OutOrStdout()
	text := g.output != "json"
	say := func(f string, a ...any) {
		if text {
			fmt.Fprintf(out, f, a...)
		}
	}
	dir, err := os.MkdirTemp("", "bytepoints-demo-")
	if err != nil {
		return err
	}
	if keep {
		say("network directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Minute)
	defer cancel()
	say("starting 2 seller nodes (%s p2p, Badger state) ... ", transport)
	d, err := networks.StartDemo(ctx, networks.DemoOptions{Dir: dir, EpochSeconds: epochSeconds, Transport: transport})
	if err != nil {
		return err
	}
	defer d.Close()
	say("blocks are committing\n\n")

	say("customer (card token): %s...\n\n", d.Customer[:16])
	b, err := d.Book(ctx)
	if err != nil {
		return err
	}
	if text {
		printDemoBookings(out, b)
	}

	say("\nwaiting for the settlement epoch to close (demo epoch: %d s) ...\n\n", epochSeconds)
	statements, err := d.Settle(ctx)
	if err != nil {
		return err
	}
	for _, s := range statements {
		if text {
			PrintStatement(out, s)
			fmt.Fprintln(out)
		}
	}
	confirmations, err := d.Confirm(ctx, statements)
	if err != nil {
		return err
	}
	for _, c := range confirmations {
		dir := types.DirectionOf(c.NetPaise)
		say("%s confirmed: %s ₹%s for epoch %d (%s: it %s; bank reference %s)\n", c.Step.Seller, dir.Settled(),
			types.FormatPaise(uint64(abs(c.NetPaise))), c.Epoch, types.Directions.Name(dir), dir.Does(), c.Reference)
	}
	say("\n")
	end, err := d.Check(ctx)
	if err != nil {
		return err
	}
	if text {
		fmt.Fprintf(out, "positions: seller-a ₹%s, seller-b ₹%s; escrow ₹%s for %d outstanding points\n",
			types.FormatSignedPaise(end.Positions[networks.DemoSellerA]), types.FormatSignedPaise(end.Positions[networks.DemoSellerB]),
			types.FormatPaise(end.Totals.EscrowPaise), end.Totals.OutstandingPoints)
		if end.Invariants == nil {
			fmt.Fprintln(out, "invariants: OK on both nodes (balances = lots = outstanding; escrow = 100 x outstanding = -sum of positions)")
			fmt.Fprintln(out, "statements verified with Merkle proofs against headers verified by CometBFT's light client (from the demo chain's first header, node B as witness)")
		}
	}
	if end.Invariants != nil {
		return end.Invariants
	}
	// Programs (README, "Setting up offers"): a tier table by vote, a
	// campaign seller A pays for, a second card earning its bonus.
	say("\nprograms: the coalition votes tiers; seller-a funds a campaign for gold customers\n")
	pr, err := d.Programs(ctx)
	if err != nil {
		return err
	}
	climb, bonus := pr.Climb.Result.Data.GetPurchase(), pr.Bonus.Result.Data.GetPurchase()
	say("  tiers: silver from ₹100.00, gold from ₹500.00 of spend at all sellers over 365 days (proposal passed at height %d)\n", pr.Tiers.Result.Height)
	say("  campaign %q at seller-a: gold customers earn twice the base points, budget 1000 bonus points\n", "gold double")
	say("  ₹600.00 at seller-a: %d points (base %d, bonus %d%s)\n", climb.PointsIssued, climb.BasePoints, climb.BonusPoints, campaignNote(climb))
	say("  ₹100.00 at seller-a: %d points (base %d, bonus %d%s); seller-a paid ₹%s into the escrow for them\n",
		bonus.PointsIssued, bonus.BasePoints, bonus.BonusPoints, campaignNote(bonus), types.FormatPaise(bonus.SellerPaymentPaise))
	if t := pr.Tier; t != nil {
		say("  the card's tier: %s (spend counted ₹%s; proven read)\n", t.Tier, types.FormatPaise(t.SpendPaise))
	}
	end2, err := d.Check(ctx)
	if err != nil {
		return err
	}
	if end2.Invariants != nil {
		return end2.Invariants
	}
	say("  invariants: OK on both nodes after the bonus points\n")
	if !text {
		steps := []demoStep{}
		for _, s := range b.Steps() {
			steps = append(steps, demoStep{Step: s.Label, Seller: s.Seller, Result: resultFields(s.Result)})
		}
		for _, c := range confirmations {
			steps = append(steps, demoStep{Step: c.Step.Label, Seller: c.Step.Seller, Result: resultFields(c.Step.Result)})
		}
		st := []map[string]any{}
		for _, s := range statements {
			st = append(st, statementFields(s))
		}
		programs := []demoStep{}
		for _, s := range pr.Steps() {
			programs = append(programs, demoStep{Step: s.Label, Seller: s.Seller, Result: resultFields(s.Result)})
		}
		tier := map[string]any{}
		if t := pr.Tier; t != nil {
			tier = map[string]any{"tier": t.Tier, "spend_paise": t.SpendPaise, "next_tier": t.NextTier}
		}
		return printJSON(out, map[string]any{"customer_id": d.Customer, "steps": steps, "statements": st,
			"totals": totalsFields(end.Totals), "positions_paise": end.Positions, "invariants": "ok",
			"programs": map[string]any{"customer_id": pr.Customer, "steps": programs, "tier": tier}})
	}
	return nil
}

// printDemoBookings prints the worked example's bookings as a table.
func printDemoBookings(out io.Writer, b *networks.DemoBookings) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tAT\tPOINTS\tSAME\tCROSS\tMONEY\tBALANCE\tHEIGHT")
	r1 := b.Spend100.Result
	p1 := r1.Data.GetPurchase()
	fmt.Fprintf(tw, "1 earn on ₹100\tseller-a\t+%d\t\t\tA pays escrow ₹%s\t%d\t%d\n", p1.PointsIssued, types.FormatPaise(p1.SellerPaymentPaise), p1.Balance, r1.Height)
	r2 := b.RedeemAtA.Result
	x := r2.Data.GetRedeem()
	fmt.Fprintf(tw, "2 redeem 60, bill ₹250\tseller-a\t-%d\t%d\t%d\tescrow reimburses A ₹%s (discount)\t%d\t%d\n", x.PointsRedeemed, x.SameSellerPoints, x.CrossSellerPoints, types.FormatPaise(x.DiscountPaise), x.Balance, r2.Height)
	r3 := b.RedeemAtB.Result
	x = r3.Data.GetRedeem()
	fmt.Fprintf(tw, "3 redeem 40, bill ₹80\tseller-b\t-%d\t%d\t%d\tescrow pays B ₹%s\t%d\t%d\n", x.PointsRedeemed, x.SameSellerPoints, x.CrossSellerPoints, types.FormatPaise(x.SystemPaymentPaise), x.Balance, r3.Height)
	r4 := b.Spend50.Result
	p4 := r4.Data.GetPurchase()
	fmt.Fprintf(tw, "4a earn on ₹50\tseller-b\t+%d\t\t\tB pays escrow ₹%s\t%d\t%d\n", p4.PointsIssued, types.FormatPaise(p4.SellerPaymentPaise), p4.Balance, r4.Height)
	r5 := b.Refund20.Result
	rf := r5.Data.GetRefund()
	fmt.Fprintf(tw, "4b refund ₹20 of it\tseller-b\t-%d\t\t\tescrow returns B ₹%s (shortfall %d pts)\t%d\t%d\n", rf.PointsClawedBack, types.FormatPaise(rf.SellerCreditPaise), rf.PointsShortfall, rf.Balance, r5.Height)
	tw.Flush()
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// campaignNote names the campaign that gave a purchase its bonus, or why
// none was given.
func campaignNote(p *types.PurchaseResult) string {
	switch {
	case p.Campaign != "":
		return ", campaign " + strconv.Quote(p.Campaign)
	case p.NoBonusReason != "":
		return ", no bonus: " + p.NoBonusReason
	}
	return ""
}
