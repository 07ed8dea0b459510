package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/loadgen"
)

type options struct {
	cometbft, bytepointsd, work, out string
	validators, rounds, concurrency  int
	txs                              int
	duration, timeoutCommit          time.Duration
	transports                       string
}

// result is one run: one app on one transport.
type result struct {
	app, transport string
	round          int
	rate           float64 // offered rate cap, 0 = saturating
	rep            *loadgen.Report
}

func run(ctx context.Context, o options) error {
	for _, b := range []string{o.cometbft, o.bytepointsd} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s: %w (make bench-network builds both)", b, err)
		}
	}
	if err := os.RemoveAll(o.work); err != nil {
		return err
	}
	var all []result
	for _, tr := range strings.Split(o.transports, ",") {
		for round := 1; round <= o.rounds; round++ {
			for _, app := range []string{"kvstore", "bytepoints"} {
				r, err := runOnce(ctx, o, app, tr, round, 0)
				if err != nil {
					return fmt.Errorf("%s on %s, round %d: %w", app, tr, round, err)
				}
				all = append(all, r)
				fmt.Fprintf(os.Stderr, "%-10s %-6s round %d: %.0f committed tx/s, p50 %.2f s\n", app, tr, round, r.rep.Throughput, r.rep.P50)
			}
		}
		// The latency a till sees on a normal day: half the saturation rate.
		half := median(throughputs(all, "bytepoints", tr)) / 2
		r, err := runOnce(ctx, o, "bytepoints", tr, 0, half)
		if err != nil {
			return fmt.Errorf("bytepoints on %s at half rate: %w", tr, err)
		}
		all = append(all, r)
		fmt.Fprintf(os.Stderr, "%-10s %-6s at %.0f tx/s: p50 %.2f s\n", "bytepoints", tr, half, r.rep.P50)
	}
	md := report(o, all)
	fmt.Print(md)
	if o.out != "" {
		return writeSection(o.out, md)
	}
	return nil
}

// The report replaces what stands between these markers in the output
// file, so the rest of docs/benchmarks.md (the in-process figures and the
// analysis) stays; a file without them gets the markers appended.
const (
	beginMark = "<!-- make bench-network: begin -->"
	endMark   = "<!-- make bench-network: end -->"
)

