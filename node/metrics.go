package node

import (
	"time"

	"github.com/bytepoints/bytepoints/types"
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics exposes the ledger's own figures next to CometBFT's on
// the node's Prometheus endpoint (instrumentation.prometheus_listen_addr):
// figures read from committed state at scrape time, and a counter of
// transaction results by code. Names follow Prometheus's conventions
// (checked by promlint in TestGatewayTLSAndMetrics): a figure that only
// grows is a counter ending in _total, one that can fall is a gauge
// without it, and the unit is in the name (_seconds, _paise, _points).
func (n *Node) registerMetrics() {
	const ns = "bytepoints"
	totals := func(f func(*types.Totals) float64) func() float64 {
		return func() float64 {
			if n.DB == nil {
				return 0
			}
			return f(n.App.Totals())
		}
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	txs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tx_results_total",
		Help: "Transaction results by stage (check: mempool admission, recheck, deliver: in a block), message type and result code name; " +
			"CheckTx refusals are stage=check with a non-ok code."}, []string{"stage", "msg", "code"})
	blockSeconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "block_seconds",
		Help:    "Time to apply a block (phase=finalize: FinalizeBlock) and to persist it (phase=commit: Commit).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"phase"})
	blockTxs := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "block_txs",
		Help: "Transactions per block.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)})
	cs := []prometheus.Collector{
		gauge("height", "Last committed height.", func() float64 { h, _ := n.App.Info(); return float64(h) }),
		gauge("outstanding_points", "Points held by customers.", totals(func(t *types.Totals) float64 { return float64(t.OutstandingPoints) })),
		gauge("escrow_paise", "Escrow balance in paise (= 100 x outstanding points).", totals(func(t *types.Totals) float64 { return float64(t.EscrowPaise) })),
		gauge("customers", "Customers with an account.", totals(func(t *types.Totals) float64 { return float64(t.Customers) })),
		counter("issued_points_total", "Points ever issued (refunds claw back from balances, not from this).", totals(func(t *types.Totals) float64 { return float64(t.IssuedPoints) })),
		gauge("redeemed_points", "Points redeemed, net of voids (a void lowers it).", totals(func(t *types.Totals) float64 { return float64(t.RedeemedPoints) })),
		counter("statements_total", "Settlement statements closed.", totals(func(t *types.Totals) float64 { return float64(t.Statements) })),
		gauge("state_cache_hit_ratio", "Reads of committed state answered by the value cache (hits / reads since start).",
			func() float64 {
				if n.DB == nil {
					return 0
				}
				return n.DB.ValueCacheStats().HitRate()
			}),
		gauge("state_cache_entries", "Committed state values held in the value cache.", func() float64 {
			if n.DB == nil {
				return 0
			}
			return float64(n.DB.ValueCacheStats().Entries)
		}),
		txs, blockSeconds, blockTxs, n.decisionSeconds,
		gauge("backoffice_lag_blocks", "Committed blocks not yet written to the back office's PostgreSQL (0 when not configured).", func() float64 {
			if n.Backoffice == nil {
				return 0
			}
			return float64(n.Backoffice.Lag())
		}),
	}
	for _, c := range cs {
		if err := prometheus.Register(c); err != nil {
			n.Logger.Error("metrics registration", "err", err)
			return
		}
	}
	n.ABCI.OnTxResult = func(stage, msg string, code types.Code) {
		if msg == "" {
			msg = "undecodable"
		}
		txs.WithLabelValues(stage, msg, code.Name()).Inc()
	}
	n.ABCI.OnBlock = func(finalize, commit time.Duration, ntx int) {
		blockSeconds.WithLabelValues("finalize").Observe(finalize.Seconds())
		blockSeconds.WithLabelValues("commit").Observe(commit.Seconds())
		blockTxs.Observe(float64(ntx))
	}
	n.metrics = true
}

// newDecisionHistogram measures CRMS decisions answered by this node (the
// gateway's decision endpoint; SPEC §6.3 targets p99 ≤ 1 ms at the node).
func newDecisionHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "bytepoints", Name: "crms_decision_seconds",
		Help:    "Time to answer a CRMS decision from committed state.",
		Buckets: []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3}})
}
