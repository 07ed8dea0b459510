package store

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

func openMem(t tb, o Options) *DB {
	t.Helper()
	o.InMemory = true
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func cloneModel(m map[string][]byte) map[string][]byte {
	c := make(map[string][]byte, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestValueCacheMatchesBadger drives the store with random blocks while
// views of older heights stay open and random keys are warmed between and
// during commits, with small value and bucket caches (so that entries are
// evicted and read again). After every commit every open view must read,
// through the value cache, exactly what Badger holds at its height and what
// the model held then; every staged root must equal the reference root
// (buckets preloaded in parallel, or warmed, are the committed ones); and
// fresh views' proofs must verify.
func TestValueCacheMatchesBadger(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		db := openMem(t, Options{
			MemTableSize:      smallMemTable,
			memDepth:          rapid.IntRange(1, 2).Draw(t, "memDepth"),
			ValueCacheEntries: rapid.IntRange(1, 64).Draw(t, "valueCache"),
			NodeCacheSize:     rapid.IntRange(1, 64).Draw(t, "nodeCache"),
		})
		defer db.Close()
		nkeys := rapid.IntRange(20, 400).Draw(t, "keys")
		key := func(i int) []byte { return []byte(fmt.Sprintf("key-%d", i)) }
		var all [][]byte
		for i := 0; i < nkeys+5; i++ {
			all = append(all, key(i))
		}
		m := map[string][]byte{}
		type open struct {
			v *View
			m map[string][]byte
		}
		var views []open
		defer func() {
			for _, o := range views {
				o.v.Discard()
			}
		}()
		for h := int64(1); h <= int64(rapid.IntRange(2, 8).Draw(t, "blocks")); h++ {
			// Warm a random subset concurrently with this block's staging
			// and commit.
			var warm [][]byte
			for _, i := range rapid.SliceOfN(rapid.IntRange(0, nkeys+4), 0, 60).Draw(t, "warm") {
				warm = append(warm, key(i))
			}
			wait := db.Warm(warm, [][]byte{[]byte("key-1")})
			var ch []Change
			for _, i := range rapid.SliceOfN(rapid.IntRange(0, nkeys-1), 1, 200).Draw(t, "writes") {
				k := key(i)
				if h > 1 && i%7 == 0 {
					ch = append(ch, Change{Key: k})
					delete(m, string(k))
					continue
				}
				v := []byte(fmt.Sprintf("v%d-%d", h, i))
				ch = append(ch, Change{Key: k, Value: v})
				m[string(k)] = v
			}
			root := mustStage(t, db, ch)
			if want := refRoot(m); !bytes.Equal(root, want) {
				t.Fatalf("height %d: root %x, reference %x", h, root, want)
			}
			mustCommit(t, db, h)
			wait()
			if rapid.Bool().Draw(t, "keepView") {
				views = append(views, open{db.View(), cloneModel(m)})
			}
			for _, o := range append(views, open{db.View(), m}) {
				for _, k := range all {
					got, raw := o.v.Get(k), o.v.GetUncached(k)
					if !bytes.Equal(got, raw) || !bytes.Equal(got, o.m[string(k)]) {
						t.Fatalf("view of height %d after commit %d: %s = %q, Badger %q, model %q", o.v.Height, h, k, got, raw, o.m[string(k)])
					}
				}
			}
			cur := db.View()
			checkProofs(t, cur, m, all)
			cur.Discard()
		}
	})
}

// TestWarmRacesCommits warms every key from other goroutines, without
// pause, while blocks rewrite them: no stale value or bucket may survive a
// commit, so reads and proofs of the new height are always right.
func TestWarmRacesCommits(t *testing.T) {
	db := openMem(t, Options{NodeCacheSize: 8, memDepth: 1})
	defer db.Close()
	var keys [][]byte
	m := map[string][]byte{}
	var ch []Change
	for i := 0; i < 300; i++ {
		k := []byte(fmt.Sprintf("k%d", i))
		keys = append(keys, k)
		m[string(k)] = []byte("v0")
		ch = append(ch, Change{Key: k, Value: m[string(k)]})
	}
	mustStage(t, db, ch)
	mustCommit(t, db, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					db.Warm(keys, nil)()
				}
			}
		}()
	}
	for h := int64(2); h <= 30; h++ {
		var ch []Change
		for i := int(h) % 3; i < len(keys); i += 3 {
			v := []byte(fmt.Sprintf("v%d", h))
			ch = append(ch, Change{Key: keys[i], Value: v})
			m[string(keys[i])] = v
		}
		mustStage(t, db, ch)
		mustCommit(t, db, h)
		v := db.View()
		for _, k := range keys {
			if got := v.Get(k); !bytes.Equal(got, m[string(k)]) {
				t.Fatalf("height %d: %s = %q, want %q", h, k, got, m[string(k)])
			}
		}
		checkProofs(t, v, m, keys)
		v.Discard()
	}
	close(stop)
	wg.Wait()
	if s := db.ValueCacheStats(); s.Hits == 0 || s.Misses == 0 || s.Entries == 0 {
		t.Fatalf("value cache stats %+v: expected hits, misses and entries", s)
	}
}

// TestWarmFillsValueCache: after Warm, reading the warmed keys (present
// and absent) hits the cache, and the hit rate says so.
func TestWarmFillsValueCache(t *testing.T) {
	db := openMem(t, Options{})
	defer db.Close()
	mustStage(t, db, []Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}})
	mustCommit(t, db, 1)
	db.Warm([][]byte{[]byte("a"), []byte("b"), []byte("absent")}, nil)()
	before := db.ValueCacheStats()
	v := db.View()
	defer v.Discard()
	if string(v.Get([]byte("a"))) != "1" || string(v.Get([]byte("b"))) != "2" || v.Get([]byte("absent")) != nil {
		t.Fatal("wrong values")
	}
	after := db.ValueCacheStats()
	if after.Hits-before.Hits != 3 || after.Misses != before.Misses {
		t.Fatalf("stats before %+v after %+v: want 3 more hits and no more misses", before, after)
	}
	v.Get([]byte("never-read"))
	if s := db.ValueCacheStats(); s.Misses != after.Misses+1 || s.HitRate() <= 0 || s.HitRate() >= 1 {
		t.Fatalf("stats %+v after a cold read", s)
	}
}

// TestCommitStats: a commit reports the state keys, bytes and deletes it
// wrote and the top entries (journal and partition).
func TestCommitStats(t *testing.T) {
	db := openMem(t, Options{})
	defer db.Close()
	mustStage(t, db, []Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("bb"), Value: []byte("22")}})
	mustCommit(t, db, 1)
	mustStage(t, db, []Change{{Key: []byte("a")}, {Key: []byte("bb"), Value: []byte("333")}})
	mustCommit(t, db, 2)
	s := db.LastCommitStats()
	if s.StateKeys != 1 || s.StateBytes != 1+2+3 || s.StateDeletes != 1 || s.TopEntries != 2 || s.TopBytes == 0 {
		t.Fatalf("stats %+v", s)
	}
}
