package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"pgregory.net/rapid"
)

// refRoot computes the root of a key-value set from scratch, by the
// definition in trie.go: no incremental update, no storage.
func refRoot(m map[string][]byte) []byte {
	type ent struct{ kh, vh hash }
	var es []ent
	for k, v := range m {
		es = append(es, ent{sha256.Sum256([]byte(k)), sha256.Sum256(v)})
	}
	sort.Slice(es, func(i, j int) bool { return bytes.Compare(es[i].kh[:], es[j].kh[:]) < 0 })
	var sub func(es []ent, d int) hash
	sub = func(es []ent, d int) hash {
		var occ uint16
		pre := []byte{0x01, 0, 0}
		for s := 0; s < 16; s++ {
			var group []ent
			for _, e := range es {
				if nibble(&e.kh, d) == s {
					group = append(group, e)
				}
			}
			switch len(group) {
			case 0:
				continue
			case 1:
				h := sha256.Sum256(slices.Concat([]byte{0}, group[0].kh[:], group[0].vh[:]))
				pre = append(pre, h[:]...)
			default:
				h := sub(group, d+1)
				pre = append(pre, h[:]...)
			}
			occ |= 1 << s
		}
		binary.BigEndian.PutUint16(pre[1:], occ)
		return sha256.Sum256(pre)
	}
	h := sub(es, 0)
	return h[:]
}

// tb is what these helpers need of testing.TB and rapid.T alike.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Test layouts and sizes (Options): a small memDepth puts the persisted
// levels where a few hundred keys reach them; few topParts let a few
// commits roll through every checkpoint partition.

// smallMemTable is an 8 MB memtable: quicker to open and close in property
// tests that open many, and one transaction then holds about 1.2 MB, so
// that a test reaches the one-transaction limit with few keys.
const smallMemTable = 8 << 20

// openDir opens the store at dir with options o.
func openDir(t tb, o Options, dir string) *DB {
	t.Helper()
	o.Dir = dir
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func mustStage(t tb, db *DB, ch []Change) []byte {
	t.Helper()
	r, err := db.Stage(ch)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustCommit(t tb, db *DB, h int64) {
	t.Helper()
	if err := db.Commit(h, h*1000); err != nil {
		t.Fatal(err)
	}
}

// checkProofs proves every key in keys from v and verifies each against
// v.Root, with the value m holds (or absence).
func checkProofs(t tb, v *View, m map[string][]byte, keys [][]byte) {
	t.Helper()
	for _, k := range keys {
		e, err := v.Prove(k)
		if err != nil {
			t.Fatalf("prove %x: %v", k, err)
		}
		if !bytes.Equal(e.Value, m[string(k)]) {
			t.Fatalf("proven value of %x: %x, want %x", k, e.Value, m[string(k)])
		}
		if err := VerifyEntry(e, v.Root); err != nil {
			t.Fatalf("verify %x: %v", k, err)
		}
	}
}

// TestRootMatchesReference drives the store with random blocks (sets and
// deletes over a small key space, each block split into random Stage
// calls), on disk, with the persisted levels at depth 1, 2 or the default,
// and checks after every commit: the root equals the from-scratch
// reference of the model; every value and every proof (present and absent
// keys) is right; a reopen gives the same root and values.
func TestRootMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := Options{
			memDepth:     rapid.SampledFrom([]int{1, 2, 5}).Draw(t, "memDepth"),
			topParts:     rapid.SampledFrom([]int{1, 3, fullParts}).Draw(t, "topParts"),
			MemTableSize: smallMemTable,
		}
		dir, err := os.MkdirTemp("", "store-prop")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		db := openDir(t, o, dir)
		defer func() { db.Close() }()
		m := map[string][]byte{}
		space := rapid.IntRange(1, 400).Draw(t, "keySpace")
		keyOf := func(i int) []byte { return []byte(fmt.Sprintf("k%d", i)) }
		blocks := rapid.IntRange(1, 6).Draw(t, "blocks")
		for h := int64(1); h <= int64(blocks); h++ {
			var ch []Change
			for i, n := 0, rapid.IntRange(0, 300).Draw(t, "writes"); i < n; i++ {
				k := keyOf(rapid.IntRange(0, space-1).Draw(t, "key"))
				if rapid.IntRange(0, 3).Draw(t, "op") == 0 {
					ch = append(ch, Change{Key: k})
				} else {
					ch = append(ch, Change{Key: k, Value: []byte(fmt.Sprintf("v%d-%d", h, i))})
				}
			}
			var root []byte
			for rest := ch; ; {
				cut := rapid.IntRange(0, len(rest)).Draw(t, "cut")
				root = mustStage(t, db, rest[:cut])
				if rest = rest[cut:]; len(rest) == 0 {
					break
				}
			}
			for _, c := range ch {
				if c.Value == nil {
					delete(m, string(c.Key))
				} else {
					m[string(c.Key)] = c.Value
				}
			}
			if want := refRoot(m); !bytes.Equal(root, want) {
				t.Fatalf("height %d: staged root %X, reference %X", h, root, want)
			}
			mustCommit(t, db, h)
			if rapid.Bool().Draw(t, "reopen") {
				db.Close()
				db = openDir(t, o, dir)
			}
			gotH, gotRoot := db.LastCommit()
			if gotH != h || !bytes.Equal(gotRoot, root) {
				t.Fatalf("last commit %d %X, want %d %X", gotH, gotRoot, h, root)
			}
			v := db.View()
			var keys [][]byte
			for i := 0; i < space+3; i++ {
				keys = append(keys, keyOf(i))
			}
			for _, k := range keys {
				if !bytes.Equal(v.Get(k), m[string(k)]) {
					t.Fatalf("Get(%s) = %q, want %q", k, v.Get(k), m[string(k)])
				}
			}
			checkProofs(t, v, m, keys)
			v.Discard()
		}
	})
}