func writeSection(path, md string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := beginMark + "\n" + md + endMark + "\n"
	s := string(old)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i >= 0 && j > i {
		s = s[:i] + section + strings.TrimPrefix(s[j+len(endMark):], "\n")
	} else {
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			s += "\n"
		}
		s += section
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// runOnce generates fresh homes, starts the app on every one, loads the
// network and stops it.
func runOnce(ctx context.Context, o options, app, transport string, round int, rate float64) (result, error) {
	res := result{app: app, transport: transport, round: round, rate: rate}
	dir := filepath.Join(o.work, fmt.Sprintf("%s-%s-%d-%.0f", transport, app, round, rate))
	base, err := freeBase(o.validators)
	if err != nil {
		return res, err
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: o.validators, Output: dir, Transport: transport,
		DistinctIPs: true, BasePort: base, TimeoutCommit: o.timeoutCommit})
	if err != nil {
		return res, err
	}
	var procs []*harness.Process
	defer func() {
		for _, p := range procs {
			if err := p.Stop(30 * time.Second); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}()
	var nodes []string
	for _, h := range m.Homes {
		var p *harness.Process
		if app == "kvstore" {
			p, err = harness.StartProcess(o.cometbft, h.Dir, nil, "--proxy_app", "kvstore", "--log_level", "error")
		} else {
			p, err = harness.StartProcess(o.bytepointsd, h.Dir, nil, "--log-level", "error")
		}
		if err != nil {
			return res, err
		}
		procs = append(procs, p)
		nodes = append(nodes, h.RPC)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for i, u := range nodes {
		if err := networks.WaitHeight(wctx, u, 2); err != nil {
			log, _ := os.ReadFile(procs[i].Log)
			return res, fmt.Errorf("%s did not start: %w\n%s", u, err, tail(log))
		}
	}
	var buf bytes.Buffer
	if app == "kvstore" {
		err = loadgen.GenerateKVStore(&buf, o.txs, uint64(round+1), 200)
	} else {
		var homes []string
		for _, h := range m.Homes {
			homes = append(homes, h.Dir)
		}
		_, err = loadgen.GeneratePurchases(ctx, loadgen.GenOptions{Homes: homes, RPC: nodes[0], Count: o.txs, Seed: uint64(round + 1)}, &buf)
	}
	if err != nil {
		return res, err
	}
	path := filepath.Join(dir, "txs.hex")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return res, err
	}
	txs, err := loadgen.ReadTxFile(path)
	if err != nil {
		return res, err
	}
	lo := loadgen.LoadOptions{Nodes: nodes, Txs: txs, Duration: o.duration, Concurrency: o.concurrency, Rate: rate}
	if app == "kvstore" {
		lo.CodeName = func(c uint32) string { return fmt.Sprintf("kvstore_code_%d", c) }
	}
	res.rep, err = loadgen.Load(ctx, lo)
	return res, err
}

// freeBase finds a port p such that p..p+3 are free on 127.0.0.1..N.
func freeBase(n int) (int, error) {
	for base := 36656; base < 60000; base += 10 {
		ok := true
		for i := 1; i <= n && ok; i++ {
			for port := base; port < base+4 && ok; port++ {
				addr := fmt.Sprintf("127.0.0.%d:%d", i, port)
				l, err := net.Listen("tcp", addr)
				if err != nil {
					ok = false
					break
				}
				l.Close()
				u, err := net.ListenPacket("udp", addr)
				if err != nil {
					ok = false
					break
				}
				u.Close()
			}
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free ports")
}

func throughputs(rs []result, app, tr string) []float64 {
	var out []float64
	for _, r := range rs {
		if r.app == app && r.transport == tr && r.rate == 0 {
			out = append(out, r.rep.Throughput)
		}
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func tail(b []byte) string {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// report is the markdown written to docs/benchmarks.md.
func report(o options, rs []result) string {
	var w strings.Builder
	fmt.Fprintf(&w, "## Network throughput: Byte Points against CometBFT's kvstore\n\n")
	fmt.Fprintf(&w, "Measured %s by `make bench-network` on %s.\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(&w, "%d validators on 127.0.0.1-%d from `bytepointsd testnet --distinct-ips` (timeout_commit %s), the same homes and "+
		"config for both apps; %d concurrent senders spread over the %d RPCs for %s per run; runs interleaved (kvstore, Byte Points) "+
		"%d times per transport. Byte Points: pre-signed purchases by 16 terminals of the 4 sellers (`bench gen-txs`); kvstore: "+
		"200-byte key=value txs. Committed unique tx/s are counted from the committed blocks (`bench load`).\n\n",
		o.validators, o.validators, o.timeoutCommit, o.concurrency, o.validators, o.duration, o.rounds)
	fmt.Fprintf(&w, "| transport | kvstore tx/s | Byte Points tx/s | ratio | kvstore p50 | Byte Points p50 | p50 at half rate | largest block | blocks past round 0 (BP) | mempool-full refusals (BP) |\n")
	fmt.Fprintf(&w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, tr := range strings.Split(o.transports, ",") {
		kv, bp := throughputs(rs, "kvstore", tr), throughputs(rs, "bytepoints", tr)
		var kvP50, bpP50 []float64
		var half float64
		maxBlock, full, late, blocks := 0, 0, 0, 0
		for _, r := range rs {
			if r.transport != tr {
				continue
			}
			switch {
			case r.app == "kvstore":
				kvP50 = append(kvP50, r.rep.P50)
			case r.rate > 0:
				half = r.rep.P50
			default:
				bpP50 = append(bpP50, r.rep.P50)
				maxBlock = max(maxBlock, r.rep.MaxBlockTxs)
				full += r.rep.Refused["mempool_full"]
				late += r.rep.LateBlocks
				blocks += r.rep.Blocks
			}
		}
		ratio := 0.0
		if median(kv) > 0 {
			ratio = median(bp) / median(kv)
		}
		fmt.Fprintf(&w, "| %s | %s | %s | **%.2f** | %.2f s | %.2f s | %.2f s | %d | %d of %d | %d |\n", tr, span(kv), span(bp), ratio,
			median(kvP50), median(bpP50), half, maxBlock, late, blocks, full)
	}
	fmt.Fprintf(&w, "\nThroughputs are the range over the rounds; the ratio and latencies are medians.\n")
	return w.String()
}

func span(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 1 {
		return fmt.Sprintf("%.0f", s[0])
	}
	return fmt.Sprintf("%.0f-%.0f", s[0], s[len(s)-1])
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	gov := ""
	if out, err := exec.Command("go", "version").Output(); err == nil {
		gov = ", " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%d cores (%s)%s, %s%s", runtime.NumCPU(), cpu, mem, runtime.GOOS+"/"+runtime.GOARCH, gov)
}
