package sim

import (
	"io"
	"slices"

	"github.com/bytepoints/bytepoints/app/crms"
)

// Replayer is the offline twin of an on-chain replay at one Risk_max: it
// keeps every card's history window and every shop's epoch risk exactly as
// Simulate does, so that the reputations and decisions of `sim replay` (the
// same traces submitted to a chain as Purchases carrying each trace's own
// flow) can be compared with the offline ones bit for bit.
//
// Rules, identical to Simulate's:
//   - a sale's flow (Trace.Flow, rated by the table) enters the card's
//     window at the trace's TimeMs, after its decision; refunds enter nothing;
//   - the decision uses R = ReputationAt(window, TimeMs) and the shop's risk
//     used in the UTC day of TimeMs;
//   - a skip of a payment that NeedsVerification charges its risk to that
//     shop and day. The chain charges risk when a Purchase's flow is
//     CVMNoCVMByCRMS (SPEC §6.4); a replay that submits the trace's own flows
//     never sends that flow, so compare budgets only if the replay does.
type Replayer struct {
	e   *crms.Engine
	rc  *ratingCache
	bk  *book
	bud *budgets
}

// NewReplayer builds a replayer for the given chain parameters and rating
// table (use the chain's genesis values for an exact comparison).
func NewReplayer(p crms.Params, table crms.RatingTable) (*Replayer, error) {
	e, err := crms.NewEngine(p)
	if err != nil {
		return nil, err
	}
	if err := table.Validate(); err != nil {
		return nil, err
	}
	return &Replayer{e: e, rc: newRatingCache(table), bk: newBook(p.N), bud: newBudgets(1)}, nil
}

// Decide returns the decision for t against the state so far, changing
// nothing. For a refund it returns the decision a sale of the same amount
// would get.
func (r *Replayer) Decide(t *Trace, riskMaxNano, contextNano int64) crms.Decision {
	var hist []crms.Flow
	if id, ok := r.bk.ids[t.Card]; ok {
		hist = r.bk.hist[id]
	}
	used := r.bud.slot(t.Shop, t.TimeMs)[0]
	return r.e.Decide(r.e.ReputationAt(hist, t.TimeMs), t.AmountPaise, riskMaxNano, contextNano, used)
}

// Apply decides t (as Decide), charges a skip of a payment that
// NeedsVerification to its shop's epoch budget, and records a sale's flow in
// its card's window. It returns the decision.
func (r *Replayer) Apply(t *Trace, riskMaxNano, contextNano int64) crms.Decision {
	id, _ := r.bk.id(t.Card)
	used := r.bud.slot(t.Shop, t.TimeMs)
	d := r.e.Decide(r.e.ReputationAt(r.bk.hist[id], t.TimeMs), t.AmountPaise, riskMaxNano, contextNano, used[0])
	if t.Type != TxSale {
		return d
	}
	if !d.CVMRequired && t.NeedsVerification() {
		used[0] = crms.ChargeBudget(used[0], d.Risk, r.e.Params().EpochRiskBudget)
	}
	r.bk.record(id, crms.Flow{TimeMs: t.TimeMs, RatingNano: r.rc.rating(t.Flow())})
	return d
}

// Reputation is the card's reputation for a payment at atMs, from the flows
// recorded so far (0 for an unknown card).
func (r *Replayer) Reputation(card string, atMs int64) int64 {
	id, ok := r.bk.ids[card]
	if !ok {
		return r.e.ReputationAt(nil, atMs)
	}
	return r.e.ReputationAt(r.bk.hist[id], atMs)
}

// History returns a copy of the card's window (oldest first), nil if unknown.
func (r *Replayer) History(card string) []crms.Flow {
	id, ok := r.bk.ids[card]
	if !ok {
		return nil
	}
	return slices.Clone(r.bk.hist[id])
}

// Cards returns every card seen, sorted.
func (r *Replayer) Cards() []string {
	c := slices.Clone(r.bk.cards)
	slices.Sort(c)
	return c
}

// FinalReputations returns every card's reputation for a payment at atMs
// (typically the last block time of the replay).
func (r *Replayer) FinalReputations(atMs int64) map[string]int64 {
	out := make(map[string]int64, len(r.bk.cards))
	for id, c := range r.bk.cards {
		out[c] = r.e.ReputationAt(r.bk.hist[id], atMs)
	}
	return out
}

// EpochRiskUsed is the risk (nano) charged to shop in the UTC day of atMs.
func (r *Replayer) EpochRiskUsed(shop string, atMs int64) int64 {
	id, ok := r.bud.ids[shop]
	if !ok || r.bud.day[id] != epochOf(atMs) {
		return 0
	}
	return r.bud.used[id]
}

// ReplayOffline runs every trace of src through a new Replayer at one
// Risk_max and calls fn (if not nil) with each trace and its decision, in
// input order. It returns the replayer, whose per-card state is final.
func ReplayOffline(src Source, p crms.Params, table crms.RatingTable, riskMaxNano, contextNano int64, fn func(t *Trace, d crms.Decision) error) (*Replayer, error) {
	r, err := NewReplayer(p, table)
	if err != nil {
		return nil, err
	}
	var t Trace
	for {
		if err := src.Read(&t); err == io.EOF {
			return r, nil
		} else if err != nil {
			return nil, err
		}
		d := r.Apply(&t, riskMaxNano, contextNano)
		if fn != nil {
			if err := fn(&t, d); err != nil {
				return nil, err
			}
		}
	}
}
