package store

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Cost per changed key of the Merkle-committed store, against a baseline
// measured in the same run on the same Badger: the same writes as one plain
// Badger transaction with no commitment. Figures are ratios, since the
// machines are shared and noisy.
//
//	go test ./app/store -run '^$' -bench . -benchtime 20x
//	go test ./app/store -run '^$' -bench 'Store/state=1M' -benchtime 20x -cpuprofile cpu.out

func key(i int) []byte {
	return binary.BigEndian.AppendUint64([]byte{0x20, 8}, uint64(i))
}

func val(i, round int) []byte {
	return []byte(fmt.Sprintf("value-%d-round-%d-%s", i, round, "............................................"))
}

// populate commits n keys as one first commit, the way a state-sync
// restore does (one Stage, one Commit written in pieces).
func populate(b *testing.B, db *DB, n int) {
	ch := make([]Change, n)
	for i := range ch {
		ch[i] = Change{Key: key(i), Value: val(i, 0)}
	}
	if _, err := db.Stage(ch); err != nil {
		b.Fatal(err)
	}
	if err := db.Commit(1, 0); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkStore(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run("state="+size.name, func(b *testing.B) {
			dir := b.TempDir()
			db, err := Open(Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			populate(b, db, size.n)
			b.Logf("populated %d keys in %v", size.n, time.Since(t0).Round(time.Millisecond))
			defer func() { db.Close() }()
			for _, per := range []int{1000, 5000} {
				b.Run(fmt.Sprintf("keys-per-block=%d", per), func(b *testing.B) { benchBlocks(b, db, size.n, per) })
			}
			b.Run("prove", func(b *testing.B) { benchProve(b, db, size.n) })
			b.Run("read-miss", func(b *testing.B) { benchReadMiss(b, db, size.n) })
			// What a restart costs, and what the in-memory levels hold
			// (last, so that the blocks above run on a warm store as a
			// running node's do).
			db.Close()
			t0 = time.Now()
			if db, err = Open(Options{Dir: dir}); err != nil {
				b.Fatal(err)
			}
			open := time.Since(t0)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			top, err := db.loadTop(db.height)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(top)
			b.Logf("reopened in %v; the in-memory trie levels take %d MB of heap", open.Round(time.Millisecond), (int64(after.HeapAlloc)-int64(before.HeapAlloc))>>20)
		})
	}
}

func benchBlocks(b *testing.B, db *DB, state, perBlock int) {
	var merkle, raw, stage, merkleCPU, rawCPU time.Duration
	var ratios []float64
	h, _ := db.LastCommit()
	blocks := max(b.N, 20)
	for r := 1; r <= blocks; r++ {
		ch := make([]Change, perBlock)
		for j := range ch {
			i := (int(h)*7919 + j*104729) % state
			ch[j] = Change{Key: key(i), Value: val(i, int(h))}
		}
		c0 := cpuTime()
		t0 := time.Now()
		if _, err := db.Stage(ch); err != nil {
			b.Fatal(err)
		}
		stage += time.Since(t0)
		h++
		if err := db.Commit(h, 0); err != nil {
			b.Fatal(err)
		}
		m := time.Since(t0)
		merkle += m
		c1 := cpuTime()
		merkleCPU += c1 - c0
		// Baseline: the same writes, plain Badger, one transaction.
		t0 = time.Now()
		if err := db.bdb.Update(func(txn *badger.Txn) error {
			for _, c := range ch {
				if err := txn.Set(append([]byte{'x'}, c.Key...), c.Value); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		r := time.Since(t0)
		raw += r
		rawCPU += cpuTime() - c1
		ratios = append(ratios, float64(m)/float64(r))
	}
	keys := float64(blocks * perBlock)
	// The machines are shared: a burst of someone else's load lands on a
	// few blocks of one side. The median of the per-block ratios (each
	// block and its baseline run back to back) is the figure to read.
	slices.Sort(ratios)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(merkle.Nanoseconds())/keys, "ns/key-store")
	b.ReportMetric(float64(stage.Nanoseconds())/keys, "ns/key-stage")
	b.ReportMetric(float64(raw.Nanoseconds())/keys, "ns/key-raw")
	b.ReportMetric(float64(merkle)/float64(raw), "x_raw_sum")
	// CPU time of the whole process (every goroutine, Badger's included)
	// over the same phases: blind to other processes' load.
	b.ReportMetric(float64(merkleCPU)/float64(rawCPU), "x_raw_cpu")
	b.ReportMetric(ratios[len(ratios)/2], "x_raw_badger")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchProve times a proof of a committed key against a plain read of one
// in the same view.
func benchProve(b *testing.B, db *DB, state int) {
	v := db.View()
	defer v.Discard()
	n := max(b.N, 2000)
	t0 := time.Now()
	size := 0
	for i := 0; i < n; i++ {
		e, err := v.Prove(key(i * 7919 % state))
		if err != nil {
			b.Fatal(err)
		}
		size += len(e.Proof)
	}
	prove := time.Since(t0)
	t0 = time.Now()
	for i := 0; i < n; i++ {
		v.GetUncached(key(i * 7919 % state)) // a Badger read, as the proof's value is
	}
	get := time.Since(t0)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(prove.Nanoseconds())/float64(n), "ns/prove")
	b.ReportMetric(float64(get.Nanoseconds())/float64(n), "ns/get")
	b.ReportMetric(float64(size)/float64(n), "proof-bytes")
	b.ReportMetric(float64(prove)/float64(get), "x_plain_get")
}

// benchReadMiss times a state read that misses the value cache (the
// lookup, the Badger read and the insertion of what it read) against a
// raw Badger get of the same key in the same view, in alternating chunks
// so that both meet the same Badger and page caches.
func benchReadMiss(b *testing.B, db *DB, state int) {
	saved := db.values
	db.values = newValueCache(1) // every read of a new key misses
	defer func() { db.values = saved }()
	v := db.View()
	defer v.Discard()
	n := max(b.N, 20_000)
	const chunk = 500
	var miss, raw time.Duration
	for c := 0; c*chunk < n; c++ {
		read := func(cached bool) time.Duration {
			t0 := time.Now()
			for j := 0; j < chunk; j++ {
				k := key(((c*chunk+j)*104729 + boolInt(cached)*7) % state)
				if cached {
					v.Get(k)
					continue
				}
				it, err := v.txn.Get(stateKey(k))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := it.ValueCopy(nil); err != nil {
					b.Fatal(err)
				}
			}
			return time.Since(t0)
		}
		if c%2 == 0 {
			miss += read(true)
			raw += read(false)
		} else {
			raw += read(false)
			miss += read(true)
		}
	}
	reads := float64((n + chunk - 1) / chunk * chunk)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(miss.Nanoseconds())/reads, "ns/get-miss")
	b.ReportMetric(float64(raw.Nanoseconds())/reads, "ns/get-raw")
	b.ReportMetric(float64(miss)/float64(raw), "x_raw_get")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkValueCacheMemory measures the heap one value-cache entry
// takes: a 66-byte key (a customer's) and values of the sizes of the hot
// records, inserted as a view's reads insert them.
func BenchmarkValueCacheMemory(b *testing.B) {
	for _, size := range []int{64, 128, 256} {
		b.Run(fmt.Sprintf("value=%dB", size), func(b *testing.B) {
			const n = 200_000
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c := newValueCache(n)
			for i := 0; i < n; i++ {
				k := make([]byte, 66)
				binary.BigEndian.PutUint64(k[58:], uint64(i))
				c.lru.Add(string(k), cachedValue{val: make([]byte, size), since: 1})
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(c)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/entry")
		})
	}
}
