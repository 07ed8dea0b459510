package abci_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
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
	snaps := &memSnapshots{}
	snaps.take(t, src)
	src.Snapshots = snaps
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

// memSnapshots keeps snapshots in memory: the ABCI methods and the format
// without the node's disk store (node/snapshot_test.go tests that one).
type memSnapshots struct {
	heights []int64
	metas   map[int64]*abci.SnapshotMeta
	chunks  map[int64][][]byte
}

func (m *memSnapshots) take(t *testing.T, x *abci.Application) {
	t.Helper()
	e := x.App.SnapshotView()
	defer e.Close()
	var chunks [][]byte
	meta, err := abci.WriteSnapshot(e, func(i int, c []byte) error {
		if i != len(chunks) {
			return fmt.Errorf("chunk %d given after %d chunks", i, len(chunks))
		}
		chunks = append(chunks, append([]byte(nil), c...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.metas == nil {
		m.metas, m.chunks = map[int64]*abci.SnapshotMeta{}, map[int64][][]byte{}
	}
	m.heights = append([]int64{meta.Height}, m.heights...)
	m.metas[meta.Height], m.chunks[meta.Height] = meta, chunks
}

func (m *memSnapshots) Heights() []int64 { return m.heights }

func (m *memSnapshots) Meta(h int64) (*abci.SnapshotMeta, error) {
	if meta, ok := m.metas[h]; ok {
		return meta, nil
	}
	return nil, fmt.Errorf("no snapshot at %d", h)
}

func (m *memSnapshots) Chunk(h int64, i uint32) ([]byte, error) {
	if int(i) < len(m.chunks[h]) {
		return m.chunks[h][i], nil
	}
	return nil, fmt.Errorf("no chunk %d at %d", i, h)
}

func (m *memSnapshots) Committed(int64) {}
