package networks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// Demo is the worked example of the product brief played on a throwaway
// two-seller network in this process: the script behind `bytepointsd demo`
// (and `make demo`). Its phases run in order: StartDemo, Book, Settle,
// Confirm, Check; each returns what it did, so that the caller (the cobra
// command) prints each phase as it ends. Demo itself prints nothing.
type Demo struct {
	Manifest *node.Manifest
	Nodes    []*node.Node
	// Customer is the demo card's token (customer id).
	Customer string
	// LogPath is the file the nodes log to.
	LogPath string

	logs   io.Closer
	ca, cb *client.Client // seller A's client (proven reads through the light client), seller B's
	first  int64          // height of the first booking
	last   int64          // height of the last booking
}

// DemoOptions configure StartDemo.
type DemoOptions struct {
	// Dir receives the network's homes and the nodes' log; the caller
	// creates it and removes it.
	Dir string
	// EpochSeconds is the demo chain's settlement epoch, short so that the
	// statement appears in seconds.
	EpochSeconds int64
	// Transport between the two nodes: node.TransportLibP2P or TransportTCP.
	Transport string
}

// DemoStep is one booked transaction of the script.
type DemoStep struct {
	Label  string // what the step does ("spend ₹100")
	Seller string // the seller whose terminal booked it
	Result *client.Result
}

// The demo's two sellers.
const (
	DemoSellerA = "seller-a"
	DemoSellerB = "seller-b"
)

// StartDemo generates the two sellers' homes under o.Dir, starts their
// nodes in this process and waits for blocks; the demo's reads go through
// seller A's node, verified by the light client from the chain's first
// header with B's node as witness. Close stops everything.
func StartDemo(ctx context.Context, o DemoOptions) (_ *Demo, err error) {
	plan, err := node.FreePortPlan(2)
	if err != nil {
		return nil, err
	}
	params := app.DefaultParams()
	params.EpochSeconds = o.EpochSeconds
	m, err := node.GenerateNetwork(node.NetworkOptions{
		Validators: 2, Output: filepath.Join(o.Dir, "net"), Sellers: []string{DemoSellerA, DemoSellerB},
		ChainID: "bytepoints-demo", Transport: o.Transport, Ports: plan, Params: params,
		TimeoutCommit: 300 * time.Millisecond, Invariants: true,
	})
	if err != nil {
		return nil, err
	}
	logs, err := os.Create(filepath.Join(o.Dir, "nodes.log"))
	if err != nil {
		return nil, err
	}
	d := &Demo{Manifest: m, LogPath: logs.Name(), logs: logs}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.Nodes, err = StartInProcess(m, logs, "info", true); err != nil {
		return nil, err
	}
	if err := WaitHeight(ctx, d.Nodes[0].RPCURL(), 2); err != nil {
		return nil, fmt.Errorf("%w (node logs: %s)", err, d.LogPath)
	}
	dial := func(h node.NetworkHome, n *node.Node) (*client.Client, error) {
		k, err := node.LoadKey(h.Dir, node.OperatorKey)
		if err != nil {
			return nil, err
		}
		return client.Dial(ctx, n.RPCURL(), k)
	}
	if d.ca, err = dial(m.Homes[0], d.Nodes[0]); err != nil {
		return nil, err
	}
	if d.cb, err = dial(m.Homes[1], d.Nodes[1]); err != nil {
		return nil, err
	}
	// Proven reads: the demo made this chain, so its first header is the
	// trust root; B's node cross-checks every header A's node serves.
	trust, err := d.ca.TrustFromNode(ctx, 1)
	if err != nil {
		return nil, err
	}
	trust.Witnesses = []string{d.Nodes[1].RPCURL()}
	if err := d.ca.UseLightClient(ctx, trust); err != nil {
		return nil, err
	}
	card := sha256.Sum256([]byte("demo card 4111-xxxx"))
	d.Customer = hex.EncodeToString(card[:])
	return d, nil
}

// Close stops the nodes and closes the clients and the log.
func (d *Demo) Close() {
	if d.ca != nil {
		d.ca.Close()
	}
	StopAll(d.Nodes)
	d.logs.Close()
}

// do submits msg through c and waits until every node has committed it:
// the next step may go through the other seller's node, as a till would
// see it a moment later.
func (d *Demo) do(ctx context.Context, label, seller string, c *client.Client, msg any) (DemoStep, error) {
	r, err := c.Submit(ctx, msg, client.Options{})
	if err != nil {
		return DemoStep{}, err
	}
	if !r.OK() {
		return DemoStep{}, fmt.Errorf("%s: rejected with %s: %s", label, r.Code.Name(), r.Log)
	}
	for _, n := range d.Nodes {
		if err := WaitHeight(ctx, n.RPCURL(), r.Height); err != nil {
			return DemoStep{}, err
		}
	}
	return DemoStep{Label: label, Seller: seller, Result: r}, nil
}

