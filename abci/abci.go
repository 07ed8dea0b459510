package abci

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
)

// Version is reported by Info (the app version comes from state:
// app/upgrade, starting at upgrade.InitialAppVersion).
const (
	Version = "0.1.0"
	// ProofOpType names our Merkle proof in ResponseQuery.ProofOps.
	ProofOpType = "bytepoints/smt"
)

// Application is the ABCI face of the app.
type Application struct {
	abcitypes.BaseApplication
	App       *app.App
	Snapshots SnapshotStore // nil: no state sync serving
	// Logger, when set, gets the state-sync restore's messages.
	Logger log.Logger
	// OnCommit, when set, runs after every commit with the new height
	// (metrics, snapshot scheduling, membership refresh).
	OnCommit func(height int64)
	// OnTxResult, when set, sees every transaction result: at CheckTx
	// ("check", "recheck") and in blocks ("deliver"), with the message type
	// ("" when the bytes did not decode) and the code (metrics).
	OnTxResult func(stage, msgType string, code types.Code)
	// OnBlock, when set, sees how long FinalizeBlock and Commit took.
	OnBlock func(finalize, commit time.Duration, txs int)
	// OnHalt, when set, is told why the app refused to go on (a storage
	// failure or a broken invariant); CometBFT itself only stops consensus.
	OnHalt func(err error)
	// OnUpgradeNeeded, when set, is told (once) that the next block is a
	// scheduled upgrade's height and this binary lacks its handler
	// (abci/upgrade.go): the node must stop.
	OnUpgradeNeeded func(plan *types.UpgradePlan, inBlock bool)
	upgradeOnce     sync.Once

	finalizeTook time.Duration // of the block being committed (consensus connection only)
	blockTxs     int
	warmed       []byte // hash of the last proposal whose state reads were started (prefetch)
	restore      restoring
}

// prefetch starts reading, in the store's goroutines, the state a
// proposal's transactions will read (app.PrefetchKeys, store.DB.Warm), once
// per proposal: at ProcessProposal, or at the start of FinalizeBlock for a
// block this node did not process (its own proposal, or one decided
// without it). It does not wait: execution finds in memory whatever the
// reads have reached, and reads the rest itself.
func (x *Application) prefetch(hash []byte, txs [][]byte) {
	if len(txs) == 0 || (len(hash) > 0 && bytes.Equal(hash, x.warmed)) {
		return
	}
	x.warmed = append(x.warmed[:0], hash...)
	x.App.DB().Warm(x.App.PrefetchKeys(txs))
}

func (x *Application) halt(err error) error {
	if x.OnHalt != nil {
		x.OnHalt(err)
	}
	return err
}

var _ abcitypes.Application = (*Application)(nil)

// New wraps a.
func New(a *app.App) *Application { return &Application{App: a} }

func (x *Application) Info(context.Context, *abcitypes.RequestInfo) (*abcitypes.ResponseInfo, error) {
	h, hash := x.App.Info()
	return &abcitypes.ResponseInfo{
		Data: "bytepoints", Version: Version, AppVersion: x.App.AppVersion(),
		LastBlockHeight: h, LastBlockAppHash: hash,
	}, nil
}

func (x *Application) InitChain(_ context.Context, req *abcitypes.RequestInitChain) (*abcitypes.ResponseInitChain, error) {
	var vals []app.Validator
	for _, v := range req.Validators {
		pk := v.PubKey.GetEd25519()
		if pk == nil {
			return nil, fmt.Errorf("genesis validator with a non-Ed25519 key")
		}
		vals = append(vals, app.Validator{PubKey: pk, Power: v.Power})
	}
	x.App.SetInitialHeight(req.InitialHeight)
	hash, err := x.App.InitChain(req.ChainId, req.Time.UnixNano(), req.AppStateBytes, vals)
	if err != nil {
		return nil, err
	}
	return &abcitypes.ResponseInitChain{AppHash: hash}, nil
}

func (x *Application) CheckTx(_ context.Context, req *abcitypes.RequestCheckTx) (*abcitypes.ResponseCheckTx, error) {
	stage := "check"
	var r app.TxResult
	if req.Type == abcitypes.CheckTxType_Recheck {
		stage, r = "recheck", x.App.RecheckTx(req.Tx)
	} else {
		r = x.App.CheckTx(req.Tx)
	}
	if x.OnTxResult != nil {
		x.OnTxResult(stage, r.MsgType, r.Code)
	}
	return &abcitypes.ResponseCheckTx{Code: uint32(r.Code), Log: r.Log, Info: r.Info, Data: r.Data, Codespace: codespace(r.Code)}, nil
}

func codespace(c types.Code) string {
	if c == types.CodeOK {
		return ""
	}
	return types.Codespace
}

// PrepareProposal keeps the mempool's order, drops what cannot decode or
// verify (it would only fail), and respects the byte and count limits, and
// the governed number of import rows per block (an import batch weighs up to
// hundreds of rows; the rest wait in the mempool for the next block).
func (x *Application) PrepareProposal(_ context.Context, req *abcitypes.RequestPrepareProposal) (*abcitypes.ResponsePrepareProposal, error) {
	var out [][]byte
	var size int64
	limit := x.App.MaxBlockTxs()
	importRows, maxImportRows := 0, x.App.MaxImportRowsPerBlock()
	for _, tx := range req.Txs {
		if len(out) == limit {
			break
		}
		if size+int64(len(tx)) > req.MaxTxBytes {
			continue
		}
		p, err := x.App.ParseTx(tx)
		if err != nil {
			continue
		}
		if m := p.Body.GetImportBalances(); m != nil && maxImportRows > 0 {
			if importRows+len(m.Rows) > maxImportRows {
				continue
			}
			importRows += len(m.Rows)
		}
		out = append(out, tx)
		size += int64(len(tx))
	}
	return &abcitypes.ResponsePrepareProposal{Txs: out}, nil
}

