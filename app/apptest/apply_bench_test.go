package apptest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// BenchmarkBlockApply measures what every validator does per block: apply
// it (FinalizeBlock) and persist it (Commit), on Badger on disk, one
// goroutine. Transactions are pre-signed and their signatures marked as
// verified, as CheckTx leaves them on a node; the mix is 80 % purchases and
// 20 % PIN-verified redemptions over a state of existing customers. It
// reports purchase-mix tx/s for each block size, split into FinalizeBlock
// and Commit, and the cost per tx of 5,000-tx blocks as a ratio to
// 1,000-tx blocks measured in the same run, interleaved (bigger blocks
// must not cost more per tx). Interleaved with those, 5,000-tx blocks
// whose state reads were prefetched (store.DB.Warm of app.PrefetchKeys)
// as at ProcessProposal (finished before the block: tx/s-5000tx-prefetched,
// the wait reported apart, and the value cache's hit rate during the
// block) and as at the start of FinalizeBlock (beside the execution:
// tx/s-5000tx-overlapped); and what a transaction writes (keys/tx,
// state-B/tx, buckets/tx, bucket-B/tx, top-B/tx). After the run the store
// is reopened as a restarting node would (time, heap, size on disk).
//
// The state sizes are 10^5 customers and, with BYTEPOINTS_BENCH_CUSTOMERS
// set (make bench sets 1000000), that many more.
func BenchmarkBlockApply(b *testing.B) {
	sizes := []int{100_000}
	if v := os.Getenv("BYTEPOINTS_BENCH_CUSTOMERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("BYTEPOINTS_BENCH_CUSTOMERS=%q", v)
		}
		if n != sizes[0] {
			sizes = append(sizes, n)
		}
	}
	for _, customers := range sizes {
		w := newApplyWorld(b, customers)
		b.Run(fmt.Sprintf("customers=%d", customers), func(b *testing.B) {
			// Interleaved (one 5,000-tx block, then five 1,000-tx blocks,
			// then a 5,000-tx block whose state reads were warmed as at
			// ProcessProposal, then one warmed concurrently as at the start
			// of FinalizeBlock) so that every kind meets the same
			// background compaction.
			rounds := max(b.N, 3)
			var fin, com [2]time.Duration
			var warmWait, finPre, comPre, finOver, comOver time.Duration
			var st store.CommitStats
			var hits, reads uint64
			sizes := [2]int{1000, 5000}
			db := w.c.App.DB()
			for r := 0; r < rounds; r++ {
				f, c := w.apply(w.block(5000))
				fin[1], com[1] = fin[1]+f, com[1]+c
				s := db.LastCommitStats()
				st.StateKeys += s.StateKeys
				st.StateBytes += s.StateBytes
				st.StateDeletes += s.StateDeletes
				st.Buckets += s.Buckets
				st.BucketBytes += s.BucketBytes
				st.TopBytes += s.TopBytes
				for i := 0; i < 5; i++ {
					f, c := w.apply(w.block(1000))
					fin[0], com[0] = fin[0]+f, com[0]+c
				}
				// ProcessProposal: the reads run (and finish) before the
				// block is decided.
				txs := w.block(5000)
				t0 := time.Now()
				db.Warm(w.c.App.PrefetchKeys(txs))()
				warmWait += time.Since(t0)
				s0 := db.ValueCacheStats()
				f, c = w.apply(txs)
				s1 := db.ValueCacheStats()
				hits, reads = hits+s1.Hits-s0.Hits, reads+s1.Hits+s1.Misses-s0.Hits-s0.Misses
				finPre, comPre = finPre+f, comPre+c
				// FinalizeBlock start: the reads run beside the execution.
				txs = w.block(5000)
				t0 = time.Now()
				db.Warm(w.c.App.PrefetchKeys(txs))
				f, c = w.apply(txs)
				finOver, comOver = finOver+time.Since(t0)-c, comOver+c
			}
			var perTx [2]float64
			n := float64(rounds * 5000)
			for i, size := range sizes {
				perTx[i] = float64((fin[i] + com[i]).Nanoseconds()) / n
				b.ReportMetric(1e9/perTx[i], fmt.Sprintf("tx/s-%dtx", size))
				b.ReportMetric(float64(fin[i].Nanoseconds())/n/1e3, fmt.Sprintf("µs/tx-finalize-%dtx", size))
				b.ReportMetric(float64(com[i].Nanoseconds())/n/1e3, fmt.Sprintf("µs/tx-commit-%dtx", size))
			}
			b.ReportMetric(perTx[1]/perTx[0], "x_1000tx_block")
			b.ReportMetric(n/(finPre+comPre).Seconds(), "tx/s-5000tx-prefetched")
			b.ReportMetric(float64(warmWait.Nanoseconds())/n/1e3, "µs/tx-prefetch-wait")
			b.ReportMetric(n/(finOver+comOver).Seconds(), "tx/s-5000tx-overlapped")
			b.ReportMetric(float64(hits)/float64(max(reads, 1)), "hit-rate-prefetched")
			// What a purchase-mix transaction writes (5,000-tx blocks, not
			// prefetched): state keys and bytes (keys + values), trie
			// buckets rewritten and their bytes, the in-memory levels'
			// journal and partition.
			b.ReportMetric(float64(st.StateKeys+st.StateDeletes)/n, "keys/tx")
			b.ReportMetric(float64(st.StateBytes)/n, "state-B/tx")
			b.ReportMetric(float64(st.Buckets)/n, "buckets/tx")
			b.ReportMetric(float64(st.BucketBytes)/n, "bucket-B/tx")
			b.ReportMetric(float64(st.TopBytes)/n, "top-B/tx")
		})
		w.restart()
	}
}

