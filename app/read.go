package app

import (
	"errors"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The app's read face: what the node (gateway, audit page, metrics, peer
// policy) reads from committed state, so that nothing outside app/ reads
// app/state or app/store itself. Every method reads one committed view.

// Decide answers a CRMS decision question from committed state (SPEC §6.3)
// on the fast path: cached parameters, the commit's block time instead of
// the clock record (FinalizeBlock writes the same time there), no proof.
// Its answer is byte-identical to risk.DecisionQuery's, which /crms with prove runs.
// It returns the height it was answered at.
func (a *App) Decide(q risk.Question) (*types.DecisionResponse, int64, error) {
	view := a.db.View()
	defer view.Discard()
	return a.decide(view, q)
}

// CheckContext refuses a CRMS context multiplier outside the committed
// governed bounds, as the decision query and the chain refuse it (for a
// gateway that answers a bad request before signing anything).
func (a *App) CheckContext(contextNano int64) error {
	view := a.db.View()
	defer view.Discard()
	p := a.params.at(view)
	if p == nil {
		return types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	return risk.CheckContext(p.Crms, contextNano)
}

func (a *App) decide(view *store.View, q risk.Question) (*types.DecisionResponse, int64, error) {
	p := a.params.at(view)
	if p == nil {
		return nil, view.Height, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	d, err := a.risk.Decide(view, p, lastBlockTimeMs(view), q)
	return d, view.Height, err
}

// DB is the committed store the node opens and hands to New; DBOptions
// configure it. They are app/store's, named here so the node needs no
// import below app.
type (
	DB        = store.DB
	DBOptions = store.Options
)

// OpenDB opens (or creates) the committed store.
func OpenDB(o DBOptions) (*DB, error) { return store.Open(o) }

// Params are the governed parameters at the last commit (nil before
// genesis).
func (a *App) Params() *types.Params {
	v := a.db.View()
	defer v.Discard()
	return state.Params(v)
}

// Totals are the chain-wide counters at the last commit.
func (a *App) Totals() *types.Totals {
	v := a.db.View()
	defer v.Discard()
	return state.Totals(v)
}

// Terminal is a seller's terminal record at the last commit.
func (a *App) Terminal(seller, id string) (*types.Terminal, bool) {
	v := a.db.View()
	defer v.Discard()
	return members.Terminal(v, seller, id)
}

// SignerRef is what a signing key belongs to at the last commit.
func (a *App) SignerRef(pub []byte) (*types.SignerRef, bool) {
	v := a.db.View()
	defer v.Discard()
	return members.SignerRef(v, pub)
}

// ActiveMembers are the active sellers at the last commit, and its height
// (0, nil before the first commit).
func (a *App) ActiveMembers() (int64, []*types.SellerRecord) {
	v := a.db.View()
	defer v.Discard()
	if v.Height == 0 {
		return 0, nil
	}
	return v.Height, members.Active(v)
}

// ReputationCounts describe one pass of Reputations.
type ReputationCounts struct {
	Height    int64  // the commit read
	AtMs      int64  // its block time: the "now" of every reputation
	RminNano  int64  // the governed floor of reputation
	Cards     uint64 // cards read
	AtRmin    uint64 // of those, at or below the floor
	Truncated bool   // more cards than max exist
}

// Reputations computes, with the chain's CRMS engine and from one
// committed view, the reputation of each card at the commit's block time,
// in key order, at most max of them, calling fn with each (1e-9 units).
// The same view gives the same figures on every node; none is proven.
func (a *App) Reputations(max int, fn func(rNano int64)) (out ReputationCounts, err error) {
	v := a.db.View()
	defer v.Discard()
	defer func() {
		if x := recover(); x != nil {
			if f, ok := x.(store.Fault); ok {
				err = f
				return
			}
			panic(x)
		}
	}()
	p := state.Params(v)
	if p == nil || p.Crms == nil {
		return out, errors.New("chain not initialised")
	}
	out = ReputationCounts{Height: v.Height, AtMs: lastBlockTimeMs(v), RminNano: p.Crms.RminNano}
	var k risk.Keeper // its own engine cache: a report must not contend with consensus
	out.Cards, out.Truncated, err = k.Reputations(v, p.Crms, out.AtMs, max, func(r int64) {
		if r <= p.Crms.RminNano {
			out.AtRmin++
		}
		fn(r)
	})
	return out, err
}

// StateExport is one commit's whole state, entry by entry, for a
// state-sync snapshot. Close it when done.
type StateExport struct {
	Height  int64
	TimeNs  int64
	AppHash []byte
	view    *store.View
}

// SnapshotView opens the last commit for a snapshot: it stays that commit
// whatever blocks follow, until Close.
func (a *App) SnapshotView() *StateExport {
	v := a.db.View()
	return &StateExport{Height: v.Height, TimeNs: v.TimeNs, AppHash: v.Root, view: v}
}

// Each calls fn with every entry in key order, until fn fails.
func (e *StateExport) Each(fn func(key, value []byte) error) error {
	it := e.view.Iterator(nil, nil)
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the commit.
func (e *StateExport) Close() { e.view.Discard() }
