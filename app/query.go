package app

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// QueryResult answers an abci_query.
type QueryResult struct {
	Code   types.Code
	Log    string
	Value  []byte
	Height int64
	Proofs []*types.ProvenEntry // with prove: one per state key the answer read
}

// An assembler builds a query's answer from state. The node runs it on
// committed state; a client runs the same function on the proven entries
// to check that the answer follows from them (VerifyQuery).
type assembler func(r store.Reader, args []string) (state.Msg, error)

var queryPaths = map[string]assembler{
	"balance":    qBalance,
	"history":    qHistory,
	"seller":     qSeller,
	"sellers":    qSellers,
	"statement":  qStatement,
	"statements": qStatements,
	"totals":     func(r store.Reader, _ []string) (state.Msg, error) { return state.Totals(r), nil },
	"params":     qParams,
	"purchase":   qPurchase,
	"redemption": qRedemption,
	"proposal":   qProposal,
	"proposals":  qProposals,
}

// QueryPaths lists the supported paths (for help text).
func QueryPaths() []string {
	return []string{"/balance/{customer}", "/history/{customer}[/{page}/{limit}]", "/seller/{id}", "/sellers",
		"/statement/{epoch}", "/statements", "/totals", "/params", "/purchase/{hex}", "/redemption/{hex}",
		"/proposal/{id}", "/proposals", "/crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]"}
}

func splitPath(path string) (string, []string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[0], parts[1:]
}

// Query answers path from the last commit, with proofs when prove is set.
func (a *App) Query(path string, prove bool) QueryResult {
	view := a.db.View()
	defer view.Discard()
	name, args := splitPath(path)
	switch name {
	case "crms":
		return a.queryCRMS(view, args)
	case "p2p":
		return peerFilter(view, args)
	}
	asm, ok := queryPaths[name]
	if !ok {
		return QueryResult{Code: types.CodeNotFound, Log: fmt.Sprintf("unknown query path %q; supported: %s", path, strings.Join(QueryPaths(), ", "))}
	}
	var r store.Reader = view
	var rec *recorder
	if prove {
		rec = &recorder{Reader: view, seen: map[string]bool{}}
		r = rec
	}
	msg, err := safeAssemble(asm, r, args)
	if err != nil {
		return QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
	}
	bz, err := msg.Marshal()
	if err != nil {
		return QueryResult{Code: types.CodeInternal, Log: err.Error()}
	}
	res := QueryResult{Value: bz, Height: view.Height}
	if rec != nil {
		for _, k := range rec.keys {
			e, err := view.Prove(k)
			if err != nil {
				return QueryResult{Code: types.CodeInternal, Log: err.Error()}
			}
			res.Proofs = append(res.Proofs, e)
		}
	}
	return res
}

func safeAssemble(asm assembler, r store.Reader, args []string) (m state.Msg, err error) {
	defer func() {
		if x := recover(); x != nil {
			if f, ok := x.(store.Fault); ok {
				err = f
				return
			}
			err = types.Errorf(types.CodeInternal, "query failed: %v", x)
		}
	}()
	return asm(r, args)
}

// VerifyQuery checks a proven answer against an app hash: every entry's
// proof, and that the answer is exactly what the proven entries give.
func VerifyQuery(path string, value []byte, proofs []*types.ProvenEntry, appHash []byte) error {
	if len(proofs) == 0 {
		return fmt.Errorf("the answer carries no proofs")
	}
	kv := store.NewMemKV()
	for _, e := range proofs {
		if err := store.VerifyEntry(e, appHash); err != nil {
			return err
		}
		if e.Exists {
			kv.Set(e.Key, e.Value)
		}
	}
	name, args := splitPath(path)
	asm, ok := queryPaths[name]
	if !ok {
		return fmt.Errorf("path %q cannot be verified", path)
	}
	msg, err := safeAssemble(asm, kv, args)
	if err != nil {
		return fmt.Errorf("the proven entries do not support the answer: %w", err)
	}
	bz, err := msg.Marshal()
	if err != nil {
		return err
	}
	if !bytes.Equal(bz, value) {
		return fmt.Errorf("the answer differs from what the proven entries give")
	}
	return nil
}

// recorder notes every key a query reads, so each can be proven.
type recorder struct {
	store.Reader
	seen map[string]bool
	keys [][]byte
}

func (r *recorder) note(k []byte) {
	if !r.seen[string(k)] {
		r.seen[string(k)] = true
		r.keys = append(r.keys, append([]byte(nil), k...))
	}
}

func (r *recorder) Get(k []byte) []byte { r.note(k); return r.Reader.Get(k) }

func (r *recorder) Iterator(s, e []byte) store.Iterator {
	return &recIter{Iterator: r.Reader.Iterator(s, e), r: r}
}