// TestRootIndependentOfOrderAndBatching stages one key-value set in
// different orders, split into different Stage calls and commits, with
// detours (keys written then deleted, values overwritten), and expects one
// root: a state-sync restore (every entry in one Stage) must reproduce the
// app hash of a chain that built the state block by block.
func TestRootIndependentOfOrderAndBatching(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := Options{
			InMemory:     true,
			MemTableSize: smallMemTable,
			memDepth:     rapid.SampledFrom([]int{1, 2, 5}).Draw(t, "memDepth"),
		}
		n := rapid.IntRange(0, 500).Draw(t, "n")
		final := make([]Change, n)
		for i := range final {
			final[i] = Change{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("val-%d", i*i))}
		}
		one, _ := Open(o)
		defer one.Close()
		want := mustStage(t, one, final)
		mustCommit(t, one, 1)

		db, _ := Open(o)
		defer db.Close()
		perm := rapid.Permutation(final).Draw(t, "order")
		var h int64
		for len(perm) > 0 {
			cut := rapid.IntRange(1, len(perm)).Draw(t, "cut")
			var ch []Change
			for _, c := range perm[:cut] {
				if rapid.IntRange(0, 4).Draw(t, "detour") == 0 {
					ch = append(ch, Change{Key: c.Key, Value: []byte("transient")})
				}
				ch = append(ch, c)
			}
			if rapid.Bool().Draw(t, "ghost") {
				ghost := []byte(fmt.Sprintf("ghost-%d", len(perm)))
				ch = append(ch, Change{Key: ghost, Value: []byte("x")}, Change{Key: ghost})
			}
			mustStage(t, db, ch)
			perm = perm[cut:]
			if rapid.Bool().Draw(t, "commit") || len(perm) == 0 {
				h++
				mustCommit(t, db, h)
			}
		}
		if _, got := db.LastCommit(); n > 0 && !bytes.Equal(got, want) {
			t.Fatalf("root after batches %X, in one Stage %X", got, want)
		}
		if want2 := refRoot(changesMap(final)); !bytes.Equal(want, want2) {
			t.Fatalf("root %X, reference %X", want, want2)
		}
	})
}

