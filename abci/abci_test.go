package abci_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
)

var ctx = context.Background()

func open(t *testing.T, dir string) (*abci.Application, *store.DB) {
	t.Helper()
	db, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return abci.New(app.New(db, app.Config{ChainID: apptest.ChainID, CheckInvariants: true})), db
}

func initChain(t *testing.T, x *abci.Application) []byte {
	t.Helper()
	return initChainWith(t, x, nil)
}

func initChainWith(t *testing.T, x *abci.Application, params *types.Params) []byte {
	t.Helper()
	sellers := []string{"seller-a", "seller-b"}
	var vals []abcitypes.ValidatorUpdate
	for _, s := range sellers {
		vals = append(vals, abcitypes.ValidatorUpdate{PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: apptest.Pub(s + "/validator")}}, Power: app.ValidatorPower})
	}
	res, err := x.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: apptest.ChainID, Time: time.Unix(apptest.GenesisTime, 0),
		Validators: vals, AppStateBytes: apptest.Genesis(sellers, params), InitialHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res.AppHash
}

func signed(h int64, key string, msg any, idem string) []byte {
	b := &types.TxBody{ChainId: apptest.ChainID, Signer: apptest.Pub(key), IdempotencyKey: idem, ValidUntilHeight: uint64(h + 50)}
	if err := b.SetMsg(msg); err != nil {
		panic(err)
	}
	return apptest.Sign(b, key)
}

func block(t *testing.T, x *abci.Application, h int64, txs ...[]byte) *abcitypes.ResponseFinalizeBlock {
	t.Helper()
	res, err := x.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Height: h, Time: time.Unix(apptest.GenesisTime+h*5, 0), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	return res
}

var pin = &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}

