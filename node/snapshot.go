package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app"
	"github.com/cometbft/cometbft/libs/log"
)

// SnapshotStore keeps this node's state-sync snapshots on disk (one
// directory per height: chunk files and meta.json), takes one every
// interval blocks in the background and keeps the newest keep, plus any a
// peer used lately. The format and the ABCI methods serving it are
// abci's (abci/snapshot.go); this is abci.SnapshotStore.
type SnapshotStore struct {
	dir      string
	interval int64
	keep     int
	app      *app.App
	logger   log.Logger

	wg     sync.WaitGroup // the snapshot being written, if any
	mu     sync.Mutex
	taking bool
	// inUse records when a snapshot was last listed to or read by a peer:
	// one a joining node is fetching must not be pruned under it, or its
	// state sync retries a vanished chunk forever.
	inUse map[int64]time.Time
}

var _ abci.SnapshotStore = (*SnapshotStore)(nil)

// snapshotRetention is how long a snapshot a peer showed interest in is
// kept beyond the newest `keep`.
const snapshotRetention = 10 * time.Minute

// OpenSnapshotStore serves snapshots of a's state from dir, taking one
// every interval blocks and keeping the newest keep.
func OpenSnapshotStore(dir string, interval int64, keep int, a *app.App, logger log.Logger) (*SnapshotStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if keep <= 0 {
		keep = 2
	}
	return &SnapshotStore{dir: dir, interval: interval, keep: keep, app: a, logger: logger}, nil
}

func (s *SnapshotStore) touch(h int64) {
	s.mu.Lock()
	if s.inUse == nil {
		s.inUse = map[int64]time.Time{}
	}
	s.inUse[h] = time.Now()
	s.mu.Unlock()
}

// Committed starts writing a snapshot of height in the background when
// height is on the interval. The commit is opened before returning, so
// the snapshot is exactly that commit whatever blocks follow.
func (s *SnapshotStore) Committed(height int64) {
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
	e := s.app.SnapshotView()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			e.Close()
			s.mu.Lock()
			s.taking = false
			s.mu.Unlock()
		}()
		if err := s.write(e); err != nil {
			s.logger.Error("snapshot failed", "height", e.Height, "err", err)
			return
		}
		s.Prune()
	}()
}

// Wait blocks until a snapshot being written has finished (call it before
// closing the state).
func (s *SnapshotStore) Wait() {
	if s != nil {
		s.wg.Wait()
	}
}

// Take writes a snapshot of the last commit synchronously (tests, tools).
func (s *SnapshotStore) Take() error {
	e := s.app.SnapshotView()
	defer e.Close()
	return s.write(e)
}

func (s *SnapshotStore) write(e *app.StateExport) error {
	final := filepath.Join(s.dir, strconv.FormatInt(e.Height, 10))
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	tmp := final + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	meta, err := abci.WriteSnapshot(e, func(i int, chunk []byte) error {
		return os.WriteFile(filepath.Join(tmp, chunkName(i)), chunk, 0o644)
	})
	if err != nil {
		return err
	}
	bz, _ := json.Marshal(meta)
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), bz, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	s.logger.Info("snapshot taken", "height", e.Height, "entries", meta.Entries, "chunks", len(meta.ChunkHashes))
	return nil
}

func chunkName(i int) string { return fmt.Sprintf("chunk-%06d", i) }

// Heights lists the snapshots kept, newest first.
func (s *SnapshotStore) Heights() []int64 {
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
func (s *SnapshotStore) Prune() {
	for i, h := range s.Heights() {
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

// Meta reads a snapshot's metadata, marking it in use.
func (s *SnapshotStore) Meta(h int64) (*abci.SnapshotMeta, error) {
	bz, err := os.ReadFile(filepath.Join(s.dir, strconv.FormatInt(h, 10), "meta.json"))
	if err != nil {
		return nil, err
	}
	var m abci.SnapshotMeta
	if err := json.Unmarshal(bz, &m); err != nil {
		return nil, err
	}
	s.touch(h)
	return &m, nil
}

// Chunk reads a snapshot's chunk, marking the snapshot in use.
func (s *SnapshotStore) Chunk(h int64, index uint32) ([]byte, error) {
	s.touch(h)
	return os.ReadFile(filepath.Join(s.dir, strconv.FormatInt(h, 10), chunkName(int(index))))
}