func changesMap(ch []Change) map[string][]byte {
	m := map[string][]byte{}
	for _, c := range ch {
		if c.Value == nil {
			delete(m, string(c.Key))
		} else {
			m[string(c.Key)] = c.Value
		}
	}
	return m
}

func TestEmptyRoot(t *testing.T) {
	if !bytes.Equal(EmptyRoot(), refRoot(nil)) {
		t.Fatalf("EmptyRoot %X, reference %X", EmptyRoot(), refRoot(nil))
	}
	db, _ := Open(Options{InMemory: true})
	defer db.Close()
	if r := mustStage(t, db, nil); !bytes.Equal(r, EmptyRoot()) {
		t.Fatalf("root of nothing %X", r)
	}
	r := mustStage(t, db, []Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}})
	if bytes.Equal(r, EmptyRoot()) {
		t.Fatal("root did not change")
	}
	mustCommit(t, db, 1)
	// Deleting everything (and a key that never existed) returns to the
	// empty root, and absence is provable there.
	r = mustStage(t, db, []Change{{Key: []byte("a")}, {Key: []byte("b")}, {Key: []byte("never")}})
	if !bytes.Equal(r, EmptyRoot()) {
		t.Fatalf("root after deleting everything %X, want %X", r, EmptyRoot())
	}
	mustCommit(t, db, 2)
	v := db.View()
	defer v.Discard()
	checkProofs(t, v, nil, [][]byte{[]byte("a"), []byte("zz")})
}

