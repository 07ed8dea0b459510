package store

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Cost per updated key of the Merkle-committed store, against a baseline
// measured in the same run: the same writes as one plain Badger
// transaction with no commitment. Figures are ratios, since the machines
// are shared and noisy.

func key(i int) []byte {
	return binary.BigEndian.AppendUint64([]byte{0x20, 8}, uint64(i))
}

func val(i, round int) []byte {
	return []byte(fmt.Sprintf("value-%d-round-%d-%s", i, round, "............................................"))
}

func populate(b *testing.B, db *DB, n int) {
	const batch = 20000
	for start := 0; start < n; start += batch {
		var ch []Change
		for i := start; i < min(n, start+batch); i++ {
			ch = append(ch, Change{Key: key(i), Value: val(i, 0)})
		}
		if _, err := db.Stage(ch); err != nil {
			b.Fatal(err)
		}
		if err := db.Commit(int64(start/batch+1), 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	const state, perBlock = 100_000, 1000
	dir := b.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	populate(b, db, state)
	h, _ := db.LastCommit()
	b.Run("state=100k/keys-per-block=1000", func(b *testing.B) { benchBlocks(b, db, &h, state, perBlock) })
}

func benchBlocks(b *testing.B, db *DB, h *int64, state, perBlock int) {
	var merkle, raw time.Duration
	blocks := max(b.N, 20)
	for r := 1; r <= blocks; r++ {
		ch := make([]Change, perBlock)
		for j := range ch {
			i := (r*7919 + j*104729) % state
			ch[j] = Change{Key: key(i), Value: val(i, r)}
		}
		t0 := time.Now()
		if _, err := db.Stage(ch); err != nil {
			b.Fatal(err)
		}
		*h++
		if err := db.Commit(*h, 0); err != nil {
			b.Fatal(err)
		}
		merkle += time.Since(t0)
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
		raw += time.Since(t0)
	}
	keys := float64(blocks * perBlock)
	b.ReportMetric(float64(merkle.Nanoseconds())/keys, "ns/key-merkle")
	b.ReportMetric(float64(raw.Nanoseconds())/keys, "ns/key-raw")
	b.ReportMetric(float64(merkle)/float64(raw), "x_raw_badger")
}

func BenchmarkProve(b *testing.B) {
	db, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	populate(b, db, 100_000)
	v := db.View()
	defer v.Discard()
	// Sub-benchmark so the state is built once, not once per b.N round.
	b.Run("keys=100k", func(b *testing.B) {
		t0 := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := v.Prove(key(i * 7919 % 100_000)); err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(t0)
		// Baseline in the same run: a plain read of one committed key.
		t0 = time.Now()
		for i := 0; i < b.N; i++ {
			v.Get(key(i * 7919 % 100_000))
		}
		b.ReportMetric(float64(el)/float64(time.Since(t0)), "x_plain_get")
	})
}
