package chainreplay

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/sim"
	"github.com/bytepoints/bytepoints/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
)

// Options parameterise Run.
type Options struct {
	Seller     string        // the home's seller: purchases are its, signed by its operator key
	Traces     string        // the trace file's name, for the report
	Window     int           // transactions awaiting their commit at once (≥ 1)
	ValidFor   uint64        // blocks a transaction stays valid (0: the chain's max_valid_ahead_blocks)
	TimeScale  int64         // divide trace gaps by this (0: the smallest that fits)
	Margin     time.Duration // time the replay may take before its oldest row leaves the lag window
	ProbePaise uint64        // amount of the per-card decision compared at the end
	Timeout    time.Duration // give up when nothing commits for this long (0: 2 minutes)
	Progress   io.Writer     // progress bar (nil: none)
}

// Run submits the sample through cl (a client signing as the seller's
// operator) and compares the chain with the offline engine. The error is for
// failures of the run itself (transport, a chain that refuses the sample);
// disagreements are in the report (Report.OK false).
func Run(ctx context.Context, cl *client.Client, s *Sample, o Options) (*Report, error) {
	if o.Window < 1 {
		return nil, errors.New("--window must be at least 1")
	}
	if o.TimeScale < 0 {
		return nil, errors.New("--time-scale must be 0 (auto) or a positive whole number")
	}
	if o.Seller == "" {
		return nil, errors.New("no seller to replay as")
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	p := &replay{
		ctx: ctx, o: o, cl: cl, rpc: &cachedStatus{Client: cl.RPC}, sample: s, rows: s.Rows,
		outcomes: make([]*Outcome, len(s.Rows)),
		inflight: map[string]int{}, validUntil: map[string]uint64{}, inflightAt: map[string]int{}, inflightC: map[string]int{},
		blockTimes: map[int64]int64{}, f7: map[int]Flow7Check{}, f7card: map[string]int{},
		rep: &Report{
			ChainID: cl.ChainID, Seller: o.Seller, Traces: o.Traces, RowsRead: s.Read, Refunds: s.Refunds,
			ZeroSales: s.Zero, Rows: len(s.Rows), Cards: len(s.PerCard), ProbePaise: o.ProbePaise, Mismatches: []Mismatch{},
			Flow7Reasons: map[string]int{},
		},
	}
	cl.RPC = p.rpc
	if err := p.setup(); err != nil {
		return nil, err
	}
	if err := p.submit(); err != nil {
		return nil, err
	}
	Tally(p.rep, p.rows, p.outcomes)
	CheckFlow7Rows(p.rep, p.eng, p.rows, p.outcomes, p.checks)
	if err := p.checkCards(); err != nil {
		return nil, err
	}
	p.rep.OK = len(p.rep.Mismatches) == 0
	return p.rep, nil
}

// cachedStatus serves client.Build's per-transaction Status call from the
// last poll instead of a round trip.
type cachedStatus struct {
	rpcclient.Client
	mu sync.Mutex
	st *ctypes.ResultStatus
}

func (c *cachedStatus) Status(ctx context.Context) (*ctypes.ResultStatus, error) {
	c.mu.Lock()
	st := c.st
	c.mu.Unlock()
	if st != nil {
		return st, nil
	}
	return c.refresh(ctx)
}

func (c *cachedStatus) refresh(ctx context.Context) (*ctypes.ResultStatus, error) {
	st, err := c.Client.Status(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
	return st, nil
}

// replay is one run: the sample, the chain's parameters, the offline twin
// and the submission pipeline. One goroutine broadcasts in order and polls
// the committed blocks for the results.
type replay struct {
	ctx      context.Context
	o        Options
	cl       *client.Client
	rpc      *cachedStatus
	params   *types.Params
	eng      *crms.Engine
	offline  *sim.Replayer
	sample   *Sample
	rows     []Row
	outcomes []*Outcome // per row, once settled
	tm       TimeMap
	validFor uint64
	rep      *Report
	checks   []Flow7Check

	polled      int64             // last height whose block was scanned
	lastCommit  int64             // highest height holding one of our txs
	lastPoll    time.Time         // last poll, to poll while sending too
	lastSuccess time.Time         // last time a transaction settled
	inflight    map[string]int    // tx hash (hex) → row index
	validUntil  map[string]uint64 // tx hash (hex) → valid_until_height
	inflightAt  map[string]int    // card@mapped time → txs in flight
	inflightC   map[string]int    // card → txs in flight
	blockTimes  map[int64]int64
	btMu        sync.Mutex

	f7     map[int]Flow7Check // flow-7 rows in flight, completed when they settle
	f7card map[string]int     // card → its flow-7 rows in flight
	budget SellerRisk         // the seller's epoch risk, mirrored
}

func cardAt(r *Row) string { return fmt.Sprintf("%s@%d", r.Trace.Card, r.At) }

// blockTimeMs is the time of block h in Unix ms, as the app reads it.
func (p *replay) blockTimeMs(h int64) (int64, error) {
	p.btMu.Lock()
	t, ok := p.blockTimes[h]
	p.btMu.Unlock()
	if ok {
		return t, nil
	}
	res, err := p.rpc.Header(p.ctx, &h)
	if err != nil {
		return 0, fmt.Errorf("header %d: %w", h, err)
	}
	t = types.FloorDiv(res.Header.Time.UnixNano(), 1e6)
	p.btMu.Lock()
	p.blockTimes[h] = t
	p.btMu.Unlock()
	return t, nil
}

func (p *replay) epochOf(ms int64) uint64 {
	return settle.EpochOf(types.FloorDiv(ms, 1000), p.params.EpochSeconds)
}

// setup reads the chain's parameters, builds the offline twin with them and
// fixes the time map: a fresh one, or the one a first run left on chain.
func (p *replay) setup() error {
	pq, err := p.cl.Query(p.ctx, "/params", false)
	if err != nil {
		return err
	}
	if p.params, err = client.Decode[types.Params](pq); err != nil {
		return err
	}
	if p.params.Crms == nil {
		return errors.New("the chain's parameters carry no CRMS section")
	}
	cp, table := engineParams(p.params.Crms)
	if p.eng, err = crms.NewEngine(cp); err != nil {
		return fmt.Errorf("chain CRMS parameters: %w", err)
	}
	if p.offline, err = sim.NewReplayer(cp, table); err != nil {
		return fmt.Errorf("chain CRMS parameters: %w", err)
	}
	p.validFor = p.o.ValidFor
	if p.validFor == 0 || p.validFor > p.params.MaxValidAheadBlocks {
		p.validFor = p.params.MaxValidAheadBlocks
	}
	p.cl.ValidFor = p.validFor
	st, err := p.rpc.refresh(p.ctx)
	if err != nil {
		return err
	}
	p.polled = st.SyncInfo.LatestBlockHeight
	lag := time.Duration(p.params.MaxPaymentLagSeconds) * time.Second
	s := p.sample
	if p.tm, err = FitTimeMap(s.FirstMs, s.LastMs, st.SyncInfo.LatestBlockTime.UnixMilli(), lag, p.o.Margin, p.o.TimeScale); err != nil {
		return err
	}

	// A re-run: the chain remembers the first row's key, and its original
	// transaction's memo holds the time map the chain's history uses.
	r0 := &p.rows[0]
	r0.At = p.tm.At(r0.Trace.TimeMs)
	tx0, err := p.cl.Build(p.ctx, p.msg(r0), client.Options{IdempotencyKey: r0.Key, Memo: p.tm.Memo()})
	if err != nil {
		return err
	}
	ct, err := p.rpc.CheckTx(p.ctx, tx0)
	if err != nil {
		return fmt.Errorf("check tx: %w", err)
	}
	switch types.Code(ct.Code) {
	case types.CodeOK:
		if err := refuseExistingHistory(p.ctx, p.cl, s.Cards); err != nil {
			return err
		}
	case types.CodeDuplicate, types.CodeIdempotencyConflict:
		// The probe carries this run's time map; a re-run's differs from the
		// first run's, so the chain calls it a conflict with that row.
		hash := OriginalTx(ct.Info)
		if hash == nil {
			return fmt.Errorf("the first row was submitted before (%s) but the chain did not name the original transaction", ct.Log)
		}
		res, err := p.rpc.Tx(p.ctx, hash, false)
		if err != nil {
			return fmt.Errorf("the first row was submitted before (%s) but its transaction cannot be read: %w", ct.Log, err)
		}
		var tx types.Tx
		var body types.TxBody
		if err := tx.Unmarshal(res.Tx); err != nil {
			return err
		}
		if err := body.Unmarshal(tx.Body); err != nil {
			return err
		}
		t0, base, sc, ok := ParseMemo(body.Memo)
		if !ok || t0 != p.tm.T0Ms {
			return fmt.Errorf("the first row's idempotency key was used by tx %X with memo %q, not by a replay of this sample", hash, body.Memo)
		}
		p.tm.Resume(base, sc)
		p.rep.Resumed = true
	default:
		return fmt.Errorf("the chain refuses the first row (line %d): %s: %s", r0.Line, types.Code(ct.Code), ct.Log)
	}
	p.rep.TimeMap = p.tm
	for i := range p.rows {
		p.rows[i].At = p.tm.At(p.rows[i].Trace.TimeMs)
	}
	return nil
}

// OriginalTx is the hash of the transaction that first used an idempotency
// key, from a duplicate's Info field (hex), nil if it holds none.
func OriginalTx(info string) []byte {
	hash, err := hex.DecodeString(info)
	if err != nil || len(hash) != 32 {
		return nil
	}
	return hash
}

func (p *replay) msg(r *Row) *types.MsgPurchase {
	fc := r.Trace.Flow()
	return &types.MsgPurchase{
		SellerId: p.o.Seller, CustomerId: r.Trace.Card, AmountPaise: r.Trace.AmountPaise, PaymentTimeMs: r.At,
		Flow: &types.PaymentFlow{ReadType: types.ReadType(fc.ReadType), Cvm: types.CVM(fc.CVM),
			Auth: types.AuthResult(fc.Auth), VerificationMs: r.Trace.VerifyMs},
	}
}

// submit sends every row in order, keeping the offline twin in step.
func (p *replay) submit() error {
	var pr *sim.Progress
	if p.o.Progress != nil {
		pr = sim.ProgressTo(p.o.Progress, "replay", int64(len(p.rows)))
	}
	start := time.Now()
	p.lastSuccess = start
	window := p.o.Window
	// Rows that could not go yet, in order. A card's rows keep their order,
	// and so do the flow-7 rows among themselves (they share the seller's
	// budget); other rows go past a row that has to wait. The flow-7 rows
	// are held under the pseudo-card "" (no card id is empty).
	var deferred []int
	held := map[string]int{} // card → its deferred rows
	const f7 = ""
	next := 0
	for next < len(p.rows) || len(deferred) > 0 {
		moved := false
		blocked := map[string]bool{}
		kept := deferred[:0]
		for _, i := range deferred {
			c, is7 := p.rows[i].Trace.Card, p.rows[i].IsFlow7()
			if blocked[c] || (is7 && blocked[f7]) || len(p.inflight) >= window || !p.ready(i) {
				blocked[c] = true
				if is7 {
					blocked[f7] = true
				}
				kept = append(kept, i)
				continue
			}
			if err := p.sendRow(i); err != nil {
				return err
			}
			held[c]--
			if is7 {
				held[f7]--
			}
			moved = true
		}
		deferred = kept
		for next < len(p.rows) && len(p.inflight) < window && len(deferred) < window {
			i := next
			next++
			c, is7 := p.rows[i].Trace.Card, p.rows[i].IsFlow7()
			if held[c] > 0 || (is7 && held[f7] > 0) || !p.ready(i) {
				deferred = append(deferred, i)
				held[c]++
				if is7 {
					held[f7]++
				}
				continue
			}
			if err := p.sendRow(i); err != nil {
				return err
			}
			moved = true
		}
		pr.Update(int64(p.rep.Submitted), int64(p.rep.Submitted))
		if !moved || time.Since(p.lastPoll) > 200*time.Millisecond {
			if err := p.step(); err != nil {
				return err
			}
		}
	}
	for len(p.inflight) > 0 {
		if err := p.step(); err != nil {
			return err
		}
	}
	pr.Done(int64(len(p.rows)), int64(len(p.rows)))
	p.rep.Seconds = time.Since(start).Seconds()
	if p.rep.Seconds > 0 {
		p.rep.TxPerSecond = float64(p.rep.Submitted) / p.rep.Seconds
	}
	return nil
}

// ready says whether row i may be sent now. A row waits while its card has
// a flow-7 purchase in flight (whose re-check must see exactly the card's
// earlier rows) or a row of the same mapped time (ties in a history are
// ordered by arrival); a flow-7 row waits for its card's rows in flight, and,
// when the seller's epoch risk has to be observed, for every flow-7 row.
func (p *replay) ready(i int) bool {
	r := &p.rows[i]
	switch {
	case p.inflightAt[cardAt(r)] > 0 || p.f7card[r.Trace.Card] > 0:
		return false
	case !r.IsFlow7():
		return true
	case p.inflightC[r.Trace.Card] > 0:
		return false
	}
	return p.budget.Known || len(p.f7) == 0
}

// sendRow sends row i and steps the offline twin's history with it (in the
// card's order; the order across cards does not matter to either side).
func (p *replay) sendRow(i int) error {
	r := &p.rows[i]
	if r.IsFlow7() {
		if !p.budget.Known {
			if err := p.observeBudget(); err != nil {
				return err
			}
		}
		p.f7[i] = Flow7Check{Row: i, R: p.offline.Reputation(r.Trace.Card, r.At), RiskMax: p.budget.RiskMax, NewCard: len(p.offline.History(r.Trace.Card)) == 0}
		p.f7card[r.Trace.Card]++
	}
	if err := p.send(i); err != nil {
		return err
	}
	p.rep.Submitted++
	tr := r.Trace
	tr.TimeMs = r.At
	p.offline.Apply(&tr, 0, 0) // for the history: its decision and budgets are not used
	return nil
}

// send builds and broadcasts row i. It returns with the row in flight or
// settled (refused by CheckTx, or a duplicate resolved to its original).
func (p *replay) send(i int) error {
	r := &p.rows[i]
	tx, err := p.cl.Build(p.ctx, p.msg(r), client.Options{IdempotencyKey: r.Key, Memo: p.tm.Memo()})
	if err != nil {
		return err
	}
	st, err := p.rpc.Status(p.ctx) // the status Build used
	if err != nil {
		return err
	}
	validUntil := uint64(st.SyncInfo.LatestBlockHeight) + p.validFor
	hash := types.TxHash(tx)
	for {
		res, err := p.rpc.BroadcastTxSync(p.ctx, tx)
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "already exists in cache") {
				break // in the mempool already: wait for it like any other
			}
			if strings.Contains(msg, "mempool is full") {
				if _, err := p.poll(); err != nil {
					return err
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("broadcast: %w", err)
		}
		if res.Code != 0 {
			o := &Outcome{Code: types.Code(res.Code), Log: res.Log, Hash: hash}
			if o.Code == types.CodeDuplicate {
				// broadcast_tx_sync carries no Info: CheckTx names the
				// original transaction.
				ct, err := p.rpc.CheckTx(p.ctx, tx)
				if err != nil {
					return fmt.Errorf("check tx of a replayed row: %w", err)
				}
				if o, err = p.original(o, ct.Info); err != nil {
					return err
				}
			}
			return p.settled(i, o)
		}
		break
	}
	hx := hex.EncodeToString(hash)
	p.inflight[hx] = i
	p.validUntil[hx] = validUntil
	p.inflightAt[cardAt(r)]++
	p.inflightC[r.Trace.Card]++
	return nil
}

// step polls once and pauses if nothing settled.
func (p *replay) step() error {
	progress, err := p.poll()
	if err != nil || progress {
		return err
	}
	if len(p.inflight) > 0 && time.Since(p.lastSuccess) > p.o.Timeout {
		return fmt.Errorf("no transaction committed for %s (%d awaiting commit); is the node producing blocks?", p.o.Timeout, len(p.inflight))
	}
	select {
	case <-p.ctx.Done():
		return p.ctx.Err()
	case <-time.After(25 * time.Millisecond):
	}
	return nil
}

// poll scans the blocks committed since the last call for our transactions.
func (p *replay) poll() (bool, error) {
	p.lastPoll = time.Now()
	st, err := p.rpc.refresh(p.ctx)
	if err != nil {
		return false, err
	}
	latest := st.SyncInfo.LatestBlockHeight
	progress := false
	pending := false
	h := p.polled + 1
	for ; h <= latest && len(p.inflight) > 0 && !pending; h++ {
		blk, err := p.rpc.Block(p.ctx, &h)
		if err != nil {
			return progress, fmt.Errorf("block %d: %w", h, err)
		}
		p.btMu.Lock()
		p.blockTimes[h] = types.FloorDiv(blk.Block.Time.UnixNano(), 1e6)
		p.btMu.Unlock()
		var br *ctypes.ResultBlockResults
		for k, tx := range blk.Block.Txs {
			hash := types.TxHash(tx)
			hx := hex.EncodeToString(hash)
			i, ok := p.inflight[hx]
			if !ok {
				continue
			}
			if br == nil {
				if br, err = p.rpc.BlockResults(p.ctx, &h); err != nil {
					if strings.Contains(err.Error(), "could not find results") {
						pending = true // stored a moment after the block: next poll
						break
					}
					return progress, fmt.Errorf("block results %d: %w", h, err)
				}
				if len(br.TxsResults) != len(blk.Block.Txs) {
					return progress, fmt.Errorf("block %d has %d txs but %d results", h, len(blk.Block.Txs), len(br.TxsResults))
				}
			}
			res := br.TxsResults[k]
			o, err := outcomeOf(res, hash, h)
			if err != nil {
				return progress, err
			}
			if o.Code == types.CodeDuplicate { // an earlier run's copy was still pending
				if o, err = p.original(o, res.Info); err != nil {
					return progress, err
				}
			}
			p.lastCommit = max(p.lastCommit, h)
			if err := p.finish(hx, i, o); err != nil {
				return progress, err
			}
			progress = true
		}
		if pending {
			break
		}
	}
	if pending {
		p.polled = h - 1
	} else {
		p.polled = latest
	}
	// A transaction the mempool dropped never commits: fail it once its
	// validity has passed.
	for hx, i := range p.inflight {
		if p.validUntil[hx] < uint64(p.polled) {
			hash, _ := hex.DecodeString(hx)
			if err := p.finish(hx, i, &Outcome{Code: types.CodeExpired, Hash: hash,
				Log: fmt.Sprintf("not committed by its valid_until_height %d (chain at %d)", p.validUntil[hx], p.polled)}); err != nil {
				return progress, err
			}
			progress = true
		}
	}
	if progress {
		p.lastSuccess = time.Now()
	}
	return progress, nil
}

func (p *replay) finish(hx string, i int, o *Outcome) error {
	delete(p.inflight, hx)
	delete(p.validUntil, hx)
	r := &p.rows[i]
	if k := cardAt(r); p.inflightAt[k] <= 1 {
		delete(p.inflightAt, k)
	} else {
		p.inflightAt[k]--
	}
	if p.inflightC[r.Trace.Card] <= 1 {
		delete(p.inflightC, r.Trace.Card)
	} else {
		p.inflightC[r.Trace.Card]--
	}
	return p.settled(i, o)
}

// settled records row i's outcome. Rows settle in the order the chain
// executed them (poll reads each block in order), so for a flow-7 row it
// completes the offline decision with the mirrored epoch risk before it and
// charges the risk as the app does.
func (p *replay) settled(i int, o *Outcome) error {
	r := &p.rows[i]
	p.outcomes[i] = o
	c, ok := p.f7[i]
	if !ok {
		return nil
	}
	delete(p.f7, i)
	if p.f7card[r.Trace.Card] <= 1 {
		delete(p.f7card, r.Trace.Card)
	} else {
		p.f7card[r.Trace.Card]--
	}
	switch {
	case o.Code != types.CodeOK:
		return nil // a refused purchase changes nothing
	case o.Replayed || !p.budget.Known:
		p.budget.Known = false // charged long ago: observe again
	default:
		t, err := p.blockTimeMs(o.Height)
		if err != nil {
			return err
		}
		risk := p.eng.Risk(c.R, r.Trace.AmountPaise)
		c.Used = p.budget.Charge(p.epochOf(t), risk, p.params.Crms.EpochRiskBudgetNano)
		c.BudgetKnown = true
	}
	p.checks = append(p.checks, c)
	return nil
}

// observeBudget reads the seller's Risk_max and epoch risk from state that
// holds every flow-7 row sent so far.
func (p *replay) observeBudget() error {
	s, h, err := p.sellerNow()
	if err != nil {
		return err
	}
	t, err := p.blockTimeMs(h)
	if err != nil {
		return err
	}
	p.budget = SellerRisk{Known: true, Epoch: p.epochOf(t), RiskMax: riskMaxOf(p.params.Crms, s.Seller)}
	if s.OpenEpoch != nil {
		p.budget.Used = s.OpenEpoch.RiskUsedNano
	}
	return nil
}

// original resolves a duplicate to the result of the transaction that first
// used the idempotency key (named by info), waiting for it if it is still
// pending.
func (p *replay) original(dup *Outcome, info string) (*Outcome, error) {
	hash := OriginalTx(info)
	if hash == nil {
		return dup, nil
	}
	deadline := time.Now().Add(p.o.Timeout)
	for {
		res, err := p.rpc.Tx(p.ctx, hash, false)
		if err == nil {
			o, err := outcomeOf(&res.TxResult, hash, res.Height)
			if err != nil {
				return nil, err
			}
			o.Replayed = true
			return o, nil
		}
		if !strings.Contains(err.Error(), "not found") || time.Now().After(deadline) {
			return nil, fmt.Errorf("original tx %X of a replayed row: %w", hash, err)
		}
		select {
		case <-p.ctx.Done():
			return nil, p.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// query asks path of state at least as new as our last commit (a block's
// results can be served a moment before the app has committed it).
func (p *replay) query(path string) (*client.QueryResult, error) {
	for {
		q, err := p.cl.Query(p.ctx, path, false)
		if err != nil {
			return nil, err
		}
		if q.Height >= p.lastCommit {
			return q, nil
		}
		select {
		case <-p.ctx.Done():
			return nil, p.ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *replay) sellerNow() (*types.SellerResponse, int64, error) {
	q, err := p.query("/seller/" + p.o.Seller)
	if err != nil {
		return nil, 0, err
	}
	s, err := client.Decode[types.SellerResponse](q)
	if err != nil {
		return nil, 0, err
	}
	return s, q.Height, nil
}

// checkCards asks every card's decision on chain and compares it with the
// offline state at the answer's block time.
func (p *replay) checkCards() error {
	sr, _, err := p.sellerNow()
	if err != nil {
		return err
	}
	riskMax := riskMaxOf(p.params.Crms, sr.Seller)
	onChain := map[string]uint64{}
	for i := range p.rows {
		if o := p.outcomes[i]; o.Code == types.CodeOK {
			onChain[p.rows[i].Trace.Card]++
		}
	}
	cards := p.offline.Cards()
	answers := make([]*types.DecisionResponse, len(cards))
	heights := make([]int64, len(cards))
	errs := make([]error, len(cards))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				q, err := p.query(fmt.Sprintf("/crms/%s/%d/%s/0", cards[k], p.o.ProbePaise, p.o.Seller))
				if err == nil {
					heights[k] = q.Height
					if answers[k], err = client.Decode[types.DecisionResponse](q); err == nil {
						_, err = p.blockTimeMs(q.Height)
					}
				}
				errs[k] = err
			}
		}()
	}
	for k := range cards {
		next <- k
	}
	close(next)
	wg.Wait()
	rep := p.rep
	for k, card := range cards {
		if errs[k] != nil {
			return fmt.Errorf("decision query for %s: %w", card, errs[k])
		}
		tq, err := p.blockTimeMs(heights[k])
		if err != nil {
			return err
		}
		off := CardState{R: p.offline.Reputation(card, tq), HasHistory: len(p.offline.History(card)) > 0, Payments: onChain[card]}
		ms := CompareCard(p.eng, card, p.o.ProbePaise, riskMax, answers[k], off)
		rep.CardsChecked++
		if len(ms) == 0 {
			rep.CardsMatched++
		} else {
			rep.CardsMismatched++
		}
		rep.Mismatches = append(rep.Mismatches, ms...)
	}
	return nil
}

// refuseExistingHistory stops a fresh replay onto cards the chain already
// knows: the offline side starts from empty histories, and a re-run whose
// idempotency keys were forgotten would issue twice.
func refuseExistingHistory(ctx context.Context, cl *client.Client, cards []string) error {
	type hit struct {
		card string
		n    uint64
	}
	var mu sync.Mutex
	var hits []hit
	var firstErr error
	var wg sync.WaitGroup
	next := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				q, err := cl.Query(ctx, "/crms/"+c+"/0", false)
				var d *types.DecisionResponse
				if err == nil {
					d, err = client.Decode[types.DecisionResponse](q)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				} else if err == nil && d.Payments > 0 {
					hits = append(hits, hit{c, d.Payments})
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range cards {
		next <- c
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if len(hits) == 0 {
		return nil
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].card < hits[j].card })
	return fmt.Errorf("%d of the sample's %d cards already have payments on chain (e.g. %s: %d), and the sample's first row is not a replay this chain remembers: "+
		"the offline side starts from empty histories, so the comparison could not be exact (and a forgotten re-run would issue twice). Use a fresh chain or another sample",
		len(hits), len(cards), hits[0].card, hits[0].n)
}