func (r *recorder) ReverseIterator(s, e []byte) store.Iterator {
	return &recIter{Iterator: r.Reader.ReverseIterator(s, e), r: r}
}

type recIter struct {
	store.Iterator
	r *recorder
}

func (i *recIter) Key() []byte { k := i.Iterator.Key(); i.r.note(k); return k }

// ---- assemblers ----

func argN(args []string, n int, usage string) error {
	if len(args) < n {
		return types.Errorf(types.CodeInvalidArgument, "usage: %s", usage)
	}
	return nil
}

func qBalance(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/balance/{customer}"); err != nil {
		return nil, err
	}
	if err := types.ValidateCustomerID(args[0]); err != nil {
		return nil, err
	}
	c, ok := state.Customer(r, args[0])
	out := &types.BalanceResponse{CustomerId: args[0], Exists: ok}
	if !ok {
		return out, nil
	}
	out.Points, out.WalletPubkey = c.Points, c.WalletPubkey
	var sum uint64
	for _, l := range state.Lots(r, args[0]) {
		out.Lots = append(out.Lots, l)
		sum += l.Points
	}
	// The record's own totals make the lot list complete: a proof cannot
	// show that no key was left out of a range, but a missing lot shows here.
	if sum != c.Points || uint32(len(out.Lots)) != c.LotCount {
		return nil, types.Errorf(types.CodeInternal, "lots of %s (%d in %d lots) do not match the balance %d in %d lots",
			args[0], sum, len(out.Lots), c.Points, c.LotCount)
	}
	return out, nil
}

func parseU64(what, s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, types.Errorf(types.CodeInvalidArgument, "%s %q is not a non-negative integer", what, s)
	}
	return v, nil
}

func qHistory(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/history/{customer}[/{page}/{limit}]"); err != nil {
		return nil, err
	}
	if err := types.ValidateCustomerID(args[0]); err != nil {
		return nil, err
	}
	page, limit := uint64(0), uint64(50)
	var err error
	if len(args) >= 2 {
		if page, err = parseU64("page", args[1]); err != nil {
			return nil, err
		}
	}
	if len(args) >= 3 {
		if limit, err = parseU64("limit", args[2]); err != nil {
			return nil, err
		}
	}
	p := state.Params(r)
	if p == nil {
		return nil, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	if limit == 0 || limit > uint64(p.MaxHistoryPage) {
		return nil, types.Errorf(types.CodeInvalidArgument, "limit must be 1 to %d", p.MaxHistoryPage)
	}
	c, _ := state.Customer(r, args[0])
	out := &types.HistoryResponse{CustomerId: args[0], Total: c.HistoryCount, Page: page, Limit: limit}
	// Newest first; entries are fetched by sequence number (point reads), so
	// a proven page is complete by construction.
	for i := uint64(0); i < limit; i++ {
		idx := page*limit + i
		if idx >= c.HistoryCount {
			break
		}
		var e types.HistoryEntry
		if !state.Get(r, types.HistoryKey(args[0], c.HistoryCount-1-idx), &e) {
			return nil, types.Errorf(types.CodeInternal, "history entry %d of %s is missing", c.HistoryCount-1-idx, args[0])
		}
		out.Entries = append(out.Entries, &e)
	}
	return out, nil
}

func qSeller(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/seller/{id}"); err != nil {
		return nil, err
	}
	if err := types.ValidateSellerID(args[0]); err != nil {
		return nil, err
	}
	s, ok := state.Seller(r, args[0])
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "seller %s does not exist", args[0])
	}
	p := state.Params(r)
	if p == nil {
		return nil, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	out := &types.SellerResponse{Seller: s, Terminals: state.Terminals(r, args[0]), OpenEpoch: state.SellerEpoch(r, args[0])}
	out.EffectiveRiskMaxNano, out.RiskMaxIsDefault = risk.RiskMaxOf(p.Crms, s)
	out.EffectiveEarnRateBps = ledger.EarnRate(p, s)
	return out, nil
}

func qSellers(r store.Reader, _ []string) (state.Msg, error) {
	return &types.SellersResponse{Sellers: state.Sellers(r)}, nil
}

func qStatement(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/statement/{epoch}"); err != nil {
		return nil, err
	}
	e, err := parseU64("epoch", args[0])
	if err != nil {
		return nil, err
	}
	st, ok := state.Statement(r, e)
	if !ok {
		open := state.Epoch(r)
		if e >= open.Epoch {
			return nil, types.Errorf(types.CodeNotFound, "epoch %d is not closed yet (open epoch is %d)", e, open.Epoch)
		}
		return nil, types.Errorf(types.CodeNotFound, "no statement for epoch %d", e)
	}
	return st, nil
}