// applyWorld is a chain on disk with customers, driven block by block.
type applyWorld struct {
	b         *testing.B
	c         *Chain
	customers int
	next      int // idempotency key sequence
	rnd       uint64
	dir       string
	closed    *bool // the store was closed (restart)
}

// restart closes the store and opens it again, as a node restarts, and
// logs how long Open took, the heap it holds and the state's size on disk.
func (w *applyWorld) restart() {
	db := w.c.App.DB()
	if err := db.Close(); err != nil {
		w.b.Fatal(err)
	}
	*w.closed = true
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	db2, err := store.Open(store.Options{Dir: w.dir})
	if err != nil {
		w.b.Fatal(err)
	}
	took := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	var size int64
	filepath.WalkDir(w.dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					size += st.Blocks * 512 // allocated: Badger preallocates its files sparsely
				}
			}
		}
		return nil
	})
	w.b.Logf("%d customers, height %d: restart (store.Open) in %s, heap after open %d MB, state on disk %d MB",
		w.customers, w.c.Height, took.Round(time.Millisecond), int64(after.HeapAlloc)>>20, size>>20)
	db2.Close()
}

var benchSellers = []string{"seller-a", "seller-b", "seller-c", "seller-d"}

func newApplyWorld(b *testing.B, customers int) *applyWorld {
	b.Helper()
	dir := b.TempDir()
	db, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	closed := false
	b.Cleanup(func() {
		if !closed {
			db.Close()
		}
	})
	p := app.DefaultParams()
	p.MaxEpochIssuePoints = 1e11 // the benchmark issues a lot
	// The invariant walk (a test's and --check-invariants' job) reads the
	// whole state: a node runs without it by default, and so does this.
	c := NewOnConfig(b, db, benchSellers, p, app.Config{ChainID: ChainID})
	c.Check = false
	w := &applyWorld{b: b, c: c, customers: customers, rnd: 1, dir: dir, closed: &closed}
	// Every customer earns once (5,000 purchases per block).
	start := time.Now()
	for done := 0; done < customers; {
		n := min(5000, customers-done)
		txs := make([][]byte, n)
		for i := range txs {
			txs[i] = w.purchase(done + i)
		}
		done += n
		w.apply(txs)
	}
	b.Logf("state of %d customers built in %s", customers, time.Since(start).Round(time.Millisecond))
	v := db.View()
	b.Logf("record sizes: customer %d B (key %d B), card %d B", len(v.Get(types.CustomerKey(customerID(0)))),
		len(types.CustomerKey(customerID(0))), len(v.Get(types.CardKey(customerID(0)))))
	v.Discard()
	return w
}

func customerID(i int) string { return fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15) }

func (w *applyWorld) tx(signer string, msg any) []byte {
	w.next++
	b := &types.TxBody{ChainId: ChainID, Signer: Pub(signer), IdempotencyKey: "bench-" + strconv.Itoa(w.next),
		ValidUntilHeight: uint64(w.c.Height + 500)}
	if err := b.SetMsg(msg); err != nil {
		panic(err)
	}
	return Sign(b, signer)
}

func (w *applyWorld) purchase(cust int) []byte {
	return w.tx(Operator(benchSellers[cust%len(benchSellers)]), &types.MsgPurchase{
		CustomerId: customerID(cust), AmountPaise: 25_000, Flow: Flow()})
}

func (w *applyWorld) rand() int {
	w.rnd ^= w.rnd << 13
	w.rnd ^= w.rnd >> 7
	w.rnd ^= w.rnd << 17
	return int(w.rnd % uint64(w.customers))
}

// block builds n pre-signed transactions: 4 in 5 purchases, 1 in 5 a
// redemption of 10 points at another seller, each for a random customer.
func (w *applyWorld) block(n int) [][]byte {
	txs := make([][]byte, n)
	for i := range txs {
		cust := w.rand()
		if i%5 == 4 {
			txs[i] = w.tx(Operator(benchSellers[(cust+1)%len(benchSellers)]), &types.MsgRedeem{
				CustomerId: customerID(cust), Points: 10, BillPaise: 5_000, Flow: Flow()})
		} else {
			txs[i] = w.purchase(cust)
		}
		w.c.App.MarkVerified(types.TxHash(txs[i])) // CheckTx did this on a node
	}
	return txs
}

// apply executes and commits one block, one second after the last, and
// returns how long FinalizeBlock and Commit took.
func (w *applyWorld) apply(txs [][]byte) (finalize, commit time.Duration) {
	c := w.c
	c.Height++
	c.Time++
	t0 := time.Now()
	res, err := c.App.FinalizeBlock(app.Block{Height: c.Height, TimeNs: c.Time * 1e9, Txs: txs})
	t1 := time.Now()
	if err != nil {
		w.b.Fatalf("block %d: %v", c.Height, err)
	}
	if err := c.App.Commit(); err != nil {
		w.b.Fatalf("commit %d: %v", c.Height, err)
	}
	t2 := time.Now()
	for _, r := range res.TxResults {
		if r.Code != types.CodeOK {
			w.b.Fatalf("block %d: code %d: %s", c.Height, r.Code, r.Log)
		}
	}
	return t1.Sub(t0), t2.Sub(t1)
}
