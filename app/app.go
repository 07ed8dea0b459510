package app

import (
	"bytes"
	"fmt"

	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
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
	Code   types.Code
	Log    string
	Data   []byte // encoded types.TxResultData on success
	Info   string // for a duplicate: the hash of the transaction that used the key
	Events []types.Event
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

	engines engines
}

// New returns an App over db.
func New(db *store.DB, cfg Config) *App {
	return &App{db: db, cfg: cfg}
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
	params, sellers, err := ParseGenesis(appState)
	if err != nil {
		return nil, err
	}
	if err := matchValidators(sellers, vals); err != nil {
		return nil, err
	}
	a.discard()
	blk := store.NewCache(a.working())
	c := &state.Ctx{KV: blk, Height: 0, Time: genesisTimeNs / 1e9, TimeMs: genesisTimeNs / 1e6, Params: params, Actor: types.ActorChain}
	if err := initGenesis(c, params, sellers); err != nil {
		return nil, err
	}
	return a.stage(blk)
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
func (a *App) stage(blk *store.Cache) ([]byte, error) {
	root, err := a.db.Stage(blk.Changes())
	if err != nil {
		return nil, err
	}
	blk.Write(a.base)
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
	if b.Height != last+1 {
		return nil, fmt.Errorf("finalize block %d but last commit is %d", b.Height, last)
	}
	a.height, a.timeNs = b.Height, b.TimeNs
	blk := store.NewCache(a.working())
	params := state.Params(blk)
	if params == nil {
		return nil, fmt.Errorf("no parameters in state: InitChain never ran")
	}
	chain := &state.Ctx{KV: blk, Height: b.Height, Time: floorDiv(b.TimeNs, 1e9), TimeMs: floorDiv(b.TimeNs, 1e6), Params: params, Actor: types.ActorChain}
	if err := a.beginBlock(chain); err != nil {
		return nil, err
	}
	out := &BlockResult{}
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
	if out.AppHash, err = a.stage(blk); err != nil {
		return nil, err
	}
	return out, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (a *App) beginBlock(c *state.Ctx) error {
	pruneIdempotency(c.KV, uint64(c.Height))
	if due, boundary := settle.Due(c); due {
		if _, err := ledger.ExpireBefore(c, boundary); err != nil {
			return err
		}
		settle.Close(c)
	}
	_, err := ledger.ExpireBefore(c, c.Time)
	return err
}

func (a *App) endBlock(c *state.Ctx) ([]Validator, error) {
	return endBlockGovernance(c)
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

// pruneIdempotency forgets (signer, key) pairs whose window has passed.
func pruneIdempotency(kv store.KV, height uint64) {
	var dead [][]byte
	it := kv.Iterator([]byte{types.PrefixIdemExpiry}, types.IdemExpiryBound(height))
	for ; it.Valid(); it.Next() {
		dead = append(dead, append([]byte(nil), it.Key()...))
	}
	it.Close()
	for _, k := range dead {
		_, idem, err := types.ParseIdemExpiryKey(k)
		if err != nil {
			panic(store.Fault{Err: err})
		}
		kv.Delete(idem)
		kv.Delete(k)
	}
}
