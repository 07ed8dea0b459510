package app

import (
	"fmt"
	"strings"

	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
)

// The query router: a path's first segment names a module's assembler
// (each module's query.go); the router runs it on the last commit, records
// what it read and proves that. The client side of proofs is verify.go.

// QueryResult answers an abci_query.
type QueryResult = query.Result

// assemblers is the router's table. k is the CRMS engine cache the
// decision query uses (the node passes its own, a verifier a fresh one).
func assemblers(k *risk.Keeper) map[string]query.Assembler {
	return map[string]query.Assembler{
		"balance":    ledger.QueryBalance,
		"history":    ledger.QueryHistory,
		"purchase":   ledger.QueryPurchase,
		"redemption": ledger.QueryRedemption,
		"seller":     members.SellerQuery(sellerTerms),
		"sellers":    members.QuerySellers,
		"params":     members.QueryParams,
		"proposal":   members.QueryProposal,
		"proposals":  members.QueryProposals,
		"statement":  settle.QueryStatement,
		"statements": settle.QueryStatements,
		"totals":     settle.QueryTotals,
		"crms":       risk.DecisionQuery(k),
		"upgrade":    upgrade.Query,
		"campaigns":  program.QueryCampaigns,
		"imports":    imports.Query,
	}
}

// sellerTerms adds to /seller/{id} what the modules above members say
// about a seller: its open-epoch accumulator (settle), effective risk
// maximum (risk) and earn rate (ledger).
func sellerTerms(r store.Reader, p *types.Params, out *types.SellerResponse) {
	out.OpenEpoch = settle.SellerEpoch(r, out.Seller.SellerId)
	out.EffectiveRiskMaxNano, out.RiskMaxIsDefault, out.RiskMaxClamped = risk.RiskMaxOf(p.Crms, out.Seller)
	out.EffectiveEarnRateBps = ledger.EarnRate(p, out.Seller)
}

// QueryPaths lists the supported paths (for help text).
func QueryPaths() []string {
	return []string{"/balance/{customer}", "/history/{customer}[/{page}/{limit}]", "/seller/{id}", "/sellers",
		"/statement/{epoch}", "/statements[/{before}]", "/totals", "/params", "/purchase/{hex}", "/redemption/{hex}",
		"/proposal/{id}", "/proposals", "/upgrade", "/campaigns/{seller}", "/crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]", "/imports[/{seller}]"}
}

func splitPath(path string) (string, []string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[0], parts[1:]
}

// Query answers path from the last commit, with proofs when prove is set.
//
// With prove, a successful answer carries a proof for every state key its
// assembler read, present or absent, and VerifyQuery checks it. A "not
// found" answer (code CodeNotFound from the assembler) carries the same:
// the proofs of what was read, among them the absence of the missing
// record, and VerifyAbsence checks it. Other refusals (malformed
// arguments) read no state and carry no proofs.
func (a *App) Query(path string, prove bool) QueryResult {
	view := a.db.View()
	defer view.Discard()
	name, args := splitPath(path)
	switch {
	case name == "crms" && !prove:
		return a.queryCRMS(view, args) // the cached fast path; same bytes as risk.DecisionQuery
	case name == "p2p":
		return peerFilter(view, args)
	}
	asm, ok := a.queries[name]
	if !ok {
		return QueryResult{Code: types.CodeNotFound, Log: fmt.Sprintf("unknown query path %q; supported: %s", path, strings.Join(QueryPaths(), ", "))}
	}
	var r store.Reader = view
	var rec *query.Recorder
	if prove {
		rec = query.NewRecorder(view)
		r = rec
	}
	msg, err := query.Run(asm, r, args)
	if err != nil {
		res := QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
		// Nothing is committed to prove against before block 1.
		if rec != nil && res.Code == types.CodeNotFound && view.Height > 0 {
			if res.Proofs, err = proveAll(view, rec.Keys()); err != nil {
				return QueryResult{Code: types.CodeInternal, Log: err.Error(), Height: view.Height}
			}
		}
		return res
	}
	bz, err := msg.Marshal()
	if err != nil {
		return QueryResult{Code: types.CodeInternal, Log: err.Error()}
	}
	res := QueryResult{Value: bz, Height: view.Height}
	if rec != nil {
		if res.Proofs, err = proveAll(view, rec.Keys()); err != nil {
			return QueryResult{Code: types.CodeInternal, Log: err.Error()}
		}
	}
	return res
}

func proveAll(view *store.View, keys [][]byte) ([]*types.ProvenEntry, error) {
	out := make([]*types.ProvenEntry, 0, len(keys))
	for _, k := range keys {
		e, err := view.Prove(k)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// peerFilter answers CometBFT's filter_peers queries
// (/p2p/filter/addr/{addr}, /p2p/filter/id/{id}): only active members'
// nodes may connect (members.PeerAllowed). Addresses say nothing about
// membership and pass. Before the first commit there is no member list
// yet, and every genesis node must be able to connect to produce block 1.
func peerFilter(view *store.View, args []string) QueryResult {
	if len(args) < 3 || args[0] != "filter" {
		return QueryResult{Code: types.CodeInvalidArgument, Log: "usage: /p2p/filter/{addr|id}/{value}"}
	}
	if args[1] == "addr" || view.Height == 0 {
		return QueryResult{Height: view.Height}
	}
	id := args[2]
	if members.PeerAllowed(view, id) {
		return QueryResult{Height: view.Height}
	}
	return QueryResult{Code: types.CodeUnauthorized, Log: fmt.Sprintf("peer %s is not an active member's node", id), Height: view.Height}
}

// queryCRMS answers /crms without proofs on the fast path.
func (a *App) queryCRMS(view *store.View, args []string) QueryResult {
	fail := func(err error) QueryResult {
		return QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
	}
	q, err := risk.ParseQuestion(args)
	if err != nil {
		return fail(err)
	}
	d, h, err := a.decide(view, q)
	if err != nil {
		return fail(err)
	}
	bz, err := d.Marshal()
	if err != nil {
		return fail(err)
	}
	return QueryResult{Value: bz, Height: h}
}
