package loadgen

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// LoadOptions configure Load.
type LoadOptions struct {
	Nodes    []string      // RPC URLs; worker i submits to Nodes[i % len]
	Txs      [][]byte      // pre-signed transactions, submitted in order, each once
	Duration time.Duration // how long to submit
	// SubmitAll submits every transaction whatever the time, then watches
	// blocks until each accepted one has committed (bounded only by ctx):
	// the counts then depend on the transactions, never on the clock.
	// Duration may be 0; the report's duration is the measured one.
	SubmitAll   bool
	Concurrency int     // submitting workers (default 64)
	Rate        float64 // offered tx/s; 0 = as fast as the nodes accept
	// Drain is how long to keep watching blocks after submission stops, for
	// the latency of the last transactions (default 10 s); throughput
	// counts only commits inside Duration.
	Drain time.Duration
	// CodeName names result codes in the report (default: types.Code names).
	CodeName func(code uint32) string
}

// Report is what Load measured.
type Report struct {
	Duration      float64        `json:"duration_s"`
	Offered       float64        `json:"offered_tx_per_s"` // submitted / duration
	Submitted     int            `json:"submitted"`
	Accepted      int            `json:"accepted"`           // unique txs CheckTx admitted
	Redelivered   int            `json:"redelivered"`        // copies a node already held
	Committed     int            `json:"committed"`          // unique, code 0, inside the window
	CommittedAll  int            `json:"committed_total"`    // unique, code 0, window and drain
	Throughput    float64        `json:"committed_tx_per_s"` // committed / duration
	Refused       map[string]int `json:"refused"`            // by code name; "mempool_full"; "transport"
	FailedInBlock map[string]int `json:"failed_in_block"`    // committed with a non-zero code, by name
	Blocks        int            `json:"blocks"`
	// LateBlocks counts blocks that needed more than one consensus round
	// (the next block\'s last commit shows round > 0).
	LateBlocks  int     `json:"blocks_past_round_0"`
	MaxBlockTxs int     `json:"max_block_txs"`
	P50         float64 `json:"submit_to_commit_p50_s"`
	P90         float64 `json:"submit_to_commit_p90_s"`
	P99         float64 `json:"submit_to_commit_p99_s"`
	Unused      int     `json:"unused_txs"` // left in the files when time was up
}

// ReadTxFile reads one hex transaction per line (blank lines skipped).
func ReadTxFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		tx, err := hex.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not a hex transaction", path, n)
		}
		out = append(out, tx)
	}
	return out, sc.Err()
}

type submission struct {
	at        time.Time
	accepted  bool
	committed bool
}

