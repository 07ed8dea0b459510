package abci_test

import (
	"bytes"
	"fmt"
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

var fuzzSellers = []string{"seller-a", "seller-b", "seller-c"}

// twin is one chain run twice: direct drives the app as apptest does
// (CheckTx on every transaction, then FinalizeBlock and Commit, the
// invariants after every block); via is another app on another store
// behind the ABCI layer, whose signature cache is cold for every
// transaction it was not asked to CheckTx (so its FinalizeBlock
// batch-verifies them first).
type twin struct {
	t      *testing.T
	direct *apptest.Chain
	via    *abci.Application
	viaDB  *store.DB

	terminals   map[string][]string // seller -> registered terminal ids
	sent        [][]byte
	purchases   [][]byte
	redemptions [][]byte
	proposals   uint64
}

func fuzzParams() *types.Params {
	p := app.DefaultParams()
	p.LotValiditySeconds = 3 * 86400
	p.EpochSeconds = 86400
	return p
}

func newTwin(t *testing.T) *twin {
	params := fuzzParams()
	w := &twin{t: t, direct: apptest.New(t, fuzzSellers, params), terminals: map[string][]string{}}
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.viaDB = db
	w.via = abci.New(app.New(db, app.Config{ChainID: apptest.ChainID, CheckInvariants: true}))
	var vals []abcitypes.ValidatorUpdate
	for _, s := range fuzzSellers {
		vals = append(vals, abcitypes.ValidatorUpdate{PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: apptest.Pub(s + "/validator")}}, Power: app.ValidatorPower})
	}
	if _, err := w.via.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: apptest.ChainID, Time: time.Unix(apptest.GenesisTime, 0),
		Validators: vals, AppStateBytes: apptest.Genesis(fuzzSellers, params), InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	w.block(&fuzzBytes{}, nil) // CheckTx needs a committed block
	return w
}

var fuzzAmounts = []uint64{0, 1, 99, 100, 12345, 500_000, 10_000_000_000, 1 << 63, ^uint64(0)}

// nextTx builds one transaction from the input's choices: a signed
// message of any type by an operator or a terminal (registered or not),
// a replay, a tampered copy, a forged signature or raw bytes.
func (w *twin) nextTx(in *fuzzBytes) []byte {
	c := w.direct
	seller := fuzzSellers[in.intn(len(fuzzSellers))]
	signer := apptest.Operator(seller)
	if ts := w.terminals[seller]; len(ts) > 0 && in.byte()%2 == 0 {
		signer = seller + "/" + ts[in.intn(len(ts))]
	} else if in.byte()%8 == 7 {
		signer = seller + "/t9" // never registered
	}
	cust := fmt.Sprintf("c%d", in.byte()%4)
	amount := fuzzAmounts[in.intn(len(fuzzAmounts))] + uint64(in.byte())*100
	var flow *types.PaymentFlow
	if in.byte()%4 != 0 {
		flow = apptest.Flow()
	}
	var msg any
	switch in.byte() % 16 {
	case 0, 1, 2:
		msg = &types.MsgPurchase{CustomerId: cust, AmountPaise: amount, Flow: flow}
	case 3, 4:
		pts := uint64(in.byte())
		msg = &types.MsgRedeem{CustomerId: cust, Points: pts, BillPaise: pts*100 + uint64(in.byte())*50 - uint64(in.byte()%3)*100, Flow: flow}
	case 5:
		if len(w.purchases) > 0 {
			msg = &types.MsgRefund{PurchaseId: w.purchases[in.intn(len(w.purchases))], AmountPaise: amount}
		}
	case 6:
		if len(w.redemptions) > 0 {
			msg = &types.MsgVoidRedemption{RedemptionId: w.redemptions[in.intn(len(w.redemptions))]}
		}
	case 7:
		id := fmt.Sprintf("t%d", in.byte()%3)
		signer = apptest.Operator(seller)
		msg = &types.MsgRegisterTerminal{TerminalId: id, Pubkey: apptest.Pub(seller + "/" + id)}
		w.terminals[seller] = append(w.terminals[seller], id)
	case 8:
		if ts := w.terminals[seller]; len(ts) > 0 {
			signer = apptest.Operator(seller)
			msg = &types.MsgRevokeTerminal{TerminalId: ts[in.intn(len(ts))]}
		}
	case 9:
		signer = apptest.Operator(seller)
		msg = &types.MsgConfirmSettlement{Epoch: 20454 + uint64(in.byte()%8), BankReference: "UTR"}
	case 10:
		msg = &types.MsgBindWallet{CustomerId: cust, WalletPubkey: apptest.Pub("wallet/" + cust), Flow: flow}
	case 11:
		signer = apptest.Operator(seller)
		switch in.byte() % 3 {
		case 0:
			msg = &types.MsgSetSellerConfig{EarnRateBps: uint32(in.byte()) * 100, RiskMaxNano: int64(in.byte()) * 1e7}
		case 1:
			p := fuzzParams()
			p.EpochSeconds = int64(in.byte()+1) * 3600
			msg = &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: p}}
			w.proposals++
		case 2:
			if w.proposals > 0 {
				msg = &types.MsgVote{ProposalId: uint64(in.intn(int(w.proposals))) + 1, Yes: in.byte()%2 == 0}
			}
		}
	case 12: // a transaction again
		if len(w.sent) > 0 {
			return w.sent[in.intn(len(w.sent))]
		}
	case 13: // a transaction with one byte changed
		if len(w.sent) > 0 {
			tx := bytes.Clone(w.sent[in.intn(len(w.sent))])
			tx[in.intn(len(tx))] ^= 1 << (in.byte() % 8)
			return tx
		}
	case 14: // a purchase signed by another key
		body := c.Body(signer, &types.MsgPurchase{CustomerId: cust, AmountPaise: amount, Flow: flow})
		return apptest.Sign(body, "someone-else")
	case 15: // raw bytes from the input
		n := int(in.byte() % 48)
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = in.byte()
		}
		return raw
	}
	if msg == nil {
		msg = &types.MsgPurchase{CustomerId: cust, AmountPaise: amount, Flow: flow}
	}
	tx := c.Tx(signer, msg)
	w.sent = append(w.sent, tx)
	return tx
}

