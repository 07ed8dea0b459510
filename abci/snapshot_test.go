package abci_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
)

func TestSnapshotRestore(t *testing.T) {
	src, srcDB := open(t, t.TempDir())
	defer srcDB.Close()
	initChain(t, src)
	var last *abcitypes.ResponseFinalizeBlock
	for h := int64(1); h <= 5; h++ {
		var txs [][]byte
		for i := 0; i < 40; i++ {
			txs = append(txs, signed(h, "seller-a/operator", &types.MsgPurchase{CustomerId: fmt.Sprintf("c%d", i), AmountPaise: uint64(100 * (i + 1)), Flow: pin}, fmt.Sprintf("%d-%d", h, i)))
		}
		last = block(t, src, h, txs...)
	}
	snaps, err := abci.OpenSnapshotStore(t.TempDir(), 5, 2, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	src.Snapshots = snaps
	v := srcDB.View()
	if err := snaps.Take(v); err != nil {
		t.Fatal(err)
	}
	v.Discard()
	list, _ := src.ListSnapshots(ctx, &abcitypes.RequestListSnapshots{})
	if len(list.Snapshots) != 1 || list.Snapshots[0].Height != 5 {
		t.Fatalf("snapshots: %+v", list.Snapshots)
	}
	snap := list.Snapshots[0]
	chunk := func(i uint32) []byte {
		r, _ := src.LoadSnapshotChunk(ctx, &abcitypes.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format, Chunk: i})
		return r.Chunk
	}

	// A wrong trusted app hash: the restored root does not match, rejected.
	bad, badDB := open(t, t.TempDir())
	if r, _ := bad.OfferSnapshot(ctx, &abcitypes.RequestOfferSnapshot{Snapshot: snap, AppHash: make([]byte, 32)}); r.Result != abcitypes.ResponseOfferSnapshot_REJECT {
		t.Fatalf("offer with a hash unlike the snapshot's: %v", r.Result)
	}
	badDB.Close()

	dst, dstDB := open(t, t.TempDir())
	defer dstDB.Close()
	if r, _ := dst.OfferSnapshot(ctx, &abcitypes.RequestOfferSnapshot{Snapshot: snap, AppHash: last.AppHash}); r.Result != abcitypes.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r.Result)
	}
	// A corrupted chunk is refetched and its sender rejected.
	c0 := chunk(0)
	corrupt := append([]byte(nil), c0...)
	corrupt[len(corrupt)/2] ^= 1
	r, _ := dst.ApplySnapshotChunk(ctx, &abcitypes.RequestApplySnapshotChunk{Index: 0, Chunk: corrupt, Sender: "evil"})
	if r.Result != abcitypes.ResponseApplySnapshotChunk_RETRY || len(r.RejectSenders) != 1 {
		t.Fatalf("corrupt chunk: %+v", r)
	}
	for i := uint32(0); i < snap.Chunks; i++ {
		r, _ := dst.ApplySnapshotChunk(ctx, &abcitypes.RequestApplySnapshotChunk{Index: i, Chunk: chunk(i), Sender: "good"})
		if r.Result != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("chunk %d: %v", i, r.Result)
		}
	}
	info, _ := dst.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 5 || !bytes.Equal(info.LastBlockAppHash, last.AppHash) {
		t.Fatalf("restored info %+v, want 5 %X", info, last.AppHash)
	}
	// Both nodes execute the next block identically.
	tx := signed(6, "seller-b/operator", &types.MsgRedeem{CustomerId: "c3", Points: 2, BillPaise: 500, Flow: pin}, "x")
	a := block(t, src, 6, tx)
	b := block(t, dst, 6, tx)
	if a.TxResults[0].Code != 0 || !bytes.Equal(a.AppHash, b.AppHash) {
		t.Fatalf("after restore: code %d, hashes %X vs %X", a.TxResults[0].Code, a.AppHash, b.AppHash)
	}
}

// A snapshot a peer is fetching survives pruning; untouched old ones go.
func TestSnapshotPruneKeepsOnesInUse(t *testing.T) {
	x, db := open(t, t.TempDir())
	defer db.Close()
	initChain(t, x)
	snaps, _ := abci.OpenSnapshotStore(t.TempDir(), 1000, 1, log.NewNopLogger()) // taken by hand below
	x.Snapshots = snaps
	take := func(h int64) {
		block(t, x, h, signed(h, "seller-a/operator", &types.MsgPurchase{CustomerId: "c", AmountPaise: 100, Flow: pin}, fmt.Sprint(h)))
		v := db.View()
		defer v.Discard()
		if err := snaps.Take(v); err != nil {
			t.Fatal(err)
		}
	}
	take(1)
	take(2)
	// A joiner lists the snapshots and starts fetching height 1.
	x.ListSnapshots(ctx, &abcitypes.RequestListSnapshots{})
	take(3)
	snaps.Prune()
	list, _ := x.ListSnapshots(ctx, &abcitypes.RequestListSnapshots{})
	if len(list.Snapshots) != 3 {
		t.Fatalf("snapshots in use were pruned: %d left", len(list.Snapshots))
	}
	if r, _ := x.LoadSnapshotChunk(ctx, &abcitypes.RequestLoadSnapshotChunk{Height: 1, Format: abci.SnapshotFormat}); len(r.Chunk) == 0 {
		t.Fatal("chunk of a snapshot in use is gone")
	}
}