// Load submits the transactions with Concurrency workers over the nodes
// for Duration (at Rate if set), while it walks every new block of the
// first node and matches its transactions, once each by hash, to the
// submissions: committed throughput and submit→commit latency come from
// the blocks, not from what the submitters were told.
func Load(ctx context.Context, o LoadOptions) (*Report, error) {
	if len(o.Nodes) == 0 || len(o.Txs) == 0 || (o.Duration <= 0 && !o.SubmitAll) {
		return nil, fmt.Errorf("need nodes, transactions and a duration (or SubmitAll)")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Drain == 0 {
		o.Drain = 10 * time.Second
	}
	if o.CodeName == nil {
		o.CodeName = func(c uint32) string { return types.Code(c).Name() }
	}
	clients := make([]*rpchttp.HTTP, len(o.Nodes))
	for i, u := range o.Nodes {
		c, err := rpchttp.New(u, "/websocket")
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", u, err)
		}
		clients[i] = c
	}
	st, err := clients[0].Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", o.Nodes[0], err)
	}
	from := st.SyncInfo.LatestBlockHeight + 1

	var mu sync.Mutex
	subs := make(map[[32]byte]*submission, len(o.Txs))
	rep := &Report{Refused: map[string]int{}, FailedInBlock: map[string]int{}}
	var lat []float64

	start := time.Now()
	end := start.Add(o.Duration)
	next := make(chan []byte)
	go func() { // the feeder: in order, at the offered rate
		defer close(next)
		var tick *time.Ticker
		if o.Rate > 0 {
			tick = time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
			defer tick.Stop()
		}
		for _, tx := range o.Txs {
			if tick != nil {
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
			if !o.SubmitAll && time.Now().After(end) {
				return
			}
			select {
			case next <- tx:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	submitted := make(chan struct{}) // closed when every worker is done
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func(c *rpchttp.HTTP) {
			defer wg.Done()
			for tx := range next {
				h := sha256.Sum256(tx)
				mu.Lock()
				s, again := subs[h]
				if !again {
					s = &submission{at: time.Now()}
					subs[h] = s
				}
				rep.Submitted++
				mu.Unlock()
				res, err := c.BroadcastTxSync(ctx, tx)
				mu.Lock()
				switch {
				case err != nil && strings.Contains(err.Error(), "mempool is full"):
					rep.Refused["mempool_full"]++
				case err != nil && strings.Contains(err.Error(), "already exists in cache"):
					rep.Redelivered++ // a node already holds it: it is on its way
				case err != nil:
					rep.Refused["transport"]++
				case res.Code != 0 && again:
					rep.Redelivered++ // e.g. a duplicate of a copy already committed
				case res.Code != 0:
					rep.Refused[o.CodeName(res.Code)]++
				case !s.accepted:
					s.accepted = true
					rep.Accepted++
				}
				mu.Unlock()
			}
		}(clients[w%len(clients)])
	}

	// The block walker, on the first node, until the drain is over.
	walkErr := make(chan error, 1)
	go func() {
		h := from
		deadline := end.Add(o.Drain)
		for now := time.Now(); o.SubmitAll || now.Before(deadline); now = time.Now() {
			mu.Lock()
			settled := rep.CommittedAll+sumCounts(rep.FailedInBlock) >= rep.Accepted
			mu.Unlock()
			if o.SubmitAll {
				select {
				case <-submitted:
					if settled {
						walkErr <- nil
						return // every accepted transaction has committed
					}
				default:
				}
			} else if now.After(end) && settled {
				break // everything accepted has committed
			}
			st, err := clients[0].Status(ctx)
			if err != nil {
				walkErr <- err
				return
			}
			for ; h <= st.SyncInfo.LatestBlockHeight; h++ {
				// The block store can be a step ahead of the results: a
				// block whose results are not saved yet is read next time.
				b, err := clients[0].Block(ctx, &h)
				if err != nil {
					break
				}
				br, err := clients[0].BlockResults(ctx, &h)
				if err != nil {
					break
				}
				seen := time.Now()
				mu.Lock()
				rep.Blocks++
				rep.MaxBlockTxs = max(rep.MaxBlockTxs, len(b.Block.Txs))
				if lc := b.Block.LastCommit; lc != nil && lc.Round > 0 && h > from {
					rep.LateBlocks++ // block h-1, one of ours, took more than a round
				}
				for i, tx := range b.Block.Txs {
					s, ok := subs[sha256.Sum256(tx)]
					if !ok || s.committed {
						continue // not ours, or counted already
					}
					s.committed = true
					if i < len(br.TxsResults) && br.TxsResults[i].Code != 0 {
						rep.FailedInBlock[o.CodeName(br.TxsResults[i].Code)]++
						continue
					}
					rep.CommittedAll++
					if !seen.After(end) {
						rep.Committed++
					}
					lat = append(lat, seen.Sub(s.at).Seconds())
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				walkErr <- ctx.Err()
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
		walkErr <- nil
	}()
	wg.Wait()
	if o.SubmitAll {
		o.Duration = time.Since(start)
	}
	close(submitted)
	if err := <-walkErr; err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	rep.Duration = o.Duration.Seconds()
	rep.Offered = float64(rep.Submitted) / rep.Duration
	rep.Throughput = float64(rep.Committed) / rep.Duration
	rep.Unused = len(o.Txs) - rep.Submitted
	sort.Float64s(lat)
	rep.P50, rep.P90, rep.P99 = quantile(lat, 0.50), quantile(lat, 0.90), quantile(lat, 0.99)
	return rep, nil
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// WriteText prints a report for people.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "offered %.0f tx/s (%d submitted, %d accepted by CheckTx, %d redelivered copies, %d unused)\n",
		r.Offered, r.Submitted, r.Accepted, r.Redelivered, r.Unused)
	fmt.Fprintf(w, "committed %.0f unique tx/s (%d in %.0f s; %d by the end of the drain), %d blocks (%d past round 0), largest %d txs\n",
		r.Throughput, r.Committed, r.Duration, r.CommittedAll, r.Blocks, r.LateBlocks, r.MaxBlockTxs)
	fmt.Fprintf(w, "submit->commit p50 %.2f s, p90 %.2f s, p99 %.2f s\n", r.P50, r.P90, r.P99)
	for _, m := range []struct {
		what string
		m    map[string]int
	}{{"refused at submission", r.Refused}, {"failed in a block", r.FailedInBlock}} {
		if len(m.m) == 0 {
			continue
		}
		keys := make([]string, 0, len(m.m))
		for k := range m.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, m.m[k])
		}
		fmt.Fprintf(w, "%s: %s\n", m.what, strings.Join(parts, ", "))
	}
}
