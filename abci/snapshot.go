package abci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
)

// State sync (SPEC §7a). A snapshot is every state entry of one commit,
// streamed from a consistent view into chunks; a joining node verifies
// each chunk against the hashes in the snapshot's metadata, rebuilds the
// Merkle trie from the entries, and accepts the result only if its root
// equals the app hash CometBFT's light client trusts.
//
// This file is the format (SnapshotMeta, WriteSnapshot, the chunk
// encoding) and the four ABCI methods. Where snapshots are kept, when they
// are taken and pruned is the node's (node/snapshot.go), behind
// SnapshotStore.
const (
	SnapshotFormat = 1
	chunkSize      = 4 << 20
)

// SnapshotMeta is stored next to the chunks and sent as Snapshot.Metadata.
type SnapshotMeta struct {
	Height      int64    `json:"height"`
	TimeNs      int64    `json:"time_ns"`
	AppHash     []byte   `json:"app_hash"`
	Entries     int      `json:"entries"`
	ChunkHashes [][]byte `json:"chunk_hashes"`
}

// Hash is the snapshot's hash: over its chunks' hashes.
func (m *SnapshotMeta) Hash() []byte {
	h := sha256.New()
	for _, c := range m.ChunkHashes {
		h.Write(c)
	}
	return h.Sum(nil)
}

