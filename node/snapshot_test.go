package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
)

func snapshotChain(t *testing.T) *apptest.Chain {
	return apptest.New(t, []string{"seller-a", "seller-b"}, nil)
}

func purchaseBlock(c *apptest.Chain, customer string) {
	c.T.Helper()
	apptest.MustOK(c.T, c.Block(5, c.Tx(apptest.Operator("seller-a"), &types.MsgPurchase{
		SellerId: "seller-a", CustomerId: customer, AmountPaise: 10_000, Flow: apptest.Flow()}))[0])
}

// A snapshot the store took is served through the ABCI methods with the
// metadata abci's format gives, and its chunks decode into a node that
// restores the same app hash.
func TestSnapshotStoreServesWhatItTook(t *testing.T) {
	c := snapshotChain(t)
	purchaseBlock(c, "c1")
	purchaseBlock(c, "c2")
	dir := t.TempDir()
	s, err := node.OpenSnapshotStore(dir, 1000, 2, c.App, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Take(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2", "meta.json")); err != nil {
		t.Fatalf("no snapshot directory for height 2: %v", err)
	}
	x := abci.New(c.App)
	x.Snapshots = s
	ctx := context.Background()
	list, _ := x.ListSnapshots(ctx, &abcitypes.RequestListSnapshots{})
	if len(list.Snapshots) != 1 || list.Snapshots[0].Height != 2 || list.Snapshots[0].Format != abci.SnapshotFormat {
		t.Fatalf("snapshots: %+v", list.Snapshots)
	}
	snap := list.Snapshots[0]
	_, appHash := c.App.Info()
	db, err := app.OpenDB(app.DBOptions{InMemory: true}) // a joining node: nothing committed
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	y := abci.New(app.New(db, app.Config{ChainID: apptest.ChainID}))
	if r, _ := y.OfferSnapshot(ctx, &abcitypes.RequestOfferSnapshot{Snapshot: snap, AppHash: appHash}); r.Result != abcitypes.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r.Result)
	}
	for i := uint32(0); i < snap.Chunks; i++ {
		ch, _ := x.LoadSnapshotChunk(ctx, &abcitypes.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format, Chunk: i})
		r, _ := y.ApplySnapshotChunk(ctx, &abcitypes.RequestApplySnapshotChunk{Index: i, Chunk: ch.Chunk, Sender: "a"})
		if r.Result != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("chunk %d: %v", i, r.Result)
		}
	}
	if h, hash := y.App.Info(); h != 2 || fmt.Sprintf("%X", hash) != fmt.Sprintf("%X", appHash) {
		t.Fatalf("restored %d %X, want 2 %X", h, hash, appHash)
	}
}

// A snapshot a peer is fetching survives pruning; untouched old ones go.
func TestSnapshotPruneKeepsOnesInUse(t *testing.T) {
	c := snapshotChain(t)
	dir := t.TempDir()
	s, err := node.OpenSnapshotStore(dir, 1000, 1, c.App, log.NewNopLogger()) // taken by hand below
	if err != nil {
		t.Fatal(err)
	}
	x := abci.New(c.App)
	x.Snapshots = s
	ctx := context.Background()
	take := func(customer string) {
		purchaseBlock(c, customer)
		if err := s.Take(); err != nil {
			t.Fatal(err)
		}
	}
	take("c1")
	take("c2")
	// A joiner lists the snapshots and starts fetching height 1.
	x.ListSnapshots(ctx, &abcitypes.RequestListSnapshots{})
	take("c3")
	s.Prune()
	list, _ := x.ListSnapshots(ctx, &abcitypes.RequestListSnapshots{})
	if len(list.Snapshots) != 3 {
		t.Fatalf("snapshots in use were pruned: %d left", len(list.Snapshots))
	}
	if r, _ := x.LoadSnapshotChunk(ctx, &abcitypes.RequestLoadSnapshotChunk{Height: 1, Format: abci.SnapshotFormat}); len(r.Chunk) == 0 {
		t.Fatal("chunk of a snapshot in use is gone")
	}
	// A store that no peer used keeps only the newest.
	fresh, err := node.OpenSnapshotStore(dir, 1000, 1, c.App, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	fresh.Prune()
	if hs := fresh.Heights(); len(hs) != 1 || hs[0] != 3 {
		t.Fatalf("after pruning unused snapshots: %v, want [3]", hs)
	}
}
