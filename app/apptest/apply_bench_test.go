package apptest

import (
	"fmt"
	"os"
	"strconv"
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
// reports purchase-mix tx/s and, as the figure to compare across machines,
// the ratio to 1,000-tx blocks measured in the same run (bigger blocks must
// not cost more per tx).
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
		perTx := map[int]float64{}
		for _, blockTxs := range []int{1000, 5000} {
			b.Run(fmt.Sprintf("customers=%d/block=%d", customers, blockTxs), func(b *testing.B) {
				blocks := max(b.N, 3)
				var took time.Duration
				for i := 0; i < blocks; i++ {
					txs := w.block(blockTxs)
					t0 := time.Now()
					w.apply(txs)
					took += time.Since(t0)
				}
				ns := float64(took.Nanoseconds()) / float64(blocks*blockTxs)
				perTx[blockTxs] = ns
				b.ReportMetric(1e9/ns, "tx/s")
				b.ReportMetric(ns/1e3, "µs/tx")
				if base, ok := perTx[1000]; ok && blockTxs != 1000 {
					b.ReportMetric(ns/base, "x_1000tx_block")
				}
			})
		}
	}
}

// applyWorld is a chain on disk with customers, driven block by block.
type applyWorld struct {
	b         *testing.B
	c         *Chain
	customers int
	next      int // idempotency key sequence
	rnd       uint64
}

var benchSellers = []string{"seller-a", "seller-b", "seller-c", "seller-d"}

func newApplyWorld(b *testing.B, customers int) *applyWorld {
	b.Helper()
	db, err := store.Open(store.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	p := app.DefaultParams()
	p.MaxEpochIssuePoints = 1e11 // the benchmark issues a lot
	c := NewOn(b, db, benchSellers, p)
	c.Check = false // the invariant walk is a test's job, not the benchmark's
	w := &applyWorld{b: b, c: c, customers: customers, rnd: 1}
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

func (w *applyWorld) apply(txs [][]byte) {
	for _, r := range w.c.Block(1, txs...) {
		if r.Code != types.CodeOK {
			w.b.Fatalf("block %d: code %d: %s", w.c.Height, r.Code, r.Log)
		}
	}
}
