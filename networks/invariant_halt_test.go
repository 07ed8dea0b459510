package networks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/dgraph-io/badger/v4"
)

// TestCheckInvariantsHaltsNode corrupts a stopped node's stored totals
// underneath the Merkle trie (as a silent disk fault would: the app hash
// still matches, so the node starts) and checks that a node started with
// --check-invariants halts at the next block, naming the broken invariant.
func TestCheckInvariantsHaltsNode(t *testing.T) {
	bin := binary(t)
	home := oneSeller(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := harness.StartProcess(bin, home.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	if err := networks.WaitHeight(ctx, home.RPC, 1); err != nil {
		t.Fatal(err)
	}
	key, _ := node.LoadKey(home.Dir, node.OperatorKey)
	cl, err := client.Dial(ctx, home.RPC, key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: "c", AmountPaise: 10000, Flow: &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}}, client.Options{})
	if err != nil || !r.OK() {
		t.Fatalf("%v %+v", err, r)
	}
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}

	// Flip the stored outstanding-points total by one.
	bdb, err := badger.Open(badger.DefaultOptions(filepath.Join(home.Dir, node.AppDataDir)).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	key2 := append([]byte{'s'}, types.TotalsKey()...)
	err = bdb.Update(func(txn *badger.Txn) error {
		it, err := txn.Get(key2)
		if err != nil {
			return err
		}
		var tot types.Totals
		if err := it.Value(tot.Unmarshal); err != nil {
			return err
		}
		tot.OutstandingPoints++
		bz, _ := tot.Marshal()
		return txn.Set(key2, bz)
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}

	p, err = harness.StartProcess(bin, home.Dir, nil, "--check-invariants")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-waitExit(p):
	case <-time.After(60 * time.Second):
		log, _ := os.ReadFile(p.Log)
		t.Fatalf("node with broken state and --check-invariants kept running:\n%s", tail(log))
	}
	if err := p.Wait(); err == nil {
		t.Fatal("halted node exited with status 0")
	}
	log, _ := os.ReadFile(p.Log)
	if !strings.Contains(string(log), "invariant balances-equal-lots broken") {
		t.Fatalf("halt message does not name the invariant:\n%s", tail(log))
	}
}