// provenFixture is a committed on-disk store whose persisted levels hold
// most keys, and proofs of a present and an absent key from it.
func provenFixture(t *testing.T) (db *DB, present, absent *View) {
	db = openDir(t, Options{memDepth: 2}, t.TempDir())
	t.Cleanup(func() { db.Close() })
	var ch []Change
	for i := 0; i < 2000; i++ {
		ch = append(ch, Change{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	mustStage(t, db, ch)
	mustCommit(t, db, 1)
	v := db.View()
	t.Cleanup(v.Discard)
	return db, v, v
}

// TestTamperedProofsFail changes every byte of a membership and of an
// absence proof in turn, the value, the key and the root, and expects each
// to be refused.
func TestTamperedProofsFail(t *testing.T) {
	_, v, _ := provenFixture(t)
	for _, key := range []string{"k7", "k1999", "absent-1", "absent-2"} {
		e, err := v.Prove([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyEntry(e, v.Root); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if e.Exists != (key[0] == 'k') {
			t.Fatalf("%s: exists=%v", key, e.Exists)
		}
		for i := range e.Proof {
			bad := *e
			bad.Proof = slices.Clone(e.Proof)
			bad.Proof[i] ^= 0x01
			if VerifyEntry(&bad, v.Root) == nil {
				t.Fatalf("%s: proof with byte %d flipped verified", key, i)
			}
		}
		for _, cut := range []int{1, len(e.Proof) - 1} {
			bad := *e
			bad.Proof = e.Proof[:cut]
			if VerifyEntry(&bad, v.Root) == nil {
				t.Fatalf("%s: truncated proof verified", key)
			}
		}
		bad := *e
		bad.Proof = append(slices.Clone(e.Proof), 0)
		if VerifyEntry(&bad, v.Root) == nil {
			t.Fatalf("%s: proof with a trailing byte verified", key)
		}
		bad = *e
		if e.Exists {
			bad.Value = append([]byte("x"), e.Value...)
		} else {
			bad.Value, bad.Exists = []byte("forged"), true
		}
		if VerifyEntry(&bad, v.Root) == nil {
			t.Fatalf("%s: tampered value verified", key)
		}
		if e.Exists {
			bad = *e
			bad.Value, bad.Exists = nil, false
			if VerifyEntry(&bad, v.Root) == nil {
				t.Fatalf("%s: absence claimed with a membership proof verified", key)
			}
		}
		bad = *e
		bad.Key = []byte(key + "x")
		if VerifyEntry(&bad, v.Root) == nil && e.Exists {
			t.Fatalf("%s: proof verified for another key", key)
		}
		wrong := slices.Clone(v.Root)
		wrong[0] ^= 0x80
		if VerifyEntry(e, wrong) == nil {
			t.Fatalf("%s: proof verified against the wrong root", key)
		}
	}
}

// TestOldViewsKeepProving holds a view while later commits rewrite the
// persisted nodes under it: its reads and proofs stay those of its height
// (Badger's snapshot for the nodes and values, its own copy of the upper
// levels), whether or not the node cache holds the newer nodes.
func TestOldViewsKeepProving(t *testing.T) {
	db := openDir(t, Options{memDepth: 1}, t.TempDir())
	defer db.Close()
	m := map[string][]byte{}
	var keys [][]byte
	for i := 0; i < 300; i++ {
		k := []byte(fmt.Sprintf("k%d", i))
		keys = append(keys, k)
		m[string(k)] = []byte("old")
	}
	keys = append(keys, []byte("absent"), []byte("new-0"))
	var ch []Change
	for k, v := range m {
		ch = append(ch, Change{Key: []byte(k), Value: v})
	}
	mustStage(t, db, ch)
	mustCommit(t, db, 1)
	old := db.View()
	defer old.Discard()
	checkProofs(t, old, m, keys) // fills the cache with height-1 nodes
	for h := int64(2); h <= 4; h++ {
		var ch []Change
		for i := 0; i < 300; i += int(h) {
			ch = append(ch, Change{Key: keys[i], Value: []byte(fmt.Sprintf("new-%d", h))})
		}
		ch = append(ch, Change{Key: []byte(fmt.Sprintf("new-%d", h-2)), Value: []byte("y")}, Change{Key: keys[h]})
		mustStage(t, db, ch)
		mustCommit(t, db, h)
	}
	checkProofs(t, old, m, keys)
	cur := db.View()
	defer cur.Discard()
	if bytes.Equal(cur.Root, old.Root) {
		t.Fatal("root did not move")
	}
	e, _ := cur.Prove(keys[0])
	if VerifyEntry(e, old.Root) == nil {
		t.Fatal("a new proof verified against the old root")
	}
}

var errCrash = errors.New("crash")

// copyDir copies a Badger directory as it is on disk at this instant: what
// a machine that lost power now would restart from. Badger preallocates
// its files sparsely, so only their data regions are copied.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := copySparse(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func copySparse(src, dst string) error {
	const seekData, seekHole = 3, 4 // lseek whence values on Linux
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	for off := int64(0); off < fi.Size(); {
		start, err := in.Seek(off, seekData)
		if err != nil {
			break // no data after off
		}
		end, err := in.Seek(start, seekHole)
		if err != nil {
			return err
		}
		buf := make([]byte, end-start)
		if _, err := in.ReadAt(buf, start); err != nil {
			return err
		}
		if _, err := out.WriteAt(buf, start); err != nil {
			return err
		}
		off = end
	}
	return out.Truncate(fi.Size())
}

// TestCrashAtCommitPoints takes a copy of the disk at each commit hook
// point of a block (and makes the commit fail there) and reopens every
// copy: before the atomic write it must be exactly the previous commit,
// after it exactly the new one, each with matching root, values and
// proofs. The hooks are the same points networks/crash_test.go kills a
// node at.
func TestCrashAtCommitPoints(t *testing.T) {
	for _, point := range []string{"before-atomic-write", "after-atomic-write"} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			var image string
			db := openDir(t, Options{memDepth: 2, CommitHook: func(h int64, p string) error {
				if h == 2 && p == point {
					image = copyDir(t, dir)
					return errCrash
				}
				return nil
			}}, dir)
			m1 := map[string][]byte{}
			var ch []Change
			var keys [][]byte
			for i := 0; i < 1500; i++ {
				k := []byte(fmt.Sprintf("k%d", i))
				keys = append(keys, k)
				m1[string(k)] = []byte("one")
				ch = append(ch, Change{Key: k, Value: []byte("one")})
			}
			root1 := mustStage(t, db, ch)
			mustCommit(t, db, 1)
			m2 := map[string][]byte{}
			for k, v := range m1 {
				m2[k] = v
			}
			ch = nil
			for i := 0; i < 1500; i += 3 {
				ch = append(ch, Change{Key: keys[i], Value: []byte("two")})
				m2[string(keys[i])] = []byte("two")
				ch = append(ch, Change{Key: keys[i+1]})
				delete(m2, string(keys[i+1]))
			}
			for i := 0; i < 200; i++ {
				k := []byte(fmt.Sprintf("new%d", i))
				keys = append(keys, k)
				ch = append(ch, Change{Key: k, Value: []byte("two")})
				m2[string(k)] = []byte("two")
			}
			root2 := mustStage(t, db, ch)
			if err := db.Commit(2, 2000); !errors.Is(err, errCrash) {
				t.Fatalf("commit: %v", err)
			}
			db.Close()
			wantH, wantRoot, want := int64(1), root1, m1
			if point == "after-atomic-write" {
				wantH, wantRoot, want = 2, root2, m2
			}
			for _, d := range []string{image, dir} {
				re := openDir(t, Options{memDepth: 2}, d)
				h, root := re.LastCommit()
				if h != wantH || !bytes.Equal(root, wantRoot) {
					t.Fatalf("reopened at %d %X, want %d %X", h, root, wantH, wantRoot)
				}
				v := re.View()
				for _, k := range keys {
					if !bytes.Equal(v.Get(k), want[string(k)]) {
						t.Fatalf("Get(%s) = %q, want %q", k, v.Get(k), want[string(k)])
					}
				}
				checkProofs(t, v, want, keys)
				v.Discard()
				// The interrupted block, replayed, commits the same root.
				if wantH == 1 {
					if r := mustStage(t, re, ch); !bytes.Equal(r, root2) {
						t.Fatalf("replayed root %X, want %X", r, root2)
					}
					mustCommit(t, re, 2)
				}
				re.Close()
			}
		})
	}
}

// TestJournalRollsOver commits many more blocks than there are checkpoint
// partitions, reopening now and then: the root always matches the
// reference, and the journal never holds more than one entry per
// partition (each commit deletes the one no partition needs any more).
func TestJournalRollsOver(t *testing.T) {
	const parts = 5
	o := Options{memDepth: 2, topParts: parts}
	dir := t.TempDir()
	db := openDir(t, o, dir)
	defer func() { db.Close() }()
	m := map[string][]byte{}
	for h := int64(1); h <= 40; h++ {
		var ch []Change
		for i := 0; i < 60; i++ {
			k := []byte(fmt.Sprintf("k%d", (i*11+int(h)*17)%500))
			if (i+int(h))%7 == 0 {
				ch = append(ch, Change{Key: k})
				delete(m, string(k))
				continue
			}
			v := []byte(fmt.Sprintf("h%d-%d", h, i))
			ch = append(ch, Change{Key: k, Value: v})
			m[string(k)] = v
		}
		mustStage(t, db, ch)
		mustCommit(t, db, h)
		if h%6 == 0 {
			db.Close()
			db = openDir(t, o, dir)
		}
		if _, root := db.LastCommit(); !bytes.Equal(root, refRoot(m)) {
			t.Fatalf("height %d: root %X, reference %X", h, root, refRoot(m))
		}
		v := db.View()
		n := 0
		it := v.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsTop, 'j'}})
		for it.Rewind(); it.Valid(); it.Next() {
			if jh := int64(binary.BigEndian.Uint64(it.Item().Key()[2:])); jh <= h-parts+1 {
				t.Fatalf("height %d: journal entry %d outlived every partition", h, jh)
			}
			n++
		}
		it.Close()
		v.Discard()
		if n > parts-1 {
			t.Fatalf("height %d: %d journal entries", h, n)
		}
	}
}