// DemoBookings are the five bookings of the worked example.
type DemoBookings struct {
	Spend100  DemoStep // 1. ₹100 at A: 100 points; A pays ₹100 into the escrow
	RedeemAtA DemoStep // 2. 60 points at A: same-seller, the ₹60 discount reimbursed to A
	RedeemAtB DemoStep // 3. 40 points at B: cross-seller, the escrow pays B ₹40
	Spend50   DemoStep // 4a. ₹50 at B: 50 points
	Refund20  DemoStep // 4b. B refunds ₹20 of it: 20 points clawed back
}

// Steps lists the bookings in order.
func (b *DemoBookings) Steps() []DemoStep {
	return []DemoStep{b.Spend100, b.RedeemAtA, b.RedeemAtB, b.Spend50, b.Refund20}
}

// Book plays the worked example's bookings, each with a PIN-verified
// contactless payment.
func (d *Demo) Book(ctx context.Context) (*DemoBookings, error) {
	pin := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	var b DemoBookings
	var err error
	if b.Spend100, err = d.do(ctx, "spend ₹100", DemoSellerA, d.ca, &types.MsgPurchase{CustomerId: d.Customer, AmountPaise: 100_00, Flow: pin}); err != nil {
		return nil, err
	}
	if b.RedeemAtA, err = d.do(ctx, "redeem 60 at A", DemoSellerA, d.ca, &types.MsgRedeem{CustomerId: d.Customer, Points: 60, BillPaise: 250_00, Flow: pin}); err != nil {
		return nil, err
	}
	if b.RedeemAtB, err = d.do(ctx, "redeem 40 at B", DemoSellerB, d.cb, &types.MsgRedeem{CustomerId: d.Customer, Points: 40, BillPaise: 80_00, Flow: pin}); err != nil {
		return nil, err
	}
	if b.Spend50, err = d.do(ctx, "spend ₹50", DemoSellerB, d.cb, &types.MsgPurchase{CustomerId: d.Customer, AmountPaise: 50_00, Flow: pin}); err != nil {
		return nil, err
	}
	purchase := b.Spend50.Result.Data.GetPurchase().PurchaseId
	if b.Refund20, err = d.do(ctx, "refund ₹20", DemoSellerB, d.cb, &types.MsgRefund{PurchaseId: purchase, AmountPaise: 20_00}); err != nil {
		return nil, err
	}
	d.first, d.last = b.Spend100.Result.Height, b.Refund20.Result.Height
	return &b, nil
}

// Settle waits for the epoch holding the bookings to close and returns the
// statements of every epoch that holds part of them, oldest first, each
// read with Merkle proofs.
func (d *Demo) Settle(ctx context.Context) ([]*types.Statement, error) {
	var epoch uint64
	for {
		q, err := d.ca.Query(ctx, "/statements", false)
		if err != nil {
			return nil, err
		}
		st, err := client.Decode[types.StatementsResponse](q)
		if err != nil {
			return nil, err
		}
		if len(st.Statements) > 0 && st.Statements[0].ClosedHeight > d.last {
			epoch = st.Statements[0].Epoch
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the epoch did not close in time")
		case <-time.After(500 * time.Millisecond):
		}
	}
	var statements []*types.Statement
	for e := epoch; ; e-- {
		q, err := d.ca.Query(ctx, fmt.Sprintf("/statement/%d", e), true)
		if err != nil {
			if client.IsNotFound(err) {
				break
			}
			return nil, err
		}
		s, err := client.Decode[types.Statement](q)
		if err != nil {
			return nil, err
		}
		statements = append([]*types.Statement{s}, statements...)
		if s.StartHeight <= d.first {
			break
		}
	}
	return statements, nil
}

// DemoConfirmation is a seller's confirmation of one statement line.
type DemoConfirmation struct {
	Step      DemoStep
	Epoch     uint64
	NetPaise  int64 // the line's net: > 0 the seller received from the escrow, < 0 it paid in
	Reference string
}

// Confirm has each seller confirm its outstanding lines of statements: A
// paid the escrow, B was paid.
func (d *Demo) Confirm(ctx context.Context, statements []*types.Statement) ([]DemoConfirmation, error) {
	var out []DemoConfirmation
	for _, st := range statements {
		for _, l := range st.Lines {
			if l.Status != types.LineStatus_LINE_STATUS_OUTSTANDING {
				continue
			}
			c, who := d.ca, DemoSellerA
			if l.SellerId == DemoSellerB {
				c, who = d.cb, DemoSellerB
			}
			ref := fmt.Sprintf("DEMO-UTR-%d-%s", st.Epoch, who)
			step, err := d.do(ctx, "confirm settlement", who, c, &types.MsgConfirmSettlement{Epoch: st.Epoch, BankReference: ref})
			if err != nil {
				return nil, err
			}
			out = append(out, DemoConfirmation{Step: step, Epoch: st.Epoch, NetPaise: l.NetPaise, Reference: ref})
		}
	}
	return out, nil
}

