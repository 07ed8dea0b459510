package app

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"runtime/debug"

	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
)

// Config configures an App.
type Config struct {
	ChainID string
	// CheckInvariants runs the SPEC §5.5 invariants after every block and
	// fails the block (halting the node) when one breaks.
	CheckInvariants bool
}

// Validator is a validator set entry in the app's terms.
type Validator struct {
	PubKey []byte // Ed25519
	Power  int64
}

// TxResult is the outcome of one transaction.
type TxResult struct {
	Code types.Code
	Log  string
	// Data is the encoded types.TxResultData: on success, and on a replay
	// (code 6), where it is the original's with ReplayOf set.
	Data []byte
	// Info is, for codes 6 and 15, the lower-case hex hash of the
	// transaction that booked the idempotency key.
	Info    string
	MsgType string // MsgName of the message; "" when it did not decode
	Events  []types.Event
}

// Block is a decided block to execute.
type Block struct {
	Height int64
	TimeNs int64 // block time, Unix nanoseconds
	Txs    [][]byte
}

// BlockResult is what FinalizeBlock reports.
type BlockResult struct {
	TxResults        []TxResult
	Events           []types.Event
	ValidatorUpdates []Validator
	AppHash          []byte
	// AppVersion is the new app version when this block applied an
	// upgrade (0: unchanged); the node hands it to CometBFT as
	// ConsensusParams.Version.App, so the next headers carry it.
	AppVersion uint64
}

// App is the state machine. Its consensus methods (InitChain,
// FinalizeBlock, Commit) are called from one goroutine; CheckTx and Query
// read only committed state and may run concurrently with them.
type App struct {
	db  *store.DB
	cfg Config

	// Uncommitted work: base holds staged blocks (InitChain + the current
	// block) over the committed view, until Commit.
	view   *store.View
	base   *store.Cache
	height int64 // height being built (0 while only InitChain is staged)
	timeNs int64 // its block time

	risk    *risk.Keeper
	router  router
	queries map[string]query.Assembler
	params  paramsCache
	sigs    *verifiedTxs
	// upgrades are the upgrade handlers this binary carries.
	upgrades []upgrade.Handler
	// initialHeight is the genesis's first block height (export.go).
	initialHeight int64
}

// New returns an App over db.
func New(db *store.DB, cfg Config) *App {
	k := &risk.Keeper{}
	return &App{db: db, cfg: cfg, risk: k, queries: assemblers(k), sigs: newVerifiedTxs(verifiedTxsSize), upgrades: upgrade.Handlers(), router: router{
		ledger:  ledger.MsgServer{Risk: k},
		members: members.MsgServer{ValidateParams: ValidateParams},
		settle:  settle.MsgServer{},
		program: program.MsgServer{},
		imports: imports.MsgServer{},
	}}
}

// ChainID is the chain this app accepts transactions for.
func (a *App) ChainID() string { return a.cfg.ChainID }

// DB exposes the committed store (snapshots, queries).
func (a *App) DB() *store.DB { return a.db }

// Info is the last committed height and app hash.
func (a *App) Info() (int64, []byte) {
	h, root := a.db.LastCommit()
	if h == 0 {
		return 0, nil
	}
	return h, root
}

func (a *App) working() *store.Cache {
	if a.base == nil {
		a.view = a.db.View()
		a.base = store.NewCache(a.view)
	}
	return a.base
}

// InitChain writes the genesis state and returns its app hash. Validators
// are CometBFT's genesis validators; every founding seller's validator key
// must be among them with equal power.
func (a *App) InitChain(chainID string, genesisTimeNs int64, appState []byte, vals []Validator) ([]byte, error) {
	if a.cfg.ChainID == "" {
		a.cfg.ChainID = chainID
	}
	if chainID != a.cfg.ChainID {
		return nil, fmt.Errorf("genesis chain id %q does not match the node's %q", chainID, a.cfg.ChainID)
	}
	if e, err := parseExport(appState); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		a.discard()
		return a.initFromExport(store.NewCache(a.working()), e, vals)
	}
	params, sellers, err := ParseGenesis(appState)
	if err != nil {
		return nil, err
	}
	if err := matchValidators(sellers, vals); err != nil {
		return nil, err
	}
	a.discard()
	blk := store.NewCache(a.working())
	c := &state.Ctx{KV: blk, Height: 0, Time: types.FloorDiv(genesisTimeNs, 1e9), TimeMs: types.FloorDiv(genesisTimeNs, 1e6), Params: params, Actor: types.ActorChain}
	if err := initGenesis(c, params, sellers); err != nil {
		return nil, err
	}
	return a.stage(blk, true)
}

