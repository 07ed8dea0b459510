package imports_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// BenchmarkImportVsPurchase measures what a validator does per block for
// imported rows against single purchases, in the same run, interleaved:
// blocks of 1,000 purchases (one new customer each) and blocks of 10
// import batches of 100 rows (1,000 new customers), each transaction
// admitted by CheckTx first (which verifies and caches its signature, as
// on a node), then FinalizeBlock and Commit timed, on Badger on disk. It
// reports rows/s of each and x_import_per_row, the purchase's time per
// row over the import's (docs/benchmarks.md).
func BenchmarkImportVsPurchase(b *testing.B) {
	db, err := store.Open(store.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	c := apptest.NewOnConfig(b, db, sellers, nil, app.Config{ChainID: apptest.ChainID})
	c.Check = false
	approve(b, c, "s-0", 1e11, 0)
	const perBlock, batch = 1000, 100
	n := 0
	admit := func(txs [][]byte) {
		for _, tx := range txs {
			if r := c.App.CheckTx(tx); r.Code != 0 {
				b.Fatalf("CheckTx: %d %s", r.Code, r.Log)
			}
		}
	}
	run := func(txs [][]byte) time.Duration {
		admit(txs)
		t0 := time.Now()
		for _, r := range c.Block(5, txs...) {
			if r.Code != 0 {
				b.Fatalf("block: %d %s", r.Code, r.Log)
			}
		}
		return time.Since(t0)
	}
	var tPurchase, tImport time.Duration
	rounds := max(b.N, 3)
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		var txs [][]byte
		for i := 0; i < perBlock; i++ {
			n++
			txs = append(txs, c.Tx(op("s-0"), &types.MsgPurchase{CustomerId: fmt.Sprintf("%064x", n), AmountPaise: 10_000 + uint64(i), Flow: apptest.Flow()}))
		}
		tPurchase += run(txs)
		txs = nil
		d := sha256.Sum256([]byte(fmt.Sprintf("bench file %d", r)))
		for i := 0; i < perBlock/batch; i++ {
			m := &types.MsgImportBalances{FileDigest: d[:], FirstRow: uint64(i * batch), FileRows: perBlock}
			for j := 0; j < batch; j++ {
				n++
				m.Rows = append(m.Rows, &types.ImportRow{CustomerId: fmt.Sprintf("%064x", n), Points: 100 + uint64(j),
					ExpiresAt: c.Time + 300*86400, ExternalRef: fmt.Sprintf("M%07d", n)})
			}
			txs = append(txs, c.Tx(op("s-0"), m))
		}
		tImport += run(txs)
	}
	b.StopTimer()
	rows := float64(rounds * perBlock)
	b.ReportMetric(rows/tPurchase.Seconds(), "purchase-rows/s")
	b.ReportMetric(rows/tImport.Seconds(), "import-rows/s")
	b.ReportMetric(tPurchase.Seconds()/tImport.Seconds(), "x_import_per_row")
}