// DemoEnd is the chain's end state.
type DemoEnd struct {
	Totals    *types.Totals    // read with proofs
	Positions map[string]int64 // settlement position of each seller, paise
	// Invariants is nil when the conservation invariants hold on both
	// nodes' committed state.
	Invariants error
}

// Check reads the end state and runs the invariants on every node.
func (d *Demo) Check(ctx context.Context) (*DemoEnd, error) {
	q, err := d.ca.Query(ctx, "/totals", true)
	if err != nil {
		return nil, err
	}
	t, err := client.Decode[types.Totals](q)
	if err != nil {
		return nil, err
	}
	q, err = d.ca.Query(ctx, "/sellers", false)
	if err != nil {
		return nil, err
	}
	s, err := client.Decode[types.SellersResponse](q)
	if err != nil {
		return nil, err
	}
	end := &DemoEnd{Totals: t, Positions: map[string]int64{}}
	for _, x := range s.Sellers {
		end.Positions[x.SellerId] = x.PositionPaise
	}
	end.Invariants = checkNodes(d.Nodes)
	return end, nil
}

// checkNodes runs the invariants on every node's committed state.
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

// DemoPrograms is the demo's programs phase (docs/protocol.md §5.7-§5.8):
// the coalition votes a tier table, seller A funds a campaign for gold
// customers, and a second card climbs to gold and earns the bonus.
type DemoPrograms struct {
	Tiers    DemoStep // A proposes silver ₹100 / gold ₹500; B's vote passes it
	Campaign DemoStep // A's "gold double" campaign, 1,000 bonus points budget
	Climb    DemoStep // ₹600 at A: the card reaches gold
	Bonus    DemoStep // ₹100 at A for a gold card: 100 base + 100 bonus, paid by A
	Customer string
	Tier     *types.TierStatus // the card's tier after the purchases (proven read)
}

// Steps lists the phase's transactions in order.
func (p *DemoPrograms) Steps() []DemoStep {
	return []DemoStep{p.Tiers, p.Campaign, p.Climb, p.Bonus}
}

// Programs plays the programs phase with a second card, so that the worked
// example's figures above stay as they are.
func (d *Demo) Programs(ctx context.Context) (*DemoPrograms, error) {
	pin := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	card := sha256.Sum256([]byte("demo card 5500-xxxx"))
	p := &DemoPrograms{Customer: hex.EncodeToString(card[:])}
	var err error
	table := &types.TierTable{Tiers: []*types.Tier{{Name: "silver", ThresholdPaise: 100_00}, {Name: "gold", ThresholdPaise: 500_00}}}
	if _, err = d.do(ctx, "propose tiers silver ₹100, gold ₹500", DemoSellerA, d.ca,
		&types.MsgPropose{SellerId: DemoSellerA, Description: "coalition tiers", Action: &types.MsgPropose_SetTiers{SetTiers: table}}); err != nil {
		return nil, err
	}
	q, err := d.ca.Query(ctx, "/proposals", false)
	if err != nil {
		return nil, err
	}
	props, err := client.Decode[types.ProposalsResponse](q)
	if err != nil || len(props.Proposals) == 0 {
		return nil, fmt.Errorf("the tier proposal is not listed: %v", err)
	}
	id := props.Proposals[0].Id // newest first
	if p.Tiers, err = d.do(ctx, "B votes yes: tiers set", DemoSellerB, d.cb, &types.MsgVote{SellerId: DemoSellerB, ProposalId: id, Yes: true}); err != nil {
		return nil, err
	}
	if v := p.Tiers.Result.Data.GetVote(); v == nil || !v.Executed {
		return nil, fmt.Errorf("the tier proposal %d did not pass with both votes", id)
	}
	if p.Campaign, err = d.do(ctx, "A's campaign: gold double", DemoSellerA, d.ca, &types.MsgCreateCampaign{
		SellerId: DemoSellerA, Name: "gold double", MultiplierBps: 20000, Tier: "gold", BudgetPoints: 1000}); err != nil {
		return nil, err
	}
	if p.Climb, err = d.do(ctx, "spend ₹600 at A", DemoSellerA, d.ca, &types.MsgPurchase{CustomerId: p.Customer, AmountPaise: 600_00, Flow: pin}); err != nil {
		return nil, err
	}
	if p.Bonus, err = d.do(ctx, "spend ₹100 at A (gold)", DemoSellerA, d.ca, &types.MsgPurchase{CustomerId: p.Customer, AmountPaise: 100_00, Flow: pin}); err != nil {
		return nil, err
	}
	q, err = d.ca.Query(ctx, "/balance/"+p.Customer, true)
	if err != nil {
		return nil, err
	}
	bal, err := client.Decode[types.BalanceResponse](q)
	if err != nil {
		return nil, err
	}
	p.Tier = bal.Tier
	return p, nil
}