// WriteSnapshot encodes every entry of e into chunks of about 4 MiB, giving
// each to put (with its index) in order, and returns the metadata.
func WriteSnapshot(e *app.StateExport, put func(index int, chunk []byte) error) (*SnapshotMeta, error) {
	meta := &SnapshotMeta{Height: e.Height, TimeNs: e.TimeNs, AppHash: e.AppHash}
	var buf bytes.Buffer
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		sum := sha256.Sum256(buf.Bytes())
		meta.ChunkHashes = append(meta.ChunkHashes, sum[:])
		if err := put(len(meta.ChunkHashes)-1, buf.Bytes()); err != nil {
			return err
		}
		buf.Reset()
		return nil
	}
	err := e.Each(func(k, v []byte) error {
		buf.Write(binary.AppendUvarint(nil, uint64(len(k))))
		buf.Write(k)
		buf.Write(binary.AppendUvarint(nil, uint64(len(v))))
		buf.Write(v)
		meta.Entries++
		if buf.Len() >= chunkSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return meta, nil
}

// SnapshotStore is where this node keeps the snapshots it serves
// (node.SnapshotStore on disk). Meta and Chunk mark the snapshot as in use
// by a peer, so that it is not pruned while a joining node fetches it.
type SnapshotStore interface {
	Heights() []int64 // newest first
	Meta(height int64) (*SnapshotMeta, error)
	Chunk(height int64, index uint32) ([]byte, error)
	// Committed is told every new height; it takes a snapshot when due.
	Committed(height int64)
}

type restoreState struct {
	meta    SnapshotMeta
	trusted []byte
	next    uint32
}

// restoring is the state sync under way, if any.
type restoring struct {
	mu sync.Mutex
	rs *restoreState
}

func (x *Application) logger() log.Logger {
	if x.Logger == nil {
		return log.NewNopLogger()
	}
	return x.Logger
}

func (x *Application) ListSnapshots(context.Context, *abcitypes.RequestListSnapshots) (*abcitypes.ResponseListSnapshots, error) {
	out := &abcitypes.ResponseListSnapshots{}
	s := x.Snapshots
	if s == nil {
		return out, nil
	}
	for _, h := range s.Heights() {
		m, err := s.Meta(h)
		if err != nil {
			continue
		}
		md, _ := json.Marshal(m)
		out.Snapshots = append(out.Snapshots, &abcitypes.Snapshot{Height: uint64(h), Format: SnapshotFormat,
			Chunks: uint32(len(m.ChunkHashes)), Hash: m.Hash(), Metadata: md})
	}
	return out, nil
}

func (x *Application) LoadSnapshotChunk(_ context.Context, req *abcitypes.RequestLoadSnapshotChunk) (*abcitypes.ResponseLoadSnapshotChunk, error) {
	if x.Snapshots == nil || req.Format != SnapshotFormat {
		return &abcitypes.ResponseLoadSnapshotChunk{}, nil
	}
	bz, err := x.Snapshots.Chunk(int64(req.Height), req.Chunk)
	if err != nil {
		return &abcitypes.ResponseLoadSnapshotChunk{}, nil // pruned or never taken: the peer asks elsewhere
	}
	return &abcitypes.ResponseLoadSnapshotChunk{Chunk: bz}, nil
}

func (x *Application) OfferSnapshot(_ context.Context, req *abcitypes.RequestOfferSnapshot) (*abcitypes.ResponseOfferSnapshot, error) {
	reject := func(r abcitypes.ResponseOfferSnapshot_Result) (*abcitypes.ResponseOfferSnapshot, error) {
		return &abcitypes.ResponseOfferSnapshot{Result: r}, nil
	}
	snap := req.Snapshot
	if snap == nil || snap.Format != SnapshotFormat {
		return reject(abcitypes.ResponseOfferSnapshot_REJECT_FORMAT)
	}
	if h, _ := x.App.Info(); h != 0 {
		return reject(abcitypes.ResponseOfferSnapshot_ABORT) // never overwrite a node's own state
	}
	var m SnapshotMeta
	if err := json.Unmarshal(snap.Metadata, &m); err != nil || uint64(m.Height) != snap.Height ||
		uint32(len(m.ChunkHashes)) != snap.Chunks || !bytes.Equal(m.Hash(), snap.Hash) || !bytes.Equal(m.AppHash, req.AppHash) {
		return reject(abcitypes.ResponseOfferSnapshot_REJECT)
	}
	x.App.DB().Discard()
	x.restore.mu.Lock()
	x.restore.rs = &restoreState{meta: m, trusted: req.AppHash}
	x.restore.mu.Unlock()
	return &abcitypes.ResponseOfferSnapshot{Result: abcitypes.ResponseOfferSnapshot_ACCEPT}, nil
}

func (x *Application) ApplySnapshotChunk(_ context.Context, req *abcitypes.RequestApplySnapshotChunk) (*abcitypes.ResponseApplySnapshotChunk, error) {
	res := func(r abcitypes.ResponseApplySnapshotChunk_Result) (*abcitypes.ResponseApplySnapshotChunk, error) {
		return &abcitypes.ResponseApplySnapshotChunk{Result: r}, nil
	}
	x.restore.mu.Lock()
	defer x.restore.mu.Unlock()
	rs := x.restore.rs
	if rs == nil {
		return res(abcitypes.ResponseApplySnapshotChunk_ABORT)
	}
	if req.Index != rs.next || int(req.Index) >= len(rs.meta.ChunkHashes) {
		return &abcitypes.ResponseApplySnapshotChunk{Result: abcitypes.ResponseApplySnapshotChunk_RETRY, RefetchChunks: []uint32{rs.next}}, nil
	}
	sum := sha256.Sum256(req.Chunk)
	if !bytes.Equal(sum[:], rs.meta.ChunkHashes[req.Index]) {
		return &abcitypes.ResponseApplySnapshotChunk{Result: abcitypes.ResponseApplySnapshotChunk_RETRY,
			RefetchChunks: []uint32{req.Index}, RejectSenders: []string{req.Sender}}, nil
	}
	changes, err := decodeChunk(req.Chunk)
	if err != nil {
		return res(abcitypes.ResponseApplySnapshotChunk_REJECT_SNAPSHOT)
	}
	db := x.App.DB()
	root, err := db.Stage(changes)
	if err != nil {
		return nil, err
	}
	rs.next++
	if int(rs.next) < len(rs.meta.ChunkHashes) {
		return res(abcitypes.ResponseApplySnapshotChunk_ACCEPT)
	}
	if !bytes.Equal(root, rs.trusted) {
		x.logger().Error("restored state does not match the trusted app hash", "height", rs.meta.Height)
		db.Discard()
		x.restore.rs = nil
		return res(abcitypes.ResponseApplySnapshotChunk_REJECT_SNAPSHOT)
	}
	if err := db.Commit(rs.meta.Height, rs.meta.TimeNs); err != nil {
		return nil, err
	}
	x.logger().Info("state restored from snapshot", "height", rs.meta.Height, "entries", rs.meta.Entries)
	x.restore.rs = nil
	return res(abcitypes.ResponseApplySnapshotChunk_ACCEPT)
}

func decodeChunk(b []byte) ([]store.Change, error) {
	var out []store.Change
	for len(b) > 0 {
		kl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < kl {
			return nil, errors.New("corrupt chunk")
		}
		k := b[n : n+int(kl)]
		b = b[n+int(kl):]
		vl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < vl || vl == 0 {
			return nil, errors.New("corrupt chunk")
		}
		out = append(out, store.Change{Key: k, Value: b[n : n+int(vl)]})
		b = b[n+int(vl):]
	}
	return out, nil
}
