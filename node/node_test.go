package node_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// startNode runs a one-validator chain in this process, driven only through
// its real RPC and gateway sockets.
func startNode(t *testing.T) (*node.Node, node.NetworkHome) {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Invariants: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Height 2: block 1 is applied and committed by the app (at height 1
	// the block store can be ahead of the app's commit, and a CheckTx then
	// finds no committed chain yet).
	if err := networks.WaitHeight(ctx, n.RPCURL(), 2); err != nil {
		t.Fatal(err)
	}
	return n, m.Homes[0]
}

func TestNodeOverRPC(t *testing.T) {
	n, home := startNode(t)
	ctx := context.Background()
	key, _ := node.LoadKey(home.Dir, node.OperatorKey)
	cl, err := client.Dial(ctx, n.RPCURL(), key)
	if err != nil {
		t.Fatal(err)
	}
	flow := &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}
	r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 25050, Flow: flow}, client.Options{})
	if err != nil || !r.OK() || r.Data.GetPurchase().PointsIssued != 250 {
		t.Fatalf("purchase: %+v %v", r, err)
	}
	r, err = cl.Submit(ctx, &types.MsgRedeem{CustomerId: "alice", Points: 300, BillPaise: 50000, Flow: flow}, client.Options{})
	if err != nil || r.Code != types.CodeInsufficientPoints || r.Log == "" {
		t.Fatalf("over-redeem: %+v %v", r, err)
	}
	if _, err := cl.Query(ctx, "/balance/alice", true); !errors.Is(err, client.ErrNoTrustRoot) {
		t.Fatalf("a proven read without a trust root: %v", err)
	}
	trust, err := cl.TrustFromNode(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.UseLightClient(ctx, trust); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	q, err := cl.Query(ctx, "/balance/alice", true)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := client.Decode[types.BalanceResponse](q)
	if b.Points != 250 || q.Verified == nil || q.Verified.Power*3 <= q.Verified.Total*2 {
		t.Fatalf("balance %d verified %+v", b.Points, q.Verified)
	}
}