// TestLargeFirstCommit commits a first state larger than one Badger
// transaction (a state-sync restore stages every entry, then commits):
// it is written in pieces, and a crash before its commit record leaves an
// empty store, not a partial one.
func TestLargeFirstCommit(t *testing.T) {
	o := Options{MemTableSize: smallMemTable}
	var ch []Change
	m := map[string][]byte{}
	for i := 0; i < 30000; i++ {
		k, v := []byte(fmt.Sprintf("key-%06d", i)), bytes.Repeat([]byte{byte(i)}, 40)
		ch = append(ch, Change{Key: k, Value: v})
		m[string(k)] = v
	}
	for _, crash := range []bool{true, false} {
		dir := t.TempDir()
		oc := o
		if crash {
			oc.CommitHook = func(int64, string) error { return errCrash }
		}
		db := openDir(t, oc, dir)
		root := mustStage(t, db, ch)
		err := db.Commit(9, 0)
		if crash != (err != nil) {
			t.Fatalf("crash=%v: commit: %v", crash, err)
		}
		db.Close()
		db = openDir(t, o, dir)
		h, got := db.LastCommit()
		v := db.View()
		n := 0
		it := v.Iterator(nil, nil)
		for ; it.Valid(); it.Next() {
			n++
		}
		it.Close()
		if crash {
			if h != 0 || n != 0 {
				t.Fatalf("after a crash mid-restore: height %d, %d entries", h, n)
			}
		} else {
			if h != 9 || !bytes.Equal(got, root) || n != len(ch) {
				t.Fatalf("restored height %d root %X with %d entries, want 9 %X %d", h, got, n, root, len(ch))
			}
			checkProofs(t, v, m, [][]byte{ch[0].Key, ch[29999].Key, []byte("nope")})
		}
		v.Discard()
		db.Close()
	}
}

