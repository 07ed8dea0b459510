package apptest

import (
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/types"
)

// BenchmarkCheckTx measures mempool admission of a purchase/redeem mix
// over a state of 10^5 customers, for a new transaction (signature already
// verified once, as gossip and recheck find it) and for a recheck after a
// block, against applying the same transactions in a block measured in the
// same run.
func BenchmarkCheckTx(b *testing.B) {
	w := newApplyWorld(b, 100_000)
	txs := w.block(5000)
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < len(txs); i++ {
		if r := w.c.App.CheckTx(txs[i]); r.Code != types.CodeOK {
			b.Fatalf("check: %d %s", r.Code, r.Log)
		}
	}
	check := time.Since(t0)
	t0 = time.Now()
	for i := 0; i < len(txs); i++ {
		w.c.App.RecheckTx(txs[i])
	}
	recheck := time.Since(t0)
	f, c := w.apply(txs)
	n := float64(len(txs))
	b.ReportMetric(float64(check.Nanoseconds())/n/1e3, "µs/tx-check")
	b.ReportMetric(float64(recheck.Nanoseconds())/n/1e3, "µs/tx-recheck")
	b.ReportMetric(float64((f+c).Nanoseconds())/n/1e3, "µs/tx-apply")
	b.ReportMetric(float64(check)/float64(f+c), "x_apply")
}