func matchValidators(sellers []*types.SellerRecord, vals []Validator) error {
	if len(vals) == 0 {
		return nil // CometBFT takes the validators from the app (none set in genesis)
	}
	if len(vals) != len(sellers) {
		return fmt.Errorf("genesis has %d validators but %d founding sellers; every seller runs exactly one validator", len(vals), len(sellers))
	}
	for _, s := range sellers {
		found := false
		for _, v := range vals {
			if bytes.Equal(v.PubKey, s.ValidatorPubkey) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("seller %s's validator key %X is not a genesis validator", s.SellerId, s.ValidatorPubkey)
		}
	}
	return nil
}

// stage folds a block branch into the uncommitted base and the Merkle trie.
// InitChain's branch is kept in base, where block 1 reads genesis; a
// block's is not (Commit follows and drops base).
func (a *App) stage(blk *store.Cache, keep bool) ([]byte, error) {
	root, err := a.db.Stage(blk.Changes())
	if err != nil {
		return nil, err
	}
	if keep {
		blk.Write(a.base)
	}
	return root, nil
}

// discard drops uncommitted work.
func (a *App) discard() {
	if a.view != nil {
		a.view.Discard()
	}
	a.view, a.base = nil, nil
	a.db.Discard()
}

// FinalizeBlock executes a decided block: block-start work (idempotency
// pruning, expiry, epoch close), then each transaction in its own branch,
// then block-end work (governance); it returns the results and app hash.
// An error means storage failed or an invariant broke: the node must halt.
func (a *App) FinalizeBlock(b Block) (res *BlockResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("finalize block %d: %v", b.Height, r)
		}
	}()
	last, _ := a.db.LastCommit()
	if want := max(last+1, a.initialHeight); b.Height != want {
		return nil, fmt.Errorf("finalize block %d but last commit is %d (initial height %d)", b.Height, last, max(a.initialHeight, 1))
	}
	a.height, a.timeNs = b.Height, b.TimeNs
	blk := store.NewCache(a.working())
	params := state.Params(blk)
	if params == nil {
		return nil, fmt.Errorf("no parameters in state: InitChain never ran")
	}
	chain := &state.Ctx{KV: blk, Height: b.Height, Time: types.FloorDiv(b.TimeNs, 1e9), TimeMs: types.FloorDiv(b.TimeNs, 1e6), Params: params, Actor: types.ActorChain}
	// The block's time in state: "now" for the decision query, provable.
	state.PutClock(blk, &types.ChainClock{Height: b.Height, TimeNs: b.TimeNs})
	// A scheduled upgrade's migration runs before anything else of its
	// block; a binary without its handler applies nothing (NeededError).
	version, err := upgrade.Begin(chain, a.upgrades)
	if err != nil {
		return nil, err
	}
	if version != 0 {
		chain.Params = state.Params(blk)
	}
	if err := a.beginBlock(chain); err != nil {
		return nil, err
	}
	out := &BlockResult{AppVersion: version}
	for _, tx := range b.Txs {
		out.TxResults = append(out.TxResults, a.deliverTx(blk, chain, tx))
	}
	updates, err := a.endBlock(chain)
	if err != nil {
		return nil, err
	}
	out.ValidatorUpdates = updates
	out.Events = chain.Events()
	if a.cfg.CheckInvariants {
		if err := CheckInvariants(blk); err != nil {
			return nil, fmt.Errorf("block %d: %w", b.Height, err)
		}
	}
	if out.AppHash, err = a.stage(blk, false); err != nil {
		return nil, err
	}
	return out, nil
}

// beginBlock does the block-level work that precedes the transactions:
// forget idempotency records past the offline window, expire lots and
// close the settlement epoch when its boundary has passed. Each step is
// bounded per block (SPEC §2).
func (a *App) beginBlock(c *state.Ctx) error {
	pruneIdempotency(c.KV, c.Time, c.Height, int(c.Params.MaxIdempotencyPrunesPerBlock))
	budget := int(c.Params.MaxExpiriesPerBlock)
	if due, boundary := settle.Due(c); due {
		n, _, err := ledger.ExpireBefore(c, boundary, budget)
		if err != nil {
			return err
		}
		budget -= n
		settle.Close(c)
	}
	if _, _, err := ledger.ExpireBefore(c, c.Time, budget); err != nil {
		return err
	}
	// Pending points past their return window become available (SPEC §5.9).
	_, err := ledger.ReleaseBefore(c, c.Time, int(c.Params.MaxReleasesPerBlock))
	return err
}

// endBlock prunes per-booking records past the retention, expires lapsed
// proposals and returns the block's validator
// updates (members joining, leaving, suspended or reinstated).
func (a *App) endBlock(c *state.Ctx) ([]Validator, error) {
	// Per-booking records past the retention leave state (issue 20).
	ledger.PruneRecords(c, int(c.Params.MaxRecordPrunesPerBlock))
	var out []Validator
	for _, u := range members.EndBlock(c) {
		out = append(out, Validator{PubKey: u.PubKey, Power: u.Power})
	}
	return out, nil
}