// TestDiscardLeavesCommitted stages writes and discards them: the next
// block starts from the committed trie (no node of the discarded batch
// leaks into it), and committed views never saw them.
func TestDiscardLeavesCommitted(t *testing.T) {
	db, _ := Open(Options{InMemory: true, memDepth: 1})
	defer db.Close()
	var ch []Change
	for i := 0; i < 500; i++ {
		ch = append(ch, Change{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte("a")})
	}
	root1 := mustStage(t, db, ch)
	mustCommit(t, db, 1)
	for i := range ch {
		ch[i].Value = []byte("b")
	}
	mustStage(t, db, ch)
	db.Discard()
	if r := mustStage(t, db, nil); !bytes.Equal(r, root1) {
		t.Fatalf("after discard the staged root is %X, want %X", r, root1)
	}
	v := db.View()
	defer v.Discard()
	if !bytes.Equal(v.Root, root1) || string(v.Get(ch[0].Key)) != "a" {
		t.Fatal("a discarded write became visible")
	}
}

// TestPartitionsCoverTheTop checks that the checkpoint partitions, walked
// with their pruning, together list every top leaf exactly once.
func TestPartitionsCoverTheTop(t *testing.T) {
	for _, md := range []int{1, 2, 3, 5} {
		db, _ := Open(Options{InMemory: true, memDepth: md})
		var ch []Change
		for i := 0; i < 5000; i++ {
			ch = append(ch, Change{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte("v")})
		}
		mustStage(t, db, ch)
		mustCommit(t, db, 1)
		all := db.lay.topLeaves(db.top, -1)
		seen := map[hash]int{}
		for p := 0; p < db.lay.topParts; p++ {
			part := db.lay.topLeaves(db.top, p)
			for _, kh := range part.upperKeys {
				seen[kh]++
			}
			for _, id := range part.bucketIDs {
				seen[id]++
			}
		}
		if len(seen) != all.len() {
			t.Fatalf("memDepth %d: partitions list %d top leaves, the top has %d", md, len(seen), all.len())
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("memDepth %d: top leaf %x in %d partitions", md, k, n)
			}
		}
		if all.len() == 0 || len(all.bucketIDs) == 0 && md < 5 {
			t.Fatalf("memDepth %d: degenerate top (%d leaves, %d buckets)", md, len(all.upperKeys), len(all.bucketIDs))
		}
		db.Close()
	}
}