var fuzzDts = []int64{1, 5, 60, 600, 3600, 86400, 2 * 86400, 4 * 86400}

// block runs one block of txs on both apps and compares everything they
// answer: CheckTx, each result, the block's events, the app hash, Info
// and RecheckTx.
func (w *twin) block(in *fuzzBytes, txs [][]byte) {
	t, c := w.t, w.direct
	checkMask := in.byte()
	for i, tx := range txs {
		rd := c.App.CheckTx(tx)
		if rd.Code == types.CodeInternal {
			t.Fatalf("CheckTx: internal error: %s", rd.Log)
		}
		// Some transactions reach the ABCI app's mempool first; the others
		// it meets first in the block, with a cold signature cache.
		if i < 8 && checkMask&(1<<i) != 0 {
			rv, err := w.via.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_New})
			if err != nil {
				t.Fatal(err)
			}
			sameResult(t, fmt.Sprintf("CheckTx of tx %d", i), rd, rv.Code, rv.Data, rv.Log, rv.Info)
		}
	}
	dt := fuzzDts[in.intn(len(fuzzDts))]
	res := c.Block(dt, txs...) // FinalizeBlock, Commit, invariants
	fin, err := w.via.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Height: c.Height, Time: time.Unix(c.Time, 0), Txs: txs})
	if err != nil {
		t.Fatalf("ABCI FinalizeBlock %d: %v", c.Height, err)
	}
	if len(fin.TxResults) != len(res) {
		t.Fatalf("block %d: %d results directly, %d through ABCI", c.Height, len(res), len(fin.TxResults))
	}
	for i, r := range res {
		if r.Code == types.CodeInternal {
			t.Fatalf("block %d tx %d: internal error: %s", c.Height, i, r.Log)
		}
		v := fin.TxResults[i]
		sameResult(t, fmt.Sprintf("block %d tx %d", c.Height, i), r, v.Code, v.Data, v.Log, v.Info)
		if len(r.Events) != len(v.Events) {
			t.Fatalf("block %d tx %d: %d events directly, %d through ABCI", c.Height, i, len(r.Events), len(v.Events))
		}
		w.note(r)
	}
	if len(c.Events) != len(fin.Events) {
		t.Fatalf("block %d: %d block events directly, %d through ABCI", c.Height, len(c.Events), len(fin.Events))
	}
	for i, e := range c.Events {
		if e.Type != fin.Events[i].Type {
			t.Fatalf("block %d event %d: %s directly, %s through ABCI", c.Height, i, e.Type, fin.Events[i].Type)
		}
	}
	if _, err := w.via.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
		t.Fatalf("ABCI Commit %d: %v", c.Height, err)
	}
	h, hash := c.App.Info()
	info, _ := w.via.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != h || !bytes.Equal(info.LastBlockAppHash, hash) || !bytes.Equal(fin.AppHash, hash) {
		t.Fatalf("block %d: app hash %X directly, %X (finalize) / %X at %d (info) through ABCI", h, hash, fin.AppHash, info.LastBlockAppHash, info.LastBlockHeight)
	}
	v := w.viaDB.View()
	err = app.CheckInvariants(v)
	v.Discard()
	if err != nil {
		t.Fatalf("through ABCI, after block %d: %v", h, err)
	}
	// The mempool's recheck after the block, on both.
	for i, tx := range txs {
		rd := c.App.RecheckTx(tx)
		rv, err := w.via.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_Recheck})
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, fmt.Sprintf("RecheckTx of tx %d after block %d", i, h), rd, rv.Code, rv.Data, rv.Log, rv.Info)
	}
}