func qStatements(r store.Reader, _ []string) (state.Msg, error) {
	out := &types.StatementsResponse{Open: state.Epoch(r)}
	it := r.ReverseIterator(types.StatementPrefix(), types.PrefixEnd(types.StatementPrefix()))
	defer it.Close()
	for n := 0; it.Valid() && n < 31; it.Next() {
		var s types.Statement
		if err := s.Unmarshal(it.Value()); err != nil {
			return nil, err
		}
		out.Statements = append(out.Statements, &s)
		n++
	}
	return out, nil
}

func qParams(r store.Reader, _ []string) (state.Msg, error) {
	p := state.Params(r)
	if p == nil {
		return nil, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	return p, nil
}

func parseTxID(what, s string) ([]byte, error) {
	id, err := hex.DecodeString(s)
	if err != nil || len(id) != 32 {
		return nil, types.Errorf(types.CodeInvalidArgument, "%s must be 64 hex characters (a tx hash)", what)
	}
	return id, nil
}

func qPurchase(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/purchase/{tx hash}"); err != nil {
		return nil, err
	}
	id, err := parseTxID("purchase id", args[0])
	if err != nil {
		return nil, err
	}
	p, ok := state.Purchase(r, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "purchase %s does not exist", args[0])
	}
	return p, nil
}

func qRedemption(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/redemption/{tx hash}"); err != nil {
		return nil, err
	}
	id, err := parseTxID("redemption id", args[0])
	if err != nil {
		return nil, err
	}
	x, ok := state.Redemption(r, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "redemption %s does not exist", args[0])
	}
	return x, nil
}

func qProposal(r store.Reader, args []string) (state.Msg, error) {
	if err := argN(args, 1, "/proposal/{id}"); err != nil {
		return nil, err
	}
	id, err := parseU64("proposal id", args[0])
	if err != nil {
		return nil, err
	}
	p, ok := state.Proposal(r, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "proposal %d does not exist", id)
	}
	return p, nil
}

func qProposals(r store.Reader, _ []string) (state.Msg, error) {
	out := &types.ProposalsResponse{}
	it := r.ReverseIterator(types.ProposalPrefix(), types.PrefixEnd(types.ProposalPrefix()))
	defer it.Close()
	for n := 0; it.Valid() && n < 100; it.Next() {
		var p types.Proposal
		if err := p.Unmarshal(it.Value()); err != nil {
			return nil, err
		}
		out.Proposals = append(out.Proposals, &p)
		n++
	}
	return out, nil
}

// peerFilter answers CometBFT's filter_peers queries
// (/p2p/filter/addr/{addr}, /p2p/filter/id/{id}): only active members'
// nodes may connect. Addresses say nothing about membership and pass.
// Before the first commit there is no member list yet, and every genesis
// node must be able to connect to produce block 1.
func peerFilter(view *store.View, args []string) QueryResult {
	if len(args) < 3 || args[0] != "filter" {
		return QueryResult{Code: types.CodeInvalidArgument, Log: "usage: /p2p/filter/{addr|id}/{value}"}
	}
	if args[1] == "addr" || view.Height == 0 {
		return QueryResult{Height: view.Height}
	}
	id := args[2]
	for _, s := range members.Active(view) {
		if s.NodeId == id || s.PeerId == id {
			return QueryResult{Height: view.Height}
		}
	}
	return QueryResult{Code: types.CodeUnauthorized, Log: fmt.Sprintf("peer %s is not an active member's node", id), Height: view.Height}
}

// Decide answers a CRMS decision question from committed state (SPEC §6.3):
// no consensus round and no proof (a decision is advice for the till; it
// is recomputed in consensus when it matters). It returns the height it
// was answered at.
func (a *App) Decide(q risk.Question) (*types.DecisionResponse, int64, error) {
	view := a.db.View()
	defer view.Discard()
	return a.decide(view, q)
}

func (a *App) decide(view *store.View, q risk.Question) (*types.DecisionResponse, int64, error) {
	p := a.params.at(view)
	if p == nil {
		return nil, view.Height, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	d, err := a.risk.Decide(view, p, lastBlockTimeMs(view), q)
	return d, view.Height, err
}

// queryCRMS answers /crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]].
func (a *App) queryCRMS(view *store.View, args []string) QueryResult {
	fail := func(err error) QueryResult {
		return QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
	}
	if len(args) < 2 || len(args) > 4 {
		return fail(types.Errorf(types.CodeInvalidArgument, "usage: /crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]"))
	}
	amount, err := parseU64("amount in paise", args[1])
	if err != nil {
		return fail(err)
	}
	q := risk.Question{CustomerID: args[0], AmountPaise: amount}
	if len(args) >= 3 {
		q.SellerID = args[2]
	}
	if len(args) == 4 {
		if q.ContextNano, err = strconv.ParseInt(args[3], 10, 64); err != nil {
			return fail(types.Errorf(types.CodeInvalidArgument, "context %q must be an integer in 1e-9 units", args[3]))
		}
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