func TestABCILifecycle(t *testing.T) {
	dir := t.TempDir()
	x, db := open(t, dir)
	if info, _ := x.Info(ctx, &abcitypes.RequestInfo{}); info.LastBlockHeight != 0 || info.LastBlockAppHash != nil {
		t.Fatalf("fresh app info %+v", info)
	}
	genesisHash := initChain(t, x)
	a := "seller-a/operator"
	buy := signed(1, a, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10000, Flow: pin}, "1")

	// CheckTx admits a good tx and refuses garbage with the decode code.
	if r, _ := x.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: []byte("junk")}); r.Code != uint32(types.CodeDecode) || r.Codespace != types.Codespace {
		t.Fatalf("CheckTx junk: %+v", r)
	}
	// PrepareProposal drops what can never succeed and keeps order.
	pp, _ := x.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{MaxTxBytes: 1 << 20, Txs: [][]byte{[]byte("junk"), buy}})
	if len(pp.Txs) != 1 || !bytes.Equal(pp.Txs[0], buy) {
		t.Fatalf("PrepareProposal kept %d txs", len(pp.Txs))
	}
	big := make([][]byte, x.App.MaxBlockTxs()+1)
	if r, _ := x.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: big}); r.Status != abcitypes.ResponseProcessProposal_REJECT {
		t.Fatal("oversized block accepted")
	}

	res := block(t, x, 1, buy, []byte("junk"))
	if res.TxResults[0].Code != 0 || res.TxResults[1].Code != uint32(types.CodeDecode) || bytes.Equal(res.AppHash, genesisHash) {
		t.Fatalf("block 1: %+v", res.TxResults)
	}
	// Every movement carries an event naming reason and actor; the tx's
	// summary event (type, actor, idempotency key, hash) is the one indexed.
	found, summary := false, false
	for _, ev := range res.TxResults[0].Events {
		attrs := map[string]string{}
		for _, a := range ev.Attributes {
			attrs[a.Key] = a.Value
			if a.Index != (ev.Type == types.EventTx) {
				t.Fatalf("%s attribute %s: indexed %v", ev.Type, a.Key, a.Index)
			}
		}
		switch ev.Type {
		case types.EventPointsIssued:
			found = attrs["reason"] == "purchase" && attrs["actor"] == "seller-a" && attrs["points"] == "100"
		case types.EventTx:
			summary = attrs["msg"] == "purchase" && attrs["actor"] == "seller-a" && attrs["idempotency_key"] != ""
		}
	}
	if !summary {
		t.Fatal("no indexed summary event")
	}
	if !found {
		t.Fatalf("no points_issued event: %+v", res.TxResults[0].Events)
	}
	if info, _ := x.Info(ctx, &abcitypes.RequestInfo{}); info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, res.AppHash) {
		t.Fatalf("info after commit %+v", info)
	}

	// Proven queries: they verify, and fail for a tampered value or a wrong hash.
	q, _ := x.Query(ctx, &abcitypes.RequestQuery{Path: "/balance/alice", Prove: true})
	if q.Code != 0 || q.Height != 1 || q.ProofOps == nil {
		t.Fatalf("query %+v", q)
	}
	entries, err := abci.ProvenEntries(q.ProofOps)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.VerifyQuery("/balance/alice", q.Value, entries, res.AppHash); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	if err := app.VerifyQuery("/balance/alice", q.Value, entries, genesisHash); err == nil {
		t.Fatal("proof verified against the wrong app hash")
	}
	var bal types.BalanceResponse
	bal.Unmarshal(q.Value)
	bal.Points = 1000
	forged, _ := bal.Marshal()
	if err := app.VerifyQuery("/balance/alice", forged, entries, res.AppHash); err == nil {
		t.Fatal("tampered answer verified")
	}
	for i := range entries {
		e := *entries[i]
		e.Value = append(append([]byte(nil), e.Value...), 0)
		tampered := append(append([]*types.ProvenEntry(nil), entries[:i]...), &e)
		tampered = append(tampered, entries[i+1:]...)
		if err := app.VerifyQuery("/balance/alice", q.Value, tampered, res.AppHash); err == nil {
			t.Fatalf("tampered entry %d verified", i)
		}
	}
	// Dropping a lot's proof is caught by the balance record's totals.
	if len(entries) > 2 {
		if err := app.VerifyQuery("/balance/alice", q.Value, entries[:len(entries)-1], res.AppHash); err == nil {
			t.Fatal("answer with a missing lot verified")
		}
	}
	// Absence is provable too.
	q, _ = x.Query(ctx, &abcitypes.RequestQuery{Path: "/balance/nobody", Prove: true})
	entries, _ = abci.ProvenEntries(q.ProofOps)
	if err := app.VerifyQuery("/balance/nobody", q.Value, entries, res.AppHash); err != nil {
		t.Fatalf("absence proof: %v", err)
	}
	// A "not found" refusal carries its absence proof in the proof ops.
	q, _ = x.Query(ctx, &abcitypes.RequestQuery{Path: "/seller/nobody", Prove: true})
	entries, _ = abci.ProvenEntries(q.ProofOps)
	if q.Code != uint32(types.CodeNotFound) || len(entries) == 0 {
		t.Fatalf("missing seller: code %d, %d proofs", q.Code, len(entries))
	}
	if err := app.VerifyAbsence("/seller/nobody", entries, res.AppHash); err != nil {
		t.Fatalf("absence of a seller: %v", err)
	}
	if q, _ := x.Query(ctx, &abcitypes.RequestQuery{Path: "/balance/alice", Height: 7}); q.Code != uint32(types.CodeInvalidArgument) {
		t.Fatal("historical query accepted")
	}
	if q, _ := x.Query(ctx, &abcitypes.RequestQuery{Path: "/nope"}); q.Code != uint32(types.CodeNotFound) {
		t.Fatal("unknown path accepted")
	}

	// A block finalized but never committed (crash before Commit) is gone
	// on restart: Info reports exactly the last commit, and replaying the
	// block gives the same app hash.
	redeem := signed(2, a, &types.MsgRedeem{CustomerId: "alice", Points: 10, BillPaise: 1000, Flow: pin}, "2")
	r2, err := x.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Height: 2, Time: time.Unix(apptest.GenesisTime+10, 0), Txs: [][]byte{redeem}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	x, db = open(t, dir)
	defer db.Close()
	if info, _ := x.Info(ctx, &abcitypes.RequestInfo{}); info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, res.AppHash) {
		t.Fatalf("info after crash %+v", info)
	}
	replayed := block(t, x, 2, redeem)
	if !bytes.Equal(replayed.AppHash, r2.AppHash) || replayed.TxResults[0].Code != 0 {
		t.Fatalf("replay differs: %X vs %X", replayed.AppHash, r2.AppHash)
	}
}