func sameResult(t *testing.T, what string, r app.TxResult, code uint32, data []byte, log, info string) {
	t.Helper()
	if uint32(r.Code) != code || !bytes.Equal(r.Data, data) || r.Log != log || r.Info != info {
		t.Fatalf("%s: directly code %d %q data %x info %q; through ABCI code %d %q data %x info %q",
			what, r.Code, r.Log, r.Data, r.Info, code, log, data, info)
	}
}

// note remembers what a successful transaction created, for later ones.
func (w *twin) note(r app.TxResult) {
	if r.Code != types.CodeOK || len(r.Data) == 0 {
		return
	}
	var d types.TxResultData
	if err := d.Unmarshal(r.Data); err != nil {
		w.t.Fatalf("result data does not decode: %v", err)
	}
	if p := d.GetPurchase(); p != nil {
		w.purchases = append(w.purchases, p.PurchaseId)
	}
	if x := d.GetRedeem(); x != nil {
		w.redemptions = append(w.redemptions, x.RedemptionId)
	}
}

// FuzzBlocks drives a sequence of blocks, chosen by the input, into two
// instances of the app: one called directly, one through the ABCI layer
// with its own cold signature cache. After every block the two agree on
// every CheckTx, result, event, app hash and recheck, no transaction is an
// internal error, and the conservation invariants hold on both.
func FuzzBlocks(f *testing.F) {
	f.Add([]byte{})
	// A purchase, a redemption and a refund, then days pass.
	f.Add([]byte{
		3, 0, 1, 0, 5, 0, 1, 0, 0, // block: 3 txs, seller-a op, c0, amount 12345+..., purchase
		0, 0, 1, 0, 0, 0, 5, 0, 1, 3,
		1, 0, 1, 0, 1, 0, 3, 0, 1, 7,
		0xff, 0, 1,
		2, 0, 1, 0, 1, 0, 9, 0, 2, 6, 0,
		1, 0, 0, 0, 5, 0, 1, 5, 0, 0,
		0x0f, 0, 5,
		1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0,
		0, 0, 7,
	})
	// Terminals registered and used, replays and garbage.
	f.Add([]byte{
		4, 0, 0, 0, 1, 0, 0, 1, 7, 0, 1, 0, 1, 0, 1, 0, 0, 1, 7, 1, 2, 0, 0, 0, 1, 0, 1, 0, 15, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		0, 0, 0, 1, 0, 1, 0, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 12, 0, 0, 0, 0, 0, 0, 0, 1, 13, 0, 0, 0, 0,
		0x5a, 0, 3,
		3, 0, 0, 0, 1, 0, 1, 0, 0, 1, 14, 2, 0, 0, 0, 3, 0, 1, 3, 50, 10, 1, 1, 0, 0, 0, 1, 0, 1, 8, 0, 0,
		0xff, 0, 6,
	})
	// Every kind of transaction in one long input.
	var all []byte
	for k := byte(0); k < 16; k++ {
		all = append(all, 2, k%3, 1, 0, 3, 0, k, k%4, k, k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, byte(k*17), 0, k%8)
	}
	f.Add(all)
	// A long pseudo-random walk (a fixed sequence, so the seed is the same
	// every run).
	walk := make([]byte, 600)
	x := uint32(1)
	for i := range walk {
		x = x*1103515245 + 12345
		walk[i] = byte(x >> 16)
	}
	f.Add(walk)
	f.Fuzz(func(t *testing.T, input []byte) {
		w := newTwin(t)
		in := &fuzzBytes{b: input}
		for b := 0; b < 12 && (b == 0 || !in.empty()); b++ {
			n := int(in.byte() % 9)
			var txs [][]byte
			for range n {
				txs = append(txs, w.nextTx(in))
			}
			w.block(in, txs)
		}
	})
}