// ProcessProposal accepts any block within the governed count limit
// (max_block_txs, as of the last commit, the same on every validator): invalid
// transactions in it simply fail with their codes, identically everywhere.
func (x *Application) ProcessProposal(_ context.Context, req *abcitypes.RequestProcessProposal) (*abcitypes.ResponseProcessProposal, error) {
	if len(req.Txs) > x.App.MaxBlockTxs() {
		return &abcitypes.ResponseProcessProposal{Status: abcitypes.ResponseProcessProposal_REJECT}, nil
	}
	x.prefetch(req.Hash, req.Txs)
	return &abcitypes.ResponseProcessProposal{Status: abcitypes.ResponseProcessProposal_ACCEPT}, nil
}

func (x *Application) FinalizeBlock(_ context.Context, req *abcitypes.RequestFinalizeBlock) (*abcitypes.ResponseFinalizeBlock, error) {
	start := time.Now()
	x.refuseUpgradeBlock(req.Height)
	x.prefetch(req.Hash, req.Txs)
	x.preverify(req.Txs)
	res, err := x.App.FinalizeBlock(app.Block{Height: req.Height, TimeNs: req.Time.UnixNano(), Txs: req.Txs})
	if err != nil {
		return nil, x.halt(err)
	}
	x.finalizeTook, x.blockTxs = time.Since(start), len(req.Txs)
	out := &abcitypes.ResponseFinalizeBlock{Events: events(res.Events), AppHash: res.AppHash,
		ConsensusParamUpdates: appVersionUpdate(res.AppVersion)}
	for _, r := range res.TxResults {
		if x.OnTxResult != nil {
			x.OnTxResult("deliver", r.MsgType, r.Code)
		}
		out.TxResults = append(out.TxResults, &abcitypes.ExecTxResult{
			Code: uint32(r.Code), Data: r.Data, Log: r.Log, Info: r.Info, Events: events(r.Events), Codespace: codespace(r.Code),
		})
	}
	for _, v := range res.ValidatorUpdates {
		out.ValidatorUpdates = append(out.ValidatorUpdates, abcitypes.ValidatorUpdate{
			PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.PubKey}}, Power: v.Power,
		})
	}
	return out, nil
}

// preverify batch-verifies the signatures of a block's transactions that
// this node has not verified yet (it did not see them in its mempool), and
// tells the app which verified. The batch's random coefficients come from
// here, outside the deterministic app; a signature the batch does not
// vouch for is verified alone in the block, under the same rule, and fails
// there with its code.
func (x *Application) preverify(txs [][]byte) {
	checks := x.App.Unverified(txs)
	if len(checks) < 2 {
		return // alone is as fast
	}
	bv := types.NewBatchVerifier(len(checks))
	for _, c := range checks {
		bv.Add(c.PubKey, c.Msg, c.Sig)
	}
	_, valid := bv.Verify(rand.Reader)
	for i, ok := range valid {
		if ok {
			x.App.MarkVerified(checks[i].TxHash)
		}
	}
}

// events translates the app's events. CometBFT's transaction indexer
// writes one entry per indexed attribute of every transaction, which cost
// more than applying the transaction; only the summary event of each
// transaction (its message type, actor, idempotency key and hash) is
// indexed, so /tx_search finds a till's transactions and a retry's
// original by key, and the other events travel with the results unindexed.
func events(in []types.Event) []abcitypes.Event {
	out := make([]abcitypes.Event, 0, len(in))
	for _, e := range in {
		ev := abcitypes.Event{Type: e.Type}
		index := e.Type == types.EventTx
		for _, a := range e.Attrs {
			ev.Attributes = append(ev.Attributes, abcitypes.EventAttribute{Key: a.Key, Value: a.Value, Index: index})
		}
		out = append(out, ev)
	}
	return out
}

func (x *Application) Commit(context.Context, *abcitypes.RequestCommit) (*abcitypes.ResponseCommit, error) {
	start := time.Now()
	if err := x.App.Commit(); err != nil {
		return nil, x.halt(err)
	}
	if x.OnBlock != nil {
		x.OnBlock(x.finalizeTook, time.Since(start), x.blockTxs)
	}
	h, _ := x.App.Info()
	if x.Snapshots != nil {
		x.Snapshots.Committed(h)
	}
	if x.OnCommit != nil {
		x.OnCommit(h)
	}
	x.stopBeforeUpgrade(h + 1)
	return &abcitypes.ResponseCommit{}, nil
}

func (x *Application) Query(_ context.Context, req *abcitypes.RequestQuery) (*abcitypes.ResponseQuery, error) {
	if req.Height != 0 {
		h, _ := x.App.Info()
		if req.Height != h {
			return &abcitypes.ResponseQuery{Code: uint32(types.CodeInvalidArgument), Codespace: types.Codespace,
				Log: fmt.Sprintf("only the latest committed height (%d) can be queried; state history is not kept", h)}, nil
		}
	}
	r := x.App.Query(req.Path, req.Prove)
	out := &abcitypes.ResponseQuery{Code: uint32(r.Code), Log: r.Log, Value: r.Value, Height: r.Height, Codespace: codespace(r.Code)}
	if len(r.Proofs) > 0 {
		out.ProofOps = &cmtcrypto.ProofOps{}
		for _, e := range r.Proofs {
			op, err := encodeProofOp(e)
			if err != nil {
				return nil, err
			}
			out.ProofOps.Ops = append(out.ProofOps.Ops, op)
		}
	}
	return out, nil
}