// TestLargeCommitThroughRedoLog commits a block larger than one Badger
// transaction on top of existing state: it goes through the redo log and
// is still atomic. A copy of the disk taken before the commit point
// reopens at the previous commit (the orphan log dropped); one taken after
// it reopens at the new commit (the log applied at Open); and the commit
// that runs to the end leaves no log behind.
func TestLargeCommitThroughRedoLog(t *testing.T) {
	o := Options{MemTableSize: smallMemTable}
	small := []Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("1")}}
	m1 := map[string][]byte{"a": []byte("1"), "b": []byte("1")}
	var big []Change
	m2 := map[string][]byte{"a": []byte("1")}
	big = append(big, Change{Key: []byte("b")}) // a delete in the big block
	for i := 0; i < 30000; i++ {
		k, v := []byte(fmt.Sprintf("key-%06d", i)), bytes.Repeat([]byte{byte(i)}, 40)
		big = append(big, Change{Key: k, Value: v})
		m2[string(k)] = v
	}
	keys := [][]byte{[]byte("a"), []byte("b"), big[1].Key, big[30000].Key, []byte("nope")}
	for _, point := range []string{"before-atomic-write", "after-atomic-write", ""} {
		t.Run("crash at "+point, func(t *testing.T) {
			dir := t.TempDir()
			var image string
			oc := o
			oc.CommitHook = func(h int64, p string) error {
				if h == 2 && p == point {
					image = copyDir(t, dir)
					return errCrash
				}
				return nil
			}
			db := openDir(t, oc, dir)
			mustStage(t, db, small)
			mustCommit(t, db, 1)
			root2 := mustStage(t, db, big)
			if !bytes.Equal(root2, refRoot(m2)) {
				t.Fatal("staged root differs from the reference")
			}
			err := db.Commit(2, 0)
			if (point != "") != errors.Is(err, errCrash) || (point == "" && err != nil) {
				t.Fatalf("commit: %v", err)
			}
			db.Close()
			dirs := []string{dir}
			if image != "" {
				dirs = append(dirs, image)
			}
			for _, d := range dirs {
				re := openDir(t, o, d)
				h, root := re.LastCommit()
				want, wantH := m2, int64(2)
				if point == "before-atomic-write" {
					want, wantH = m1, 1
				}
				if h != wantH || !bytes.Equal(root, refRoot(want)) {
					t.Fatalf("reopened at %d %X, want %d %X", h, root, wantH, refRoot(want))
				}
				v := re.View()
				n := 0
				it := v.Iterator(nil, nil)
				for ; it.Valid(); it.Next() {
					n++
				}
				it.Close()
				if n != len(want) {
					t.Fatalf("%d state entries, want %d", n, len(want))
				}
				checkProofs(t, v, want, keys)
				logLeft := 0
				lit := v.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsRedo}})
				for lit.Rewind(); lit.Valid(); lit.Next() {
					logLeft++
				}
				lit.Close()
				if logLeft != 0 {
					t.Fatalf("%d redo log entries left", logLeft)
				}
				v.Discard()
				// The chain goes on from there.
				mustStage(t, re, []Change{{Key: []byte("after"), Value: []byte("x")}})
				mustCommit(t, re, wantH+1)
				re.Close()
			}
		})
	}
}
