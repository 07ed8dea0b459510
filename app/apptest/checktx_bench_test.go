package apptest

import (
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/types"
)

// BenchmarkCheckTx measures mempool admission of a purchase/redeem mix
// over a state of 10^5 customers: b.N new transactions (signature already
// verified once, as gossip and recheck find it), checked in blocks of at
// most 5,000. Each block's transactions are then rechecked and applied in
// a block, outside the timer; those two are reported per transaction as
// custom metrics, with x_apply the ratio of a check to an apply measured
// in the same run.
func BenchmarkCheckTx(b *testing.B) {
	w := newApplyWorld(b, 100_000)
	var recheck, apply time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		txs := w.block(min(5000, b.N-done))
		b.StartTimer()
		for _, tx := range txs {
			if r := w.c.App.CheckTx(tx); r.Code != types.CodeOK {
				b.Fatalf("check: %d %s", r.Code, r.Log)
			}
		}
		b.StopTimer()
		t0 := time.Now()
		for _, tx := range txs {
			w.c.App.RecheckTx(tx)
		}
		recheck += time.Since(t0)
		f, c := w.apply(txs) // the next block's check state starts from this commit
		apply += f + c
		done += len(txs)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	check := b.Elapsed()
	b.ReportMetric(float64(check.Nanoseconds())/n/1e3, "µs/tx-check")
	b.ReportMetric(float64(recheck.Nanoseconds())/n/1e3, "µs/tx-recheck")
	b.ReportMetric(float64(apply.Nanoseconds())/n/1e3, "µs/tx-apply")
	b.ReportMetric(float64(check)/float64(apply), "x_apply")
}