func TestValidatorUpdatesFromGovernance(t *testing.T) {
	x, db := open(t, t.TempDir())
	defer db.Close()
	sellers := []string{"s-0", "s-1", "s-2", "s-3"}
	var vals []abcitypes.ValidatorUpdate
	for _, s := range sellers {
		vals = append(vals, abcitypes.ValidatorUpdate{PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: apptest.Pub(s + "/validator")}}, Power: 10})
	}
	if _, err := x.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: apptest.ChainID, Time: time.Unix(apptest.GenesisTime, 0),
		Validators: vals, AppStateBytes: apptest.Genesis(sellers, nil)}); err != nil {
		t.Fatal(err)
	}
	add := &types.MsgPropose{Action: &types.MsgPropose_AddSeller{AddSeller: &types.SellerRecord{SellerId: "s-4",
		OperatorPubkey: apptest.Pub("s-4/operator"), ValidatorPubkey: apptest.Pub("s-4/validator")}}}
	res := block(t, x, 1, signed(1, "s-0/operator", add, "p"))
	if res.TxResults[0].Code != 0 || len(res.ValidatorUpdates) != 0 {
		t.Fatalf("propose: %+v %v", res.TxResults[0], res.ValidatorUpdates)
	}
	vote := func(s string, h int64) []byte {
		return signed(h, s+"/operator", &types.MsgVote{ProposalId: 1, Yes: true}, "v")
	}
	// 2 of 4 yes is not more than 2/3; the third yes passes it.
	res = block(t, x, 2, vote("s-1", 2))
	if len(res.ValidatorUpdates) != 0 {
		t.Fatal("passed with half the votes")
	}
	res = block(t, x, 3, vote("s-2", 3))
	if len(res.ValidatorUpdates) != 1 || res.ValidatorUpdates[0].Power != 10 ||
		!bytes.Equal(res.ValidatorUpdates[0].PubKey.GetEd25519(), apptest.Pub("s-4/validator")) {
		t.Fatalf("validator updates %+v", res.ValidatorUpdates)
	}
}

// A proposer puts at most max_import_rows_per_block import rows in a block;
// the other batches wait, and other transactions still go in.
func TestPrepareProposalBoundsImportRows(t *testing.T) {
	x, _ := open(t, t.TempDir())
	if app.DefaultParams().MaxImportRowsPerBlock == 0 {
		t.Fatal("no default import rows per block")
	}
	p := app.DefaultParams()
	p.MaxImportRowsPerBlock = 150
	initChainWith(t, x, p)
	block(t, x, 1)
	per := x.App.MaxImportRowsPerBlock()
	batch := func(i, n int) []byte {
		m := &types.MsgImportBalances{FileDigest: bytes.Repeat([]byte{1}, 32), FirstRow: uint64(i * n), FileRows: 1 << 30}
		for j := 0; j < n; j++ {
			m.Rows = append(m.Rows, &types.ImportRow{CustomerId: "c", Points: 1, ExpiresAt: apptest.GenesisTime + 86400})
		}
		return signed(2, "seller-a/operator", m, "imp"+string(rune('a'+i)))
	}
	n := per/3 + 1 // three batches pass the limit, two do not
	buy := signed(2, "seller-a/operator", &types.MsgPurchase{CustomerId: "alice", AmountPaise: 100, Flow: pin}, "p")
	txs := [][]byte{batch(0, n), batch(1, n), batch(2, n), buy, batch(3, 1)}
	pp, _ := x.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{MaxTxBytes: 1 << 30, Txs: txs})
	want := [][]byte{txs[0], txs[1], txs[3], txs[4]}
	if len(pp.Txs) != len(want) {
		t.Fatalf("kept %d txs, want %d", len(pp.Txs), len(want))
	}
	for i := range want {
		if !bytes.Equal(pp.Txs[i], want[i]) {
			t.Fatalf("tx %d is not the expected one", i)
		}
	}
}
