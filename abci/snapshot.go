package abci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app/store"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
)

// State sync (SPEC §7a). A snapshot is every state entry of one commit,
// streamed from a consistent Badger view into chunk files; a joining node
// verifies each chunk against the hashes in the snapshot's metadata,
// rebuilds the Merkle trie from the entries, and accepts the result only
// if its root equals the app hash CometBFT's light client trusts.
const (
	SnapshotFormat = 1
	chunkSize      = 4 << 20
)

// snapshotMeta is stored next to the chunks and sent as Snapshot.Metadata.
type snapshotMeta struct {
	Height      int64    `json:"height"`
	TimeNs      int64    `json:"time_ns"`
	AppHash     []byte   `json:"app_hash"`
	Entries     int      `json:"entries"`
	ChunkHashes [][]byte `json:"chunk_hashes"`
}

func (m *snapshotMeta) hash() []byte {
	h := sha256.New()
	for _, c := range m.ChunkHashes {
		h.Write(c)
	}
	return h.Sum(nil)
}

// SnapshotStore takes, lists, serves and restores snapshots.
type SnapshotStore struct {
	dir      string
	interval int64
	keep     int
	logger   log.Logger

	wg      sync.WaitGroup // the snapshot being written, if any
	mu      sync.Mutex
	taking  bool
	restore *restoreState
	// inUse records when a snapshot was last listed to or read by a peer:
	// one a joining node is fetching must not be pruned under it, or its
	// state sync retries a vanished chunk forever.
	inUse map[int64]time.Time
}

// snapshotRetention is how long a snapshot a peer showed interest in is
// kept beyond the newest `keep`.
const snapshotRetention = 10 * time.Minute

func (s *SnapshotStore) touch(h int64) {
	s.mu.Lock()
	if s.inUse == nil {
		s.inUse = map[int64]time.Time{}
	}
	s.inUse[h] = time.Now()
	s.mu.Unlock()
}

type restoreState struct {
	meta    snapshotMeta
	trusted []byte
	next    uint32
}

// OpenSnapshotStore serves snapshots from dir, taking one every interval
// blocks and keeping the newest keep.
func OpenSnapshotStore(dir string, interval int64, keep int, logger log.Logger) (*SnapshotStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if keep <= 0 {
		keep = 2
	}
	return &SnapshotStore{dir: dir, interval: interval, keep: keep, logger: logger}, nil
}

// MaybeTake starts writing a snapshot of height in the background when
// height is on the interval. The view is opened before returning, so the
// snapshot is exactly that commit whatever blocks follow.
func (s *SnapshotStore) MaybeTake(db *store.DB, height int64) {
	if s == nil || s.interval <= 0 || height%s.interval != 0 {
		return
	}
	s.mu.Lock()
	if s.taking {
		s.mu.Unlock()
		s.logger.Info("snapshot skipped: the previous one is still being written", "height", height)
		return
	}
	s.taking = true
	s.mu.Unlock()
	v := db.View()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			v.Discard()
			s.mu.Lock()
			s.taking = false
			s.mu.Unlock()
		}()
		if err := s.write(v); err != nil {
			s.logger.Error("snapshot failed", "height", v.Height, "err", err)
			return
		}
		s.prune()
	}()
}

// Wait blocks until a snapshot being written has finished (call it before
// closing the store).
func (s *SnapshotStore) Wait() {
	if s != nil {
		s.wg.Wait()
	}
}

// Take writes a snapshot of the view synchronously (tests, tools).
func (s *SnapshotStore) Take(v *store.View) error { return s.write(v) }

func (s *SnapshotStore) write(v *store.View) error {
	final := filepath.Join(s.dir, strconv.FormatInt(v.Height, 10))
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	tmp := final + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	meta := snapshotMeta{Height: v.Height, TimeNs: v.TimeNs, AppHash: v.Root}
	var buf bytes.Buffer
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		sum := sha256.Sum256(buf.Bytes())
		meta.ChunkHashes = append(meta.ChunkHashes, sum[:])
		name := filepath.Join(tmp, fmt.Sprintf("chunk-%06d", len(meta.ChunkHashes)-1))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return err
		}
		buf.Reset()
		return nil
	}
	it := v.Iterator(nil, nil)
	for ; it.Valid(); it.Next() {
		buf.Write(binary.AppendUvarint(nil, uint64(len(it.Key()))))
		buf.Write(it.Key())
		buf.Write(binary.AppendUvarint(nil, uint64(len(it.Value()))))
		buf.Write(it.Value())
		meta.Entries++
		if buf.Len() >= chunkSize {
			if err := flush(); err != nil {
				it.Close()
				return err
			}
		}
	}
	it.Close()
	if err := flush(); err != nil {
		return err
	}
	bz, _ := json.Marshal(meta)
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), bz, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	s.logger.Info("snapshot taken", "height", v.Height, "entries", meta.Entries, "chunks", len(meta.ChunkHashes))
	return nil
}

