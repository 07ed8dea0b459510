package app

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bytepoints/bytepoints/app/imports"
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
	"crms":       qCRMS,
	"imports":    imports.Query,
}

// QueryPaths lists the supported paths (for help text).
func QueryPaths() []string {
	return []string{"/balance/{customer}", "/history/{customer}[/{page}/{limit}]", "/seller/{id}", "/sellers",
		"/statement/{epoch}", "/statements[/{before}]", "/totals", "/params", "/purchase/{hex}", "/redemption/{hex}",
		"/proposal/{id}", "/proposals", "/crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]", "/imports[/{seller}]"}
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
		return a.queryCRMS(view, args) // the cached fast path; same bytes as qCRMS
	case name == "p2p":
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
		res := QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
		// Nothing is committed to prove against before block 1.
		if rec != nil && res.Code == types.CodeNotFound && view.Height > 0 {
			if res.Proofs, err = proveAll(view, rec.keys); err != nil {
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
		if res.Proofs, err = proveAll(view, rec.keys); err != nil {
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
// proof, and that the answer is exactly what the proven entries give. The
// answer is re-assembled from the proven entries alone: a read of a key no
// entry proves (present or absent) fails, so an omitted proof can never
// pass for an absent record. List answers are complete by construction:
// they point-read entries by a proven count or sequence, or check that
// what a prefix holds matches a proven count (docs/protocol.md, Queries).
func VerifyQuery(path string, value []byte, proofs []*types.ProvenEntry, appHash []byte) error {
	if err := verifyEntries(proofs, appHash); err != nil {
		return err
	}
	return CheckAnswer(path, value, proofs)
}

// CheckAnswer is VerifyQuery for entries already verified against the app
// hash (by CometBFT's proof runtime, node/client): the answer must be
// exactly what the proven entries give.
func CheckAnswer(path string, value []byte, proven []*types.ProvenEntry) error {
	msg, err := reassemble(path, proven)
	if err != nil {
		return err
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

// VerifyAbsence checks a "not found" answer (code CodeNotFound, e.g.
// /seller/x for no seller x, /statement/N for an epoch without a
// statement, /purchase/h, /proposal/N) against an app hash: the proofs
// the answer carries must verify, and the proven entries must give "not
// found" for path, e.g. the proven absence of the record.
func VerifyAbsence(path string, proofs []*types.ProvenEntry, appHash []byte) error {
	if err := verifyEntries(proofs, appHash); err != nil {
		return err
	}
	return CheckAbsence(path, proofs)
}

// CheckAbsence is VerifyAbsence for entries already verified against the
// app hash.
func CheckAbsence(path string, proven []*types.ProvenEntry) error {
	if len(proven) == 0 {
		return fmt.Errorf("the answer carries no proofs")
	}
	_, err := reassemble(path, proven)
	var refused *assembleError
	switch {
	case err == nil:
		return fmt.Errorf("the proven entries give an answer for %s: it is not missing", path)
	case errors.As(err, &refused) && types.CodeOf(refused.err) == types.CodeNotFound:
		return nil
	}
	return err
}

// assembleError is an assembler's refusal on proven entries.
type assembleError struct{ err error }

func (e *assembleError) Error() string {
	return fmt.Sprintf("the proven entries do not support the answer: %v", e.err)
}
func (e *assembleError) Unwrap() error { return e.err }

// verifyEntries checks every entry's proof against appHash.
func verifyEntries(proofs []*types.ProvenEntry, appHash []byte) error {
	for _, e := range proofs {
		if err := store.VerifyEntry(e, appHash); err != nil {
			return err
		}
	}
	return nil
}

// reassemble runs path's assembler on the (verified) proven entries only.
func reassemble(path string, proofs []*types.ProvenEntry) (state.Msg, error) {
	name, args := splitPath(path)
	asm, ok := queryPaths[name]
	if !ok {
		return nil, fmt.Errorf("path %q cannot be verified", path)
	}
	pr := &provenReader{kv: store.NewMemKV(), proven: make(map[string]bool, len(proofs))}
	for _, e := range proofs {
		pr.proven[string(e.Key)] = true
		if e.Exists {
			pr.kv.Set(e.Key, e.Value)
		}
	}
	msg, err := safeAssemble(asm, pr, args)
	if pr.unproven != nil {
		if len(proofs) == 0 {
			return nil, fmt.Errorf("the answer carries no proofs")
		}
		return nil, fmt.Errorf("the answer depends on key %x, for which it carries no proof", pr.unproven)
	}
	if err != nil {
		return nil, &assembleError{err: err}
	}
	if len(proofs) == 0 {
		// Only an answer that read no state at all gets here; none does.
		return nil, fmt.Errorf("the answer carries no proofs")
	}
	return msg, nil
}

// provenReader is state as far as a proven answer shows it. Reading a key
// that no entry proves is refused (the assembler stops); iteration yields
// the proven present keys, and the assemblers check those against proven
// counts.
type provenReader struct {
	kv       *store.MemKV
	proven   map[string]bool
	unproven []byte
}

func (p *provenReader) Get(k []byte) []byte {
	if !p.proven[string(k)] {
		p.unproven = append([]byte(nil), k...)
		panic(store.Fault{Err: fmt.Errorf("no proof for key %x", k)})
	}
	return p.kv.Get(k)
}

func (p *provenReader) Iterator(s, e []byte) store.Iterator { return p.kv.Iterator(s, e) }

func (p *provenReader) ReverseIterator(s, e []byte) store.Iterator {
	return p.kv.ReverseIterator(s, e)
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
	// The record counts its terminals: a proof cannot show that no key was
	// left out of a range, but a missing terminal shows here.
	if uint32(len(out.Terminals)) != s.TerminalCount {
		return nil, types.Errorf(types.CodeInternal, "%d terminals of %s listed, its record counts %d", len(out.Terminals), args[0], s.TerminalCount)
	}
	out.EffectiveRiskMaxNano, out.RiskMaxIsDefault, out.RiskMaxClamped = risk.RiskMaxOf(p.Crms, s)
	out.EffectiveEarnRateBps = ledger.EarnRate(p, s)
	return out, nil
}

func qSellers(r store.Reader, _ []string) (state.Msg, error) {
	out := &types.SellersResponse{Sellers: state.Sellers(r)}
	// Complete by the proven count of seller records.
	if n := state.Totals(r).Sellers; uint64(len(out.Sellers)) != n {
		return nil, types.Errorf(types.CodeInternal, "%d sellers listed, the totals count %d", len(out.Sellers), n)
	}
	return out, nil
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

// maxStatements is how many statements /statements lists, newest first.
const maxStatements = 31

func qStatements(r store.Reader, args []string) (state.Msg, error) {
	out := &types.StatementsResponse{Open: state.Epoch(r)}
	// Statements are read through the closing-order index from the proven
	// count down: the newest maxStatements, none left out. With {before},
	// the page of those closed before the before-th statement (0-based
	// closing order), so a client can walk every statement.
	n := state.Totals(r).Statements
	if len(args) >= 1 {
		b, err := parseU64("before", args[0])
		if err != nil {
			return nil, err
		}
		if b > n {
			return nil, types.Errorf(types.CodeInvalidArgument, "before %d is past the %d statements closed", b, n)
		}
		n = b
	}
	for i := uint64(0); i < maxStatements && i < n; i++ {
		seq := n - 1 - i
		e, ok := state.StatementEpoch(r, seq)
		if !ok {
			return nil, types.Errorf(types.CodeInternal, "statement index entry %d is missing", seq)
		}
		st, ok := state.Statement(r, e)
		if !ok {
			return nil, types.Errorf(types.CodeInternal, "statement %d (epoch %d) is missing", seq, e)
		}
		out.Statements = append(out.Statements, st)
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

// maxProposals is how many proposals /proposals lists, newest first.
const maxProposals = 100

func qProposals(r store.Reader, _ []string) (state.Msg, error) {
	out := &types.ProposalsResponse{}
	// Ids run 1..next-1 and proposals are never deleted: point reads from
	// the proven counter down make the list complete.
	next := state.Totals(r).NextProposalId
	for id := next - 1; next > 0 && id >= 1 && len(out.Proposals) < maxProposals; id-- {
		p, ok := state.Proposal(r, id)
		if !ok {
			return nil, types.Errorf(types.CodeInternal, "proposal %d is missing", id)
		}
		out.Proposals = append(out.Proposals, p)
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

// decisionRisk is the CRMS engine cache of the decision assembler (qCRMS),
// which a verifier runs too; the cache never changes a result.
var decisionRisk = &risk.Keeper{}

// qCRMS answers /crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]
// from state alone: the parameters, the last block's time (the clock
// record), the card's window and the seller's record and open epoch, so a
// proven decision can be re-derived from its proofs. App.Decide gives the
// same bytes from its caches.
func qCRMS(r store.Reader, args []string) (state.Msg, error) {
	q, err := parseCRMS(args)
	if err != nil {
		return nil, err
	}
	p := state.Params(r)
	if p == nil {
		return nil, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	return decisionRisk.Decide(r, p, floorDiv(state.Clock(r).TimeNs, 1e6), q)
}

func parseCRMS(args []string) (risk.Question, error) {
	if len(args) < 2 || len(args) > 4 {
		return risk.Question{}, types.Errorf(types.CodeInvalidArgument, "usage: /crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]")
	}
	amount, err := parseU64("amount in paise", args[1])
	if err != nil {
		return risk.Question{}, err
	}
	q := risk.Question{CustomerID: args[0], AmountPaise: amount}
	if len(args) >= 3 {
		q.SellerID = args[2]
	}
	if len(args) == 4 {
		if q.ContextNano, err = strconv.ParseInt(args[3], 10, 64); err != nil {
			return risk.Question{}, types.Errorf(types.CodeInvalidArgument, "context %q must be an integer in 1e-9 units", args[3])
		}
	}
	return q, nil
}

// Decide answers a CRMS decision question from committed state (SPEC §6.3)
// on the fast path: cached parameters, the commit's block time instead of
// the clock record (FinalizeBlock writes the same time there), no proof.
// Its answer is byte-identical to qCRMS's, which /crms with prove runs.
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

// queryCRMS answers /crms without proofs on the fast path.
func (a *App) queryCRMS(view *store.View, args []string) QueryResult {
	fail := func(err error) QueryResult {
		return QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
	}
	q, err := parseCRMS(args)
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
