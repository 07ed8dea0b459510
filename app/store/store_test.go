package store

import (
	"bytes"
	"fmt"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// model is the reference: a plain map, iterated by sorting its keys.
type model map[string][]byte

func (m model) rangeKeys(start, end []byte, reverse bool) []string {
	var ks []string
	for k := range m {
		if bytes.Compare([]byte(k), start) >= 0 && (end == nil || bytes.Compare([]byte(k), end) < 0) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	if reverse {
		for i, j := 0, len(ks)-1; i < j; i, j = i+1, j-1 {
			ks[i], ks[j] = ks[j], ks[i]
		}
	}
	return ks
}

func drain(it Iterator) (ks []string, vs [][]byte) {
	defer it.Close()
	for ; it.Valid(); it.Next() {
		ks = append(ks, string(it.Key()))
		vs = append(vs, append([]byte(nil), it.Value()...))
	}
	return
}

func checkAgainst(t *rapid.T, r Reader, m model) {
	keyGen := rapid.SliceOfN(rapid.ByteRange(0, 4), 0, 3)
	for i := 0; i < 5; i++ {
		start := keyGen.Draw(t, "start")
		var end []byte
		if rapid.Bool().Draw(t, "bounded") {
			end = keyGen.Draw(t, "end")
		}
		for _, rev := range []bool{false, true} {
			var it Iterator
			if rev {
				it = r.ReverseIterator(start, end)
			} else {
				it = r.Iterator(start, end)
			}
			got, vals := drain(it)
			want := m.rangeKeys(start, end, rev)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("range [%x,%x) rev=%v: got %q want %q", start, end, rev, got, want)
			}
			for j, k := range got {
				if !bytes.Equal(vals[j], m[k]) {
					t.Fatalf("value of %x: got %x want %x", k, vals[j], m[k])
				}
			}
		}
	}
	for k, v := range m {
		if !bytes.Equal(r.Get([]byte(k)), v) {
			t.Fatalf("Get(%x) mismatch", k)
		}
	}
}

// TestCacheMatchesModel drives a MemKV base and two stacked branches with
// random writes and compares every read with the map model.
func TestCacheMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := NewMemKV()
		mBase := model{}
		keyGen := rapid.SliceOfN(rapid.ByteRange(0, 4), 1, 3)
		valGen := rapid.SliceOfN(rapid.Byte(), 1, 4)
		for i, n := 0, rapid.IntRange(0, 20).Draw(t, "n"); i < n; i++ {
			k, v := keyGen.Draw(t, "k"), valGen.Draw(t, "v")
			base.Set(k, v)
			mBase[string(k)] = v
		}
		block := NewCache(base)
		mBlock := model{}
		for k, v := range mBase {
			mBlock[k] = v
		}
		tx := NewCache(block)
		mTx := model{}
		apply := func(kv KV, m model) {
			for i, n := 0, rapid.IntRange(0, 20).Draw(t, "ops"); i < n; i++ {
				k := keyGen.Draw(t, "k")
				if rapid.Bool().Draw(t, "del") {
					kv.Delete(k)
					delete(m, string(k))
				} else {
					v := valGen.Draw(t, "v")
					kv.Set(k, v)
					m[string(k)] = v
				}
			}
		}
		apply(block, mBlock)
		for k, v := range mBlock {
			mTx[k] = v
		}
		apply(tx, mTx)
		checkAgainst(t, block, mBlock)
		checkAgainst(t, tx, mTx)
		if rapid.Bool().Draw(t, "commitTx") {
			tx.Write(block)
			checkAgainst(t, block, mTx)
		} else {
			checkAgainst(t, block, mBlock) // a dropped branch leaves no trace
		}
	})
}

func TestDBCommitReopenAndProofs(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := db.LastCommit(); h != 0 {
		t.Fatalf("fresh db at height %d", h)
	}
	changes := []Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}, {Key: []byte("c"), Value: []byte("3")}}
	root1, err := db.Stage(changes)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(1, 0); err != nil {
		t.Fatal(err)
	}
	root2, err := db.Stage([]Change{{Key: []byte("b")}, {Key: []byte("d"), Value: []byte("4")}, {Key: []byte("zz")}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(root1, root2) {
		t.Fatal("root did not change")
	}
	if err := db.Commit(2, 0); err != nil {
		t.Fatal(err)
	}
	// The same writes applied to a fresh in-memory DB give the same root:
	// the root depends on content, not on history.
	mem, _ := Open(Options{InMemory: true})
	r, _ := mem.Stage([]Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("c"), Value: []byte("3")}, {Key: []byte("d"), Value: []byte("4")}})
	if !bytes.Equal(r, root2) {
		t.Fatalf("root depends on history: %X vs %X", r, root2)
	}
	mem.Close()
	db.Close()

	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, root := db.LastCommit()
	if h != 2 || !bytes.Equal(root, root2) {
		t.Fatalf("reopened at %d %X, want 2 %X", h, root, root2)
	}
	v := db.View()
	defer v.Discard()
	ks, _ := drain(v.Iterator(nil, nil))
	if fmt.Sprint(ks) != "[a c d]" {
		t.Fatalf("state after reopen: %v", ks)
	}
	for _, k := range []string{"a", "c", "d", "b", "nope"} {
		e, err := v.Prove([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyEntry(e, root); err != nil {
			t.Fatalf("verify %q: %v", k, err)
		}
		// Tampered value fails.
		bad := *e
		if e.Exists {
			bad.Value = append([]byte("x"), e.Value...)
		} else {
			bad.Value, bad.Exists = []byte("forged"), true
		}
		if VerifyEntry(&bad, root) == nil {
			t.Fatalf("tampered %q verified", k)
		}
		// Wrong app hash fails.
		if VerifyEntry(e, root1) == nil {
			t.Fatalf("proof of %q verified against the wrong root", k)
		}
	}
}

func TestStagedWritesLostWithoutCommit(t *testing.T) {
	dir := t.TempDir()
	db, _ := Open(Options{Dir: dir})
	db.Stage([]Change{{Key: []byte("a"), Value: []byte("1")}})
	db.Commit(1, 0)
	db.Stage([]Change{{Key: []byte("b"), Value: []byte("2")}})
	db.Close()
	db, _ = Open(Options{Dir: dir})
	defer db.Close()
	v := db.View()
	defer v.Discard()
	if v.Get([]byte("b")) != nil || v.Get([]byte("a")) == nil {
		t.Fatal("uncommitted write survived or committed one was lost")
	}
}
