// Command benchnet is `make bench-network`: it runs CometBFT's kvstore
// example application and Byte Points on the same generated homes (4
// validators on 127.0.0.1-4, same config), interleaved, on TCP and on
// libp2p, drives each with the same load tool (node/loadgen, what
// `bytepointsd bench load` runs), and prints one markdown table of
// committed throughput, its ratio to kvstore, and submit-to-commit
// latency, also written to docs/benchmarks.md with the machine and the
// load. Byte Points is then run again at half its saturation rate for the
// latency a till sees on a normal day.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	o := options{}
	flag.StringVar(&o.cometbft, "cometbft", "build/cometbft", "CometBFT binary (make bench-network builds it from go.mod's pin)")
	flag.StringVar(&o.bytepointsd, "bytepointsd", "build/bytepointsd", "bytepointsd binary")
	flag.StringVar(&o.work, "work", "build/benchnet", "scratch directory for homes and logs")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown report to write (empty: print only)")
	flag.IntVar(&o.validators, "validators", 4, "validators, on 127.0.0.1 .. 127.0.0.N")
	flag.IntVar(&o.rounds, "rounds", 2, "interleaved rounds (kvstore, Byte Points) per transport")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "load per run")
	flag.IntVar(&o.concurrency, "concurrency", 64, "concurrent senders")
	flag.IntVar(&o.txs, "txs", 150_000, "pre-signed transactions per run (more than a run can commit)")
	flag.StringVar(&o.transports, "transports", "tcp,libp2p", "transports to measure")
	flag.DurationVar(&o.timeoutCommit, "timeout-commit", time.Second, "CometBFT timeout_commit of the generated homes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchnet:", err)
		os.Exit(1)
	}
}