func (s *SnapshotStore) heights() []int64 {
	ents, _ := os.ReadDir(s.dir)
	var hs []int64
	for _, e := range ents {
		if h, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && e.IsDir() {
			hs = append(hs, h)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] > hs[j] })
	return hs
}

// Prune removes snapshots beyond the newest keep that no peer used lately.
func (s *SnapshotStore) Prune() { s.prune() }

func (s *SnapshotStore) prune() {
	for i, h := range s.heights() {
		if i < s.keep {
			continue
		}
		s.mu.Lock()
		used, ok := s.inUse[h]
		if ok && time.Since(used) < snapshotRetention {
			s.mu.Unlock()
			continue
		}
		delete(s.inUse, h)
		s.mu.Unlock()
		os.RemoveAll(filepath.Join(s.dir, strconv.FormatInt(h, 10)))
	}
}

func (s *SnapshotStore) meta(h int64) (*snapshotMeta, error) {
	bz, err := os.ReadFile(filepath.Join(s.dir, strconv.FormatInt(h, 10), "meta.json"))
	if err != nil {
		return nil, err
	}
	var m snapshotMeta
	return &m, json.Unmarshal(bz, &m)
}

func (x *Application) ListSnapshots(context.Context, *abcitypes.RequestListSnapshots) (*abcitypes.ResponseListSnapshots, error) {
	out := &abcitypes.ResponseListSnapshots{}
	s := x.Snapshots
	if s == nil {
		return out, nil
	}
	for _, h := range s.heights() {
		m, err := s.meta(h)
		if err != nil {
			continue
		}
		s.touch(h)
		md, _ := json.Marshal(m)
		out.Snapshots = append(out.Snapshots, &abcitypes.Snapshot{Height: uint64(h), Format: SnapshotFormat,
			Chunks: uint32(len(m.ChunkHashes)), Hash: m.hash(), Metadata: md})
	}
	return out, nil
}

func (x *Application) LoadSnapshotChunk(_ context.Context, req *abcitypes.RequestLoadSnapshotChunk) (*abcitypes.ResponseLoadSnapshotChunk, error) {
	if x.Snapshots == nil || req.Format != SnapshotFormat {
		return &abcitypes.ResponseLoadSnapshotChunk{}, nil
	}
	x.Snapshots.touch(int64(req.Height))
	bz, err := os.ReadFile(filepath.Join(x.Snapshots.dir, strconv.FormatUint(req.Height, 10), fmt.Sprintf("chunk-%06d", req.Chunk)))
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
	var m snapshotMeta
	if err := json.Unmarshal(snap.Metadata, &m); err != nil || uint64(m.Height) != snap.Height ||
		uint32(len(m.ChunkHashes)) != snap.Chunks || !bytes.Equal(m.hash(), snap.Hash) || !bytes.Equal(m.AppHash, req.AppHash) {
		return reject(abcitypes.ResponseOfferSnapshot_REJECT)
	}
	x.App.DB().Discard()
	if x.Snapshots == nil {
		x.Snapshots = &SnapshotStore{logger: log.NewNopLogger()}
	}
	x.Snapshots.mu.Lock()
	x.Snapshots.restore = &restoreState{meta: m, trusted: req.AppHash}
	x.Snapshots.mu.Unlock()
	return &abcitypes.ResponseOfferSnapshot{Result: abcitypes.ResponseOfferSnapshot_ACCEPT}, nil
}

func (x *Application) ApplySnapshotChunk(_ context.Context, req *abcitypes.RequestApplySnapshotChunk) (*abcitypes.ResponseApplySnapshotChunk, error) {
	s := x.Snapshots
	res := func(r abcitypes.ResponseApplySnapshotChunk_Result) (*abcitypes.ResponseApplySnapshotChunk, error) {
		return &abcitypes.ResponseApplySnapshotChunk{Result: r}, nil
	}
	if s == nil || s.restore == nil {
		return res(abcitypes.ResponseApplySnapshotChunk_ABORT)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.restore
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
		s.logger.Error("restored state does not match the trusted app hash", "height", rs.meta.Height)
		db.Discard()
		s.restore = nil
		return res(abcitypes.ResponseApplySnapshotChunk_REJECT_SNAPSHOT)
	}
	if err := db.Commit(rs.meta.Height, rs.meta.TimeNs); err != nil {
		return nil, err
	}
	s.logger.Info("state restored from snapshot", "height", rs.meta.Height, "entries", rs.meta.Entries)
	s.restore = nil
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
