package node

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics exposes the ledger's own figures next to CometBFT's on
// the node's Prometheus endpoint (instrumentation.prometheus_listen_addr):
// gauges read from committed state at scrape time, and a counter of
// transaction results by code.
func (n *Node) registerMetrics() {
	const ns = "bytepoints"
	totals := func(f func(*types.Totals) float64) func() float64 {
		return func() float64 {
			if n.DB == nil {
				return 0
			}
			v := n.DB.View()
			defer v.Discard()
			return f(state.Totals(v))
		}
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	txs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tx_results_total",
		Help: "Transactions executed in blocks, by result code name."}, []string{"code"})
	cs := []prometheus.Collector{
		gauge("height", "Last committed height.", func() float64 { h, _ := n.App.Info(); return float64(h) }),
		gauge("outstanding_points", "Points held by customers.", totals(func(t *types.Totals) float64 { return float64(t.OutstandingPoints) })),
		gauge("escrow_paise", "Escrow balance in paise (= 100 x outstanding points).", totals(func(t *types.Totals) float64 { return float64(t.EscrowPaise) })),
		gauge("customers", "Customers with an account.", totals(func(t *types.Totals) float64 { return float64(t.Customers) })),
		gauge("issued_points_total", "Points ever issued.", totals(func(t *types.Totals) float64 { return float64(t.IssuedPoints) })),
		gauge("redeemed_points_total", "Points redeemed (net of voids).", totals(func(t *types.Totals) float64 { return float64(t.RedeemedPoints) })),
		gauge("statements", "Settlement statements closed.", totals(func(t *types.Totals) float64 { return float64(t.Statements) })),
		txs,
	}
	for _, c := range cs {
		if err := prometheus.Register(c); err != nil {
			n.Logger.Error("metrics registration", "err", err)
			return
		}
	}
	n.ABCI.OnTxResult = func(code types.Code) { txs.WithLabelValues(code.Name()).Inc() }
}
