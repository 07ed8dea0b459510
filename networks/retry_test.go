package networks_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// A POS that lost the answer when its node was SIGKILLed retries after the
// restart with the same idempotency key: whatever the moment of the kill,
// the purchase is booked exactly once (SPEC §4). The pair survives the
// restart in the chain's state, long after the first envelope's validity.
func TestRetryAfterNodeKillBooksOnce(t *testing.T) {
	bin := binary(t)
	home := oneSeller(t, true)
	key, err := node.LoadKey(home.Dir, node.OperatorKey)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var proc *harness.Process
	start := func() {
		t.Helper()
		proc, err = harness.StartProcess(bin, home.Dir, nil)
		require.NoError(t, err)
		if err := networks.WaitHeight(ctx, home.RPC, height0(ctx, home.RPC)+1); err != nil {
			log, _ := os.ReadFile(proc.Log)
			t.Fatalf("%v\n%s", err, tail(log))
		}
	}
	start()
	defer func() { proc.Kill() }()
	dial := func() *client.Client {
		t.Helper()
		cl, err := client.Dial(ctx, home.RPC, key)
		require.NoError(t, err)
		cl.ValidFor, cl.Timeout = 3, 20*time.Second
		return cl
	}
	points := func(cust string) uint64 {
		t.Helper()
		q, err := dial().Query(ctx, "/balance/"+cust, false)
		require.NoError(t, err)
		b, err := client.Decode[types.BalanceResponse](q)
		require.NoError(t, err)
		return b.Points
	}
	buy := func(cust string) *types.MsgPurchase {
		return &types.MsgPurchase{CustomerId: cust, AmountPaise: 10000, Flow: &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}}
	}

	// 1. Committed, then the node dies; the retry comes after the restart and
	// after the first envelope's 3-block validity.
	first, err := dial().Submit(ctx, buy("pos-a"), client.Options{IdempotencyKey: "till-1/0001"})
	require.NoError(t, err)
	require.True(t, first.OK(), first.Log)
	proc.Kill()
	start()
	require.NoError(t, networks.WaitHeight(ctx, home.RPC, first.Height+6))
	again, err := dial().Submit(ctx, buy("pos-a"), client.Options{IdempotencyKey: "till-1/0001"})
	require.NoError(t, err)
	require.True(t, again.Replayed, "the retry is answered with the original result")
	require.Equal(t, first.TxHash, again.TxHash)
	require.Equal(t, first.Height, again.Height)
	require.Equal(t, first.Data.GetPurchase().PurchaseId, again.Data.GetPurchase().PurchaseId)
	require.Equal(t, uint64(100), points("pos-a"))

	// 2. The answer is lost: the node is killed right after the broadcast, at
	// a different moment each round, before the POS learns the outcome.
	for round, wait := range []time.Duration{0, 60 * time.Millisecond, 250 * time.Millisecond} {
		cust, k := fmt.Sprintf("pos-b%d", round), fmt.Sprintf("till-1/1%03d", round)
		cl := dial()
		tx, err := cl.Build(ctx, buy(cust), client.Options{IdempotencyKey: k})
		require.NoError(t, err)
		_, _ = cl.RPC.BroadcastTxSync(ctx, tx)
		time.Sleep(wait) //wallclock:ok the kill's moment, not an assertion
		proc.Kill()
		start()
		var r *client.Result
		for attempt := 0; ; attempt++ {
			r, err = dial().Submit(ctx, buy(cust), client.Options{IdempotencyKey: k})
			if err == nil {
				break
			}
			require.Less(t, attempt, 5, "retry %d: %v", attempt, err)
		}
		require.True(t, r.OK(), r.Log)
		// Retry once more: now certainly a replay of whichever booked it.
		r2, err := dial().Submit(ctx, buy(cust), client.Options{IdempotencyKey: k})
		require.NoError(t, err)
		require.True(t, r2.Replayed)
		require.Equal(t, r.Data.GetPurchase().PurchaseId, r2.Data.GetPurchase().PurchaseId)
		require.Equal(t, uint64(100), points(cust), "round %d: booked exactly once", round)
	}

	// 3. Raw transactions: the same key with another message is refused
	// with code 15 naming the original, whoever builds the bytes.
	other, err := dial().Submit(ctx, &types.MsgPurchase{CustomerId: "pos-a", AmountPaise: 99900,
		Flow: &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}}, client.Options{IdempotencyKey: "till-1/0001"})
	require.NoError(t, err)
	require.Equal(t, types.CodeIdempotencyConflict, other.Code, other.Log)
	require.Equal(t, first.TxHash, other.ConflictWith)
	require.Equal(t, uint64(100), points("pos-a"))
}
