package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/sim"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/spf13/cobra"
)

// `sim replay`: the traces' purchases go to a running chain and the chain's
// CRMS is compared, exactly, with the offline engine over the same rows.

type replayFlags struct {
	traces    string
	limit     int
	cards     int
	window    int
	validFor  uint64
	timeScale int64
	margin    time.Duration
	probe     string
	utcOffset time.Duration
	timeout   time.Duration
}

func newSimReplayCmd(g *globals) *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay --traces FILE --home H [--limit N] [--cards M] [--node URL] [-o json]",
		Short: "Submit traces' purchases to a running network and compare on-chain CRMS with the offline simulation",
		Long: `replay submits a sample of a trace file to a running chain as Purchases of
this home's seller (signed by its operator key, no terminal), each carrying the
trace's own payment flow, then checks that the chain's CRMS agrees EXACTLY with
the offline engine (package sim) run over the same rows with the chain's own
CRMS parameters and rating table (read from /params, never the defaults).

Sample: the trace rows in file order, keeping only the first --cards cards if
given, up to --limit rows. Refunds (type 6) are left out (they record no flow
and are no payment decision) and so are zero-amount sales (a Purchase must be
positive); declined sales are submitted (their flow rates 0). The sample is
replayed in time order (file order among equal times). Customer id = the card
token, amount = the trace amount in paise, flow = the trace's flow (inferred
when the file has no flow column), as sim crms reads it.

Time: a purchase's payment time must lie within [block time - max_payment_lag
(7 days), block time + max_payment_lead] and traces are from the past, so every
trace time t is mapped to

    t' = base + (t - t0) / K          (integer ms, K a whole number)

t0 the sample's first time, base chosen so the newest row lands a minute before
the chain's latest block time and the oldest at least --margin inside the lag
window. K = 1 (real spacing) when the sample spans less than the window, else
the smallest K that fits (or --time-scale K). The map is monotone, so the
order is kept. Reputation depends on gaps (AvgT, its one-day floor, tau), so a
compressed replay does not reproduce the uncompressed what-if's R values; the
offline side is therefore run over the same t', which makes the comparison
exact. Use --limit/--cards to keep a sample under the window for K = 1.

Submission: transactions are broadcast one at a time, up to --window of them
awaiting their commit, in time order, except that a row which has to wait lets
other cards' rows go first (a card's rows always keep their order, and so do
the flow-7 rows, which share the seller's budget). A card
never has two purchases of the same t' in flight: ties in a history are
broken by arrival, on chain and offline alike. A row whose flow is 7 ("no CVM
granted by the CRMS") is re-checked by the chain against the card's history
and the seller's epoch risk budget: it is sent when none of its card's rows is
in flight and the card's later rows wait for its commit, so the chain sees
exactly the card's earlier rows. The seller's epoch risk is read from the
chain once (and again after a replayed re-check), then mirrored as the app
keeps it: each re-check charges its risk, saturating at the budget, in the
order the blocks executed them, and a new epoch (by block time) starts at 0.
Replay through a seller that is otherwise idle: anything else charging its
budget (CRMS-authorised redemptions) would show as mismatches.

Idempotency: each row's key is a hash of the row's fields and its occurrence
number, so running the same command again books nothing twice: rows come back
"replayed" with their original results, and the time map is read back from the
first row's original transaction (its memo). Keys are remembered for
--valid-for blocks (default: the chain's max_valid_ahead_blocks); a re-run
after that would issue again, so a fresh run refuses cards that already have
on-chain payments.

Checks, after every purchase committed:
  per flow-7 purchase   crms_violation and crms_reason of the PurchaseResult,
                        and R and risk of its crms event, against the offline
                        decision
  per card              /crms/{card}/{--probe}/{seller}/0: reputation_nano at
                        the answer's block time, the decision for the probe
                        amount (cvm_required, reason, risk, risk max, skip
                        limit, with the epoch risk the answer reports) and the
                        number of payments on record
Any mismatch (or a purchase that was not booked) is listed and the command
exits with status 1. Progress (rows, rate, ETA) goes to stderr.`,
		Example: `  bytepointsd sim gen --out traces.csv --scale 0.001 --seed 7
  bytepointsd sim replay --traces traces.csv --home ./net/seller-0 --limit 5000
  bytepointsd sim replay --traces traces.csv --home ./net/seller-0 --cards 100 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimReplay(cmd, g, f, g.output)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.traces, "traces", "", "trace CSV file (the sim format; header row)")
	fl.IntVar(&f.limit, "limit", 0, "replay at most N rows (0: all)")
	fl.IntVar(&f.cards, "cards", 0, "replay only the rows of the first M cards of the file (0: all)")
	fl.IntVar(&f.window, "window", 1000, "transactions awaiting their commit at once")
	fl.Uint64Var(&f.validFor, "valid-for", 0, "blocks each transaction (and its idempotency key) stays valid (0: the chain's max_valid_ahead_blocks)")
	fl.Int64Var(&f.timeScale, "time-scale", 0, "divide trace time gaps by K (0: 1 if the sample fits the payment-lag window, else the smallest K that fits)")
	fl.DurationVar(&f.margin, "margin", 2*time.Hour, "time the replay may take before its oldest payment would fall out of the lag window")
	fl.StringVar(&f.probe, "probe", "20.00", "amount (Rs) of the per-card decision compared at the end")
	fl.DurationVar(&f.utcOffset, "utc-offset", sim.DefaultUTCOffset, "offset from UTC of the traces' local date and time")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up when no transaction commits for this long")
	return cmd
}

// ---- report ----

// ReplayReport is the outcome of `sim replay` (its -o json).
type ReplayReport struct {
	ChainID   string `json:"chain_id"`
	Seller    string `json:"seller"`
	Traces    string `json:"traces"`
	RowsRead  int64  `json:"rows_read"`
	Refunds   int64  `json:"refunds_skipped"`
	ZeroSales int64  `json:"zero_amount_skipped"`
	Rows      int    `json:"rows"`
	Cards     int    `json:"cards"`

	TimeMap      ReplayTimeMap `json:"time_map"`
	Resumed      bool          `json:"resumed"`
	Submitted    int           `json:"purchases_submitted"`
	Committed    int           `json:"purchases_committed"`
	Replayed     int           `json:"purchases_replayed"`
	Failed       int           `json:"purchases_failed"`
	PointsIssued uint64        `json:"points_issued"`
	Seconds      float64       `json:"seconds"`
	TxPerSecond  float64       `json:"tx_per_second"`

	Flow7Checked int `json:"flow7_checked"`
	Flow7Matched int `json:"flow7_matched"`
	// Flow7BudgetUnverified counts replayed flow-7 rows whose budget input
	// is not known any more (their R, risk and any budget-independent
	// verdict were still checked).
	Flow7BudgetUnverified int `json:"flow7_budget_unverified"`
	// Flow7Reasons counts the chain's verdicts (crms_reason) on them.
	Flow7Reasons map[string]int `json:"flow7_reasons"`

	ProbePaise      uint64 `json:"probe_amount_paise"`
	CardsChecked    int    `json:"cards_checked"`
	CardsMatched    int    `json:"cards_matched"`
	CardsMismatched int    `json:"cards_mismatched"`

	Mismatches []ReplayMismatch `json:"mismatches"`
	OK         bool             `json:"ok"`
}

// ReplayTimeMap is t' = base + (t − t0)/scale, all in Unix ms.
type ReplayTimeMap struct {
	T0Ms      int64 `json:"t0_ms"`
	BaseMs    int64 `json:"base_ms"`
	Scale     int64 `json:"scale"`
	FirstMs   int64 `json:"first_ms"`
	LastMs    int64 `json:"last_ms"`
	MappedMin int64 `json:"mapped_first_ms"`
	MappedMax int64 `json:"mapped_last_ms"`
}

func (m ReplayTimeMap) at(t int64) int64 { return m.BaseMs + (t-m.T0Ms)/m.Scale }

func (m ReplayTimeMap) memo() string {
	return fmt.Sprintf("sim-replay t0=%d base=%d scale=%d", m.T0Ms, m.BaseMs, m.Scale)
}

func parseReplayMemo(s string) (t0, base, scale int64, ok bool) {
	n, err := fmt.Sscanf(s, "sim-replay t0=%d base=%d scale=%d", &t0, &base, &scale)
	return t0, base, scale, err == nil && n == 3 && scale >= 1
}

// ReplayMismatch is one disagreement (or a purchase that was not booked).
type ReplayMismatch struct {
	Kind    string `json:"kind"` // card, flow7, failed
	Card    string `json:"card"`
	Line    int64  `json:"line,omitempty"`
	Field   string `json:"field"`
	Chain   string `json:"chain"`
	Offline string `json:"offline"`
}

// ---- sample ----

type replayRow struct {
	tr   sim.Trace
	line int64
	key  string
	at   int64 // mapped payment time, ms
	out  *txOutcome
}

type replaySample struct {
	rows                    []replayRow
	read, refunds, zero     int64
	perCard                 map[string]int
	cardOrder               []string
	firstTimeMs, lastTimeMs int64
}

func loadReplaySample(path string, limit, cards int, offset time.Duration) (*replaySample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, err := sim.NewReader(f)
	if err != nil {
		return nil, err
	}
	rd.SetUTCOffset(offset)
	s := &replaySample{perCard: map[string]int{}}
	keep := map[string]bool{}
	seen := map[[32]byte]int{} // rows of the current second: repeats are counted
	var second int64 = -1
	var t sim.Trace
	for limit <= 0 || len(s.rows) < limit {
		if err := rd.Read(&t); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		s.read++
		// The key hashes the row's fields and counts identical rows, so it
		// is the same in every run over the same file and survives unrelated
		// edits. Identical rows share their second and the file is in time
		// order, so only the current second's rows are remembered (identical
		// rows far apart in an unsorted file would share a key: the second
		// comes back replayed and the card's payment count shows it).
		if t.TimeMs != second {
			clear(seen)
			second = t.TimeMs
		}
		h := sha256.Sum256(fmt.Appendf(nil, "%s,%d,%d,%d,%d,%d,%s,%s,%d,%d,%d", t.Card, t.ReadType, t.Date, t.Clock, t.Type,
			t.AmountPaise, t.Terminal, t.Shop, t.CVM, t.VerifyMs, t.Auth))
		occ := seen[h]
		seen[h] = occ + 1
		if cards > 0 && !keep[t.Card] {
			if len(keep) >= cards {
				continue
			}
			keep[t.Card] = true
		}
		if t.Type != sim.TxSale {
			s.refunds++
			continue
		}
		if t.AmountPaise == 0 {
			s.zero++
			continue
		}
		if err := types.ValidateCustomerID(t.Card); err != nil {
			return nil, fmt.Errorf("traces: line %d: card token cannot be a customer id: %v", rd.Line(), err)
		}
		if _, ok := s.perCard[t.Card]; !ok {
			s.cardOrder = append(s.cardOrder, t.Card)
		}
		s.perCard[t.Card]++
		s.rows = append(s.rows, replayRow{tr: t, line: rd.Line(), key: "simreplay-" + hex.EncodeToString(h[:20]) + "-" + strconv.Itoa(occ)})
	}
	if len(s.rows) == 0 {
		return nil, fmt.Errorf("%s: no sale to replay (read %d rows: %d refunds, %d of amount 0)", path, s.read, s.refunds, s.zero)
	}
	slices.SortStableFunc(s.rows, func(a, b replayRow) int {
		switch {
		case a.tr.TimeMs < b.tr.TimeMs:
			return -1
		case a.tr.TimeMs > b.tr.TimeMs:
			return 1
		}
		return 0
	})
	s.firstTimeMs, s.lastTimeMs = s.rows[0].tr.TimeMs, s.rows[len(s.rows)-1].tr.TimeMs
	return s, nil
}

// ---- chain side ----

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

// txOutcome is a committed (or refused) purchase.
type txOutcome struct {
	Code     types.Code
	Log      string
	Hash     []byte
	Height   int64
	Replayed bool
	Purchase *types.PurchaseResult
	// From the purchase's crms event (flow-7 rows only).
	HasCRMS        bool
	CRMSReputation int64
	CRMSRisk       int64
}

func outcomeOf(r *abcitypes.ExecTxResult, hash []byte, height int64) (*txOutcome, error) {
	o := &txOutcome{Code: types.Code(r.Code), Log: r.Log, Hash: hash, Height: height}
	if o.Code != types.CodeOK {
		return o, nil
	}
	if len(r.Data) > 0 {
		var d types.TxResultData
		if err := d.Unmarshal(r.Data); err != nil {
			return nil, fmt.Errorf("result of tx %X: %w", hash, err)
		}
		o.Purchase = d.GetPurchase()
	}
	for _, ev := range r.Events {
		if ev.Type != types.EventCRMS {
			continue
		}
		o.HasCRMS = true
		for _, a := range ev.Attributes {
			switch a.Key {
			case "reputation_nano":
				o.CRMSReputation, _ = strconv.ParseInt(a.Value, 10, 64)
			case "risk_nano":
				o.CRMSRisk, _ = strconv.ParseInt(a.Value, 10, 64)
			}
		}
	}
	return o, nil
}

// replay is one `sim replay` run: the sample, the chain's parameters, the
// offline twin and the submission pipeline. One goroutine broadcasts in
// order and polls the committed blocks for the results.
type replay struct {
	ctx      context.Context
	f        *replayFlags
	cl       *client.Client
	rpc      *cachedStatus
	seller   string
	params   *types.Params
	eng      *crms.Engine
	offline  *sim.Replayer
	sample   *replaySample
	rows     []replayRow
	tm       ReplayTimeMap
	validFor uint64
	probe    uint64
	rep      *ReplayReport
	checks   []flow7Check

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

	f7     map[int]flow7Check // flow-7 rows in flight, completed when they settle
	f7card map[string]int     // card → its flow-7 rows in flight
	budget sellerRisk         // the seller's epoch risk, mirrored
}

// sellerRisk mirrors the seller's epoch risk total the way the app keeps it
// (crms.ChargeBudget: a re-check charges its risk, saturating at the budget;
// an epoch close resets it). It is observed on chain once, then kept offline.
type sellerRisk struct {
	known   bool
	epoch   uint64
	used    int64
	riskMax int64
}

// flow7Check is what the offline side decided for a flow-7 row.
type flow7Check struct {
	i             int
	r             int64 // offline R at the row's time, before the row
	riskMax, used int64 // the seller's Risk_max and epoch risk before the row
	budgetKnown   bool  // false for a replayed row
}

func (p *replay) mismatch(m ReplayMismatch) { p.rep.Mismatches = append(p.rep.Mismatches, m) }

func cardAt(r *replayRow) string { return r.tr.Card + "@" + strconv.FormatInt(r.at, 10) }

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
	t = floorDiv(res.Header.Time.UnixNano(), 1e6)
	p.btMu.Lock()
	p.blockTimes[h] = t
	p.btMu.Unlock()
	return t, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
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
		p.blockTimes[h] = floorDiv(blk.Block.Time.UnixNano(), 1e6)
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
			o, err := outcomeOf(br.TxsResults[k], hash, h)
			if err != nil {
				return progress, err
			}
			if o.Code == types.CodeDuplicate { // an earlier run's copy was still pending
				if o, err = p.original(o); err != nil {
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
			if err := p.finish(hx, i, &txOutcome{Code: types.CodeExpired, Hash: hash,
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

func (p *replay) finish(hx string, i int, o *txOutcome) error {
	delete(p.inflight, hx)
	delete(p.validUntil, hx)
	r := &p.rows[i]
	if k := cardAt(r); p.inflightAt[k] <= 1 {
		delete(p.inflightAt, k)
	} else {
		p.inflightAt[k]--
	}
	if p.inflightC[r.tr.Card] <= 1 {
		delete(p.inflightC, r.tr.Card)
	} else {
		p.inflightC[r.tr.Card]--
	}
	return p.settled(i, o)
}

// settled records row i's outcome. Rows settle in the order the chain
// executed them (poll reads each block in order), so for a flow-7 row it
// completes the offline decision with the mirrored epoch risk before it and
// charges the risk as the app does.
func (p *replay) settled(i int, o *txOutcome) error {
	r := &p.rows[i]
	r.out = o
	c, ok := p.f7[i]
	if !ok {
		return nil
	}
	delete(p.f7, i)
	if p.f7card[r.tr.Card] <= 1 {
		delete(p.f7card, r.tr.Card)
	} else {
		p.f7card[r.tr.Card]--
	}
	switch {
	case o.Code != types.CodeOK:
		return nil // a refused purchase changes nothing
	case o.Replayed || !p.budget.known:
		p.budget.known = false // charged long ago: observe again
	default:
		t, err := p.blockTimeMs(o.Height)
		if err != nil {
			return err
		}
		e := p.epochOf(t)
		if e != p.budget.epoch {
			p.budget.epoch, p.budget.used = e, 0
		}
		c.used, c.budgetKnown = p.budget.used, true
		d := p.eng.Decide(c.r, p.rows[i].tr.AmountPaise, c.riskMax, 0, c.used)
		p.budget.used = crms.ChargeBudget(p.budget.used, d.Risk, p.params.Crms.EpochRiskBudgetNano)
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
	p.budget = sellerRisk{known: true, epoch: p.epochOf(t), riskMax: app.RiskMaxOf(p.params.Crms, s.Seller)}
	if s.OpenEpoch != nil {
		p.budget.used = s.OpenEpoch.RiskUsedNano
	}
	return nil
}

// original resolves a duplicate to the result of the transaction that first
// used the idempotency key, waiting for it if it is still pending.
func (p *replay) original(dup *txOutcome) (*txOutcome, error) {
	hash := originalTx(dup.Log)
	if hash == nil {
		return dup, nil
	}
	deadline := time.Now().Add(p.f.timeout)
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

// originalTx extracts "by tx <HEX>" from a duplicate's log.
func originalTx(log string) []byte {
	_, rest, ok := strings.Cut(log, "by tx ")
	if !ok {
		return nil
	}
	hx, _, _ := strings.Cut(rest, " ")
	hash, err := hex.DecodeString(hx)
	if err != nil || len(hash) != 32 {
		return nil
	}
	return hash
}

// waitUntil polls until cond holds, failing after --timeout without a commit.
func (p *replay) waitUntil(cond func() bool) error {
	for !cond() {
		if err := p.step(); err != nil {
			return err
		}
	}
	return nil
}

// send builds and broadcasts row i. It returns with the row in flight or
// settled (refused by CheckTx, or a duplicate resolved to its original).
func (p *replay) send(i int) error {
	r := &p.rows[i]
	tx, err := p.cl.Build(p.ctx, p.msg(r), client.Options{IdempotencyKey: r.key, Memo: p.tm.memo()})
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
			o := &txOutcome{Code: types.Code(res.Code), Log: res.Log, Hash: hash}
			if o.Code == types.CodeDuplicate {
				if o, err = p.original(o); err != nil {
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
	p.inflightC[r.tr.Card]++
	return nil
}

func (p *replay) msg(r *replayRow) *types.MsgPurchase {
	fc := r.tr.Flow()
	return &types.MsgPurchase{
		SellerId: p.seller, CustomerId: r.tr.Card, AmountPaise: r.tr.AmountPaise, PaymentTimeMs: r.at,
		Flow: &types.PaymentFlow{ReadType: types.ReadType(fc.ReadType), Cvm: types.CVM(fc.CVM),
			Auth: types.AuthResult(fc.Auth), VerificationMs: r.tr.VerifyMs},
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
	q, err := p.query("/seller/" + p.seller)
	if err != nil {
		return nil, 0, err
	}
	s, err := client.Decode[types.SellerResponse](q)
	if err != nil {
		return nil, 0, err
	}
	return s, q.Height, nil
}

func (p *replay) epochOf(ms int64) uint64 {
	return settle.EpochOf(floorDiv(ms, 1000), p.params.EpochSeconds)
}

// ---- the command ----

func runSimReplay(cmd *cobra.Command, g *globals, f *replayFlags, output string) error {
	if f.traces == "" {
		return errors.New("--traces is required")
	}
	if f.window < 1 {
		return errors.New("--window must be at least 1")
	}
	if f.timeScale < 0 {
		return errors.New("--time-scale must be 0 (auto) or a positive whole number")
	}
	probe, err := amountFlag("probe", f.probe)
	if err != nil {
		return err
	}
	seller := homeSeller(g)
	if seller == "" {
		return fmt.Errorf("%s has no seller id (config/app.toml): replay submits as the home's seller", g.home)
	}
	key, err := node.LoadKey(g.home, node.OperatorKey)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	cl, err := dialSigner(ctx, g, key)
	if err != nil {
		return err
	}
	sample, err := loadReplaySample(f.traces, f.limit, f.cards, f.utcOffset)
	if err != nil {
		return err
	}
	p := &replay{
		ctx: ctx, f: f, cl: cl, rpc: &cachedStatus{Client: cl.RPC}, seller: seller, sample: sample, rows: sample.rows, probe: probe,
		inflight: map[string]int{}, validUntil: map[string]uint64{}, inflightAt: map[string]int{}, inflightC: map[string]int{},
		blockTimes: map[int64]int64{}, f7: map[int]flow7Check{}, f7card: map[string]int{},
		rep: &ReplayReport{
			ChainID: cl.ChainID, Seller: seller, Traces: f.traces, RowsRead: sample.read, Refunds: sample.refunds,
			ZeroSales: sample.zero, Rows: len(sample.rows), Cards: len(sample.perCard), ProbePaise: probe, Mismatches: []ReplayMismatch{},
			Flow7Reasons: map[string]int{},
		},
	}
	cl.RPC = p.rpc
	if err := p.setup(); err != nil {
		return err
	}
	if err := p.submit(); err != nil {
		return err
	}
	p.checkPurchases()
	if err := p.checkCards(); err != nil {
		return err
	}
	rep := p.rep
	rep.OK = len(rep.Mismatches) == 0
	w := cmd.OutOrStdout()
	if output == "json" {
		if err := printJSON(w, rep); err != nil {
			return err
		}
	} else {
		printReplayReport(w, rep)
	}
	if !rep.OK {
		return &exitError{code: 1}
	}
	return nil
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
	cp := app.CrmsParams(p.params.Crms)
	if p.eng, err = crms.NewEngine(cp); err != nil {
		return fmt.Errorf("chain CRMS parameters: %w", err)
	}
	if p.offline, err = sim.NewReplayer(cp, app.Ratings(p.params.Crms)); err != nil {
		return fmt.Errorf("chain CRMS parameters: %w", err)
	}
	p.validFor = p.f.validFor
	if p.validFor == 0 || p.validFor > p.params.MaxValidAheadBlocks {
		p.validFor = p.params.MaxValidAheadBlocks
	}
	p.cl.ValidFor = p.validFor
	st, err := p.rpc.refresh(p.ctx)
	if err != nil {
		return err
	}
	p.polled = st.SyncInfo.LatestBlockHeight

	// t' = base + (t − t0)/K: the newest row a minute before the latest
	// block, the oldest at least --margin inside the lag window.
	const newestGapMs = 60_000
	nowMs := st.SyncInfo.LatestBlockTime.UnixMilli()
	lagMs := p.params.MaxPaymentLagSeconds * 1000
	usable := lagMs - p.f.margin.Milliseconds() - newestGapMs
	s := p.sample
	span := s.lastTimeMs - s.firstTimeMs
	if usable <= 0 {
		return fmt.Errorf("--margin %s leaves no room in the chain's %s payment-lag window", p.f.margin, time.Duration(lagMs)*time.Millisecond)
	}
	scale := p.f.timeScale
	if scale == 0 {
		scale = max(1, (span+usable-1)/usable)
	} else if span/scale > usable {
		return fmt.Errorf("--time-scale %d maps the sample's %s onto %s, more than the %s the lag window leaves", scale,
			time.Duration(span)*time.Millisecond, time.Duration(span/scale)*time.Millisecond, time.Duration(usable)*time.Millisecond)
	}
	p.tm = ReplayTimeMap{T0Ms: s.firstTimeMs, Scale: scale, FirstMs: s.firstTimeMs, LastMs: s.lastTimeMs, BaseMs: nowMs - newestGapMs - span/scale}

	// A re-run: the chain remembers the first row's key, and its original
	// transaction's memo holds the time map the chain's history uses.
	r0 := &p.rows[0]
	r0.at = p.tm.at(r0.tr.TimeMs)
	tx0, err := p.cl.Build(p.ctx, p.msg(r0), client.Options{IdempotencyKey: r0.key, Memo: p.tm.memo()})
	if err != nil {
		return err
	}
	ct, err := p.rpc.CheckTx(p.ctx, tx0)
	if err != nil {
		return fmt.Errorf("check tx: %w", err)
	}
	switch types.Code(ct.Code) {
	case types.CodeOK:
		if err := refuseExistingHistory(p.ctx, p.cl, s.cardOrder); err != nil {
			return err
		}
	case types.CodeDuplicate:
		hash := originalTx(ct.Log)
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
		t0, base, sc, ok := parseReplayMemo(body.Memo)
		if !ok || t0 != p.tm.T0Ms {
			return fmt.Errorf("the first row's idempotency key was used by tx %X with memo %q, not by a replay of this sample", hash, body.Memo)
		}
		p.tm.BaseMs, p.tm.Scale, p.rep.Resumed = base, sc, true
	default:
		return fmt.Errorf("the chain refuses the first row (line %d): %s: %s", r0.line, types.Code(ct.Code), ct.Log)
	}
	p.tm.MappedMin, p.tm.MappedMax = p.tm.at(s.firstTimeMs), p.tm.at(s.lastTimeMs)
	p.rep.TimeMap = p.tm
	for i := range p.rows {
		p.rows[i].at = p.tm.at(p.rows[i].tr.TimeMs)
	}
	return nil
}

// submit sends every row in order, keeping the offline twin in step.
func (p *replay) submit() error {
	pr := sim.NewProgress(os.Stderr, "replay", int64(len(p.rows)))
	start := time.Now()
	p.lastSuccess = start
	window := p.f.window
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
			c, is7 := p.rows[i].tr.Card, isFlow7(&p.rows[i])
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
			c, is7 := p.rows[i].tr.Card, isFlow7(&p.rows[i])
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
	if err := p.waitUntil(func() bool { return len(p.inflight) == 0 }); err != nil {
		return err
	}
	pr.Done(int64(len(p.rows)), int64(len(p.rows)))
	p.rep.Seconds = time.Since(start).Seconds()
	if p.rep.Seconds > 0 {
		p.rep.TxPerSecond = float64(p.rep.Submitted) / p.rep.Seconds
	}
	return nil
}

func isFlow7(r *replayRow) bool { return r.tr.Flow().CVM == crms.CVMNoCVMByCRMS }

// ready says whether row i may be sent now. A row waits while its card has
// a flow-7 purchase in flight (whose re-check must see exactly the card's
// earlier rows) or a row of the same mapped time (ties in a history are
// ordered by arrival); a flow-7 row waits for its card's rows in flight, and,
// when the seller's epoch risk has to be observed, for every flow-7 row.
func (p *replay) ready(i int) bool {
	r := &p.rows[i]
	switch {
	case p.inflightAt[cardAt(r)] > 0 || p.f7card[r.tr.Card] > 0:
		return false
	case !isFlow7(r):
		return true
	case p.inflightC[r.tr.Card] > 0:
		return false
	}
	return p.budget.known || len(p.f7) == 0
}

// sendRow sends row i and steps the offline twin's history with it (in the
// card's order; the order across cards does not matter to either side).
func (p *replay) sendRow(i int) error {
	r := &p.rows[i]
	if isFlow7(r) {
		if !p.budget.known {
			if err := p.observeBudget(); err != nil {
				return err
			}
		}
		p.f7[i] = flow7Check{i: i, r: p.offline.Reputation(r.tr.Card, r.at), riskMax: p.budget.riskMax}
		p.f7card[r.tr.Card]++
	}
	if err := p.send(i); err != nil {
		return err
	}
	p.rep.Submitted++
	tr := r.tr
	tr.TimeMs = r.at
	p.offline.Apply(&tr, 0, 0) // for the history: its decision and budgets are not used
	return nil
}

// step polls once and pauses if nothing settled.
func (p *replay) step() error {
	progress, err := p.poll()
	if err != nil || progress {
		return err
	}
	if len(p.inflight) > 0 && time.Since(p.lastSuccess) > p.f.timeout {
		return fmt.Errorf("no transaction committed for %s (%d awaiting commit); is the node producing blocks?", p.f.timeout, len(p.inflight))
	}
	select {
	case <-p.ctx.Done():
		return p.ctx.Err()
	case <-time.After(25 * time.Millisecond):
	}
	return nil
}

// checkPurchases counts the outcomes and re-decides every flow-7 purchase.
func (p *replay) checkPurchases() {
	rep := p.rep
	for i := range p.rows {
		r := &p.rows[i]
		switch o := r.out; {
		case o.Code != types.CodeOK:
			rep.Failed++
			p.mismatch(ReplayMismatch{Kind: "failed", Card: r.tr.Card, Line: r.line, Field: "code", Chain: o.Code.Name() + ": " + o.Log, Offline: "ok"})
		case o.Replayed:
			rep.Replayed++
		default:
			rep.Committed++
			if o.Purchase != nil {
				rep.PointsIssued += o.Purchase.PointsIssued
			}
		}
	}
	for _, c := range p.checks {
		r := &p.rows[c.i]
		o := r.out
		if o.Code != types.CodeOK {
			continue
		}
		rep.Flow7Checked++
		if o.Purchase != nil {
			rep.Flow7Reasons[o.Purchase.CrmsReason]++
		}
		ok := true
		bad := func(field, chain, off string) {
			ok = false
			p.mismatch(ReplayMismatch{Kind: "flow7", Card: r.tr.Card, Line: r.line, Field: field, Chain: chain, Offline: off})
		}
		if o.Purchase == nil || !o.HasCRMS {
			bad("crms_event", "missing", "a re-check (the flow is no_cvm_crms)")
			continue
		}
		d := p.eng.Decide(c.r, r.tr.AmountPaise, c.riskMax, 0, c.used)
		if o.CRMSReputation != c.r {
			bad("reputation_nano", strconv.FormatInt(o.CRMSReputation, 10), strconv.FormatInt(c.r, 10))
		}
		if o.CRMSRisk != d.Risk {
			bad("risk_nano", strconv.FormatInt(o.CRMSRisk, 10), strconv.FormatInt(d.Risk, 10))
		}
		if c.budgetKnown {
			if o.Purchase.CrmsViolation != d.CVMRequired {
				bad("crms_violation", strconv.FormatBool(o.Purchase.CrmsViolation), strconv.FormatBool(d.CVMRequired))
			}
			if o.Purchase.CrmsReason != d.Reason {
				bad("crms_reason", o.Purchase.CrmsReason, d.Reason)
			}
		} else {
			// Replayed: the budget it met is gone. With an untouched budget
			// the verdict is d0; the chain may differ only by a budget refusal.
			rep.Flow7BudgetUnverified++
			d0 := p.eng.Decide(c.r, r.tr.AmountPaise, c.riskMax, 0, 0)
			got := o.Purchase.CrmsReason
			consistent := got == d0.Reason || (d0.Reason == crms.ReasonSkip && got == crms.ReasonBudgetExhausted)
			if !consistent || o.Purchase.CrmsViolation != (got != crms.ReasonSkip) {
				bad("crms_reason", fmt.Sprintf("%s (violation %v)", got, o.Purchase.CrmsViolation), d0.Reason+" with an unused budget")
			}
		}
		if ok {
			rep.Flow7Matched++
		}
	}
}

// checkCards asks every card's decision on chain and compares it with the
// offline state at the answer's block time.
func (p *replay) checkCards() error {
	sr, _, err := p.sellerNow()
	if err != nil {
		return err
	}
	riskMax := app.RiskMaxOf(p.params.Crms, sr.Seller)
	onChain := map[string]uint64{}
	for i := range p.rows {
		if o := p.rows[i].out; o.Code == types.CodeOK {
			onChain[p.rows[i].tr.Card]++
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
				q, err := p.query(fmt.Sprintf("/crms/%s/%d/%s/0", cards[k], p.probe, p.seller))
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
		a := answers[k]
		tq, err := p.blockTimeMs(heights[k])
		if err != nil {
			return err
		}
		rOff := p.offline.Reputation(card, tq)
		d := p.eng.Decide(rOff, p.probe, riskMax, 0, a.EpochRiskUsedNano)
		if len(p.offline.History(card)) == 0 {
			d.Reason = crms.ReasonNewCard
		}
		if d.Risk < 0 {
			d.Risk = math.MaxInt64
		}
		rep.CardsChecked++
		n := len(rep.Mismatches)
		cmp := func(field string, chain, off any) {
			if c, o := fmt.Sprint(chain), fmt.Sprint(off); c != o {
				p.mismatch(ReplayMismatch{Kind: "card", Card: card, Field: field, Chain: c, Offline: o})
			}
		}
		cmp("reputation_nano", a.ReputationNano, rOff)
		cmp("cvm_required", a.CvmRequired, d.CVMRequired)
		cmp("reason", a.Reason, d.Reason)
		cmp("risk_nano", a.RiskNano, d.Risk)
		cmp("risk_max_nano", a.RiskMaxNano, d.RiskMax)
		cmp("skip_limit_paise", a.SkipLimitPaise, d.SkipLimitPaise)
		cmp("payments", a.Payments, onChain[card])
		if len(rep.Mismatches) == n {
			rep.CardsMatched++
		} else {
			rep.CardsMismatched++
		}
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

func printReplayReport(w io.Writer, r *ReplayReport) {
	ts := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05Z") }
	dur := func(ms int64) string {
		d := time.Duration(ms) * time.Millisecond
		if d >= 48*time.Hour {
			return fmt.Sprintf("%.1fd", d.Hours()/24)
		}
		return d.Round(time.Second).String()
	}
	tm := r.TimeMap
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "chain\t%s, seller %s\n", r.ChainID, r.Seller)
	fmt.Fprintf(tw, "traces\t%s: %d rows read, %d replayed (%d refunds and %d zero-amount sales left out)\n", r.Traces, r.RowsRead, r.Rows, r.Refunds, r.ZeroSales)
	fmt.Fprintf(tw, "time map\tt' = base + (t - t0)/%d: %s .. %s (%s) -> %s .. %s (%s)%s\n", tm.Scale,
		ts(tm.FirstMs), ts(tm.LastMs), dur(tm.LastMs-tm.FirstMs), ts(tm.MappedMin), ts(tm.MappedMax), dur(tm.MappedMax-tm.MappedMin),
		map[bool]string{true: ", read back from the first run", false: ""}[r.Resumed])
	fmt.Fprintf(tw, "cards replayed\t%d\n", r.Cards)
	fmt.Fprintf(tw, "purchases submitted\t%d in %.1f s (%.0f tx/s)\n", r.Submitted, r.Seconds, r.TxPerSecond)
	fmt.Fprintf(tw, "purchases committed\t%d new, %d replayed (booked before), %d failed; %d points issued\n", r.Committed, r.Replayed, r.Failed, r.PointsIssued)
	fmt.Fprintf(tw, "flow-7 re-checks matched\t%d of %d", r.Flow7Matched, r.Flow7Checked)
	if len(r.Flow7Reasons) > 0 {
		var rs []string
		for k, v := range r.Flow7Reasons {
			rs = append(rs, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(rs)
		fmt.Fprintf(tw, " (chain: %s)", strings.Join(rs, ", "))
	}
	if r.Flow7BudgetUnverified > 0 {
		fmt.Fprintf(tw, "; %d replayed: their budget input is gone, R, risk and verdict checked", r.Flow7BudgetUnverified)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "cards whose R matched\t%d of %d (and decision for Rs %s, payments on record)\n", r.CardsMatched, r.CardsChecked, types.FormatPaise(r.ProbePaise))
	fmt.Fprintf(tw, "mismatches\t%d\n", len(r.Mismatches))
	tw.Flush()
	if len(r.Mismatches) == 0 {
		fmt.Fprintln(w, "OK: the chain's CRMS agrees exactly with the offline replay")
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tCARD\tLINE\tFIELD\tCHAIN\tOFFLINE")
	for k, m := range r.Mismatches {
		if k == 50 {
			fmt.Fprintf(tw, "... %d more (see -o json)\n", len(r.Mismatches)-50)
			break
		}
		line := ""
		if m.Line > 0 {
			line = strconv.FormatInt(m.Line, 10)
		}
		card := m.Card
		if len(card) > 16 {
			card = card[:16] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Kind, card, line, m.Field, m.Chain, m.Offline)
	}
	tw.Flush()
}