// Commit persists the block staged by FinalizeBlock.
func (a *App) Commit() error {
	if a.height == 0 {
		return fmt.Errorf("commit without a finalized block")
	}
	if err := a.db.Commit(a.height, a.timeNs); err != nil {
		return err
	}
	if a.view != nil {
		a.view.Discard()
	}
	a.view, a.base, a.height = nil, nil, 0
	return nil
}

// CheckTx validates a transaction against the last committed state without
// writing anything: the mempool's admission check. A replay of a booked
// transaction is answered here already (code 6 with the original result).
func (a *App) CheckTx(txBytes []byte) TxResult {
	p, err := a.ParseTx(txBytes)
	if err != nil {
		return failed(err) // stateless refusals need no state
	}
	view := a.db.View()
	defer view.Discard()
	params := a.params.at(view)
	if params == nil {
		return TxResult{Code: types.CodeInternal, Log: "chain not initialised: no block committed yet"}
	}
	kv := store.NewCache(view)
	// Block time is unknown before the block; the last block's time stands in.
	nowMs := lastBlockTimeMs(view)
	c := &state.Ctx{KV: kv, Height: view.Height + 1, Time: types.FloorDiv(nowMs, 1000), TimeMs: nowMs, Params: params, Actor: types.ActorChain, Admission: true}
	return a.runTx(kv, c, p)
}

// RecheckTx re-runs, after a block, what that block can have changed for
// a transaction waiting in the mempool: its expiry, its signer's standing
// and its idempotency pair (booked by the block?). The decoding and the
// signature were checked at admission (the verified-signature cache finds
// it), and the message's own checks run again when a block includes it:
// re-running every handler for every waiting transaction after every block
// would cost the block's work once more.
func (a *App) RecheckTx(txBytes []byte) TxResult {
	p, err := a.ParseTx(txBytes)
	if err != nil {
		return failed(err)
	}
	view := a.db.View()
	defer view.Discard()
	params := a.params.at(view)
	if params == nil {
		return TxResult{Code: types.CodeInternal, Log: "chain not initialised: no block committed yet"}
	}
	nowMs := lastBlockTimeMs(view)
	c := &state.Ctx{Height: view.Height + 1, Time: types.FloorDiv(nowMs, 1000), TimeMs: nowMs, Params: params, Actor: types.ActorChain, TxHash: p.Hash}
	if _, res := ante(view, c, p); res != nil {
		res.MsgType = MsgName(&p.Body)
		return *res
	}
	return TxResult{Code: types.CodeOK, MsgType: MsgName(&p.Body)}
}

// lastBlockTimeMs is the committed block's time: what CheckTx and queries
// use for "now" (the next block's time is not known yet).
func lastBlockTimeMs(v *store.View) int64 { return types.FloorDiv(v.TimeNs, 1e6) }

// deliverTx runs one transaction of a block.
func (a *App) deliverTx(blk *store.Cache, chain *state.Ctx, txBytes []byte) TxResult {
	p, err := a.ParseTx(txBytes)
	if err != nil {
		return failed(err)
	}
	c := &state.Ctx{KV: blk, Height: chain.Height, Time: chain.Time, TimeMs: chain.TimeMs, Params: chain.Params}
	return a.runTx(blk, c, p)
}

// runTx runs the stateful ante steps, then the message's handler in a
// branch of kv that is kept only on success, together with the
// idempotency record of the booked (signer, key).
func (a *App) runTx(kv store.KV, c *state.Ctx, p *Parsed) TxResult {
	c.TxHash = p.Hash
	msgType := MsgName(&p.Body)
	ok, res := ante(kv, c, p)
	if res != nil {
		res.MsgType = msgType
		return *res
	}
	c.Actor = ok.signer.Actor()
	branch := store.NewCache(kv)
	tc := *c
	tc.KV = branch
	data, err := a.execute(&tc, ok.signer, p)
	if err != nil {
		r := failed(err)
		r.MsgType = msgType
		return r
	}
	if c.Admission {
		return TxResult{Code: types.CodeOK, MsgType: msgType} // admitted; nothing is kept
	}
	var bz []byte
	if data != nil {
		if bz, err = data.Marshal(); err != nil {
			panic(err)
		}
	}
	remember(branch, c, p, ok, bz)
	branch.Write(kv)
	tc.Emit(types.EventTx, "msg", msgType, "actor", tc.Actor, "idempotency_key", p.Body.IdempotencyKey,
		"tx_hash", hex.EncodeToString(p.Hash))
	return TxResult{Code: types.CodeOK, Data: bz, MsgType: msgType, Events: tc.Events()}
}

// execute routes the message. A panic that is not a storage fault is a bug
// in a handler; it is deterministic, so it fails the transaction on every
// validator alike rather than halting the chain.
func (a *App) execute(c *state.Ctx, s *members.Signer, p *Parsed) (data *types.TxResultData, err error) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(store.Fault); ok {
				panic(f)
			}
			data, err = nil, types.Errorf(types.CodeInternal, "internal error: %v\n%s", r, debug.Stack())
		}
	}()
	return a.router.route(c, s, p)
}
