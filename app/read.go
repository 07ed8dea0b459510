package app

import (
	"github.com/bytepoints/bytepoints/app/risk"
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
