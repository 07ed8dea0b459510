package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// exportedChain builds a chain with 120 customers, redemptions, a refund,
// closed epochs and a confirmed statement line, and exports it.
func exportedChain(t *testing.T) (*Chain, *app.Export) {
	c := New(t, []string{"s-0", "s-1", "s-2", "s-3"}, nil)
	a, b := Operator("s-0"), Operator("s-1")
	MustOK(t, c.Do(a, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: Pub("s-0/till-1")}))
	for blk := 0; blk < 4; blk++ {
		var txs [][]byte
		for i := 0; i < 30; i++ {
			signer := a
			if i%2 == 1 {
				signer = b
			}
			txs = append(txs, c.Tx(signer, &types.MsgPurchase{CustomerId: fmt.Sprintf("cust-%03d", blk*30+i), AmountPaise: uint64(10000 + 137*(blk*30+i)), Flow: Flow()}))
		}
		for _, r := range c.Block(5, txs...) {
			MustOK(t, r)
		}
	}
	buy := MustOK(t, c.Do("s-0/till-1", &types.MsgPurchase{CustomerId: "cust-000", AmountPaise: 50000, Flow: Flow()})).GetPurchase().PurchaseId
	MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "cust-001", Points: 50, BillPaise: 20000, Flow: Flow()}))
	MustOK(t, c.Do(a, &types.MsgRefund{PurchaseId: buy, AmountPaise: 10000}))
	c.Block(86400) // closes the first day's epoch
	MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "cust-002", Points: 20, BillPaise: 5000, Flow: Flow()}))
	c.Block(86400)
	MustOK(t, c.Do(a, &types.MsgConfirmSettlement{Epoch: settleEpoch(c), BankReference: "UTR-7"}))
	e, err := c.App.Export()
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func exportGenesis(t *testing.T, e *app.Export) []byte {
	bz, err := json.Marshal(app.Genesis{Export: e})
	if err != nil {
		t.Fatal(err)
	}
	return bz
}

// importChain starts a new chain (new chain id, initial height) from e.
func importChain(t *testing.T, e *app.Export, appState []byte, initial int64) (*app.App, []byte, error) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := app.New(db, app.Config{ChainID: ChainID + "-2", CheckInvariants: true})
	vals, err := app.ExportValidators(e)
	if err != nil {
		t.Fatal(err)
	}
	a.SetInitialHeight(initial)
	hash, err := a.InitChain(ChainID+"-2", (e.TimeNs/1e9+1)*1e9, appState, vals)
	return a, hash, err
}

// TestExportRoundTrip: a chain restarted from an export starts with the
// same state digest (its genesis app hash is the exported app hash), and
// after one more block on each, the same app hash again; totals, 100
// sampled balances and every statement read the same on both.
func TestExportRoundTrip(t *testing.T) {
	c, e := exportedChain(t)
	h, oldHash := c.App.Info()
	if e.Height != h || e.AppHash != fmt.Sprintf("%X", oldHash) || len(e.Entries) < 120 {
		t.Fatalf("export of height %d (%s, %d entries); chain at %d (%X)", e.Height, e.AppHash, len(e.Entries), h, oldHash)
	}
	b, genesisHash, err := importChain(t, e, exportGenesis(t, e), e.Height+1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(genesisHash, oldHash) {
		t.Fatalf("imported state hashes to %X, the exported one to %X", genesisHash, oldHash)
	}
	// One empty block on both, at the same height and time.
	c.Block(5)
	if _, err := b.FinalizeBlock(app.Block{Height: c.Height, TimeNs: c.Time * 1e9}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	hb, hashB := b.Info()
	hc, hashC := c.App.Info()
	if hb != hc || !bytes.Equal(hashB, hashC) {
		t.Fatalf("after one block: new chain %d %X, old chain %d %X", hb, hashB, hc, hashC)
	}
	paths := []string{"/totals", "/sellers", "/params", "/upgrade", "/statements"}
	for i := 0; i < 120; i += 6 {
		paths = append(paths, fmt.Sprintf("/balance/cust-%03d", i), fmt.Sprintf("/balance/cust-%03d", i+1), fmt.Sprintf("/history/cust-%03d", i),
			fmt.Sprintf("/balance/cust-%03d", i+2), fmt.Sprintf("/balance/cust-%03d", i+3), fmt.Sprintf("/balance/cust-%03d", i+4))
	}
	var st types.StatementsResponse
	if err := st.Unmarshal(c.App.Query("/statements", false).Value); err != nil || len(st.Statements) < 2 {
		t.Fatalf("statements: %v (%d)", err, len(st.Statements))
	}
	for _, s := range st.Statements {
		paths = append(paths, fmt.Sprintf("/statement/%d", s.Epoch))
	}
	balances := 0
	for _, p := range paths {
		qc, qb := c.App.Query(p, false), b.Query(p, false)
		if qc.Code != types.CodeOK || qb.Code != qc.Code || !bytes.Equal(qc.Value, qb.Value) {
			t.Fatalf("%s: old chain code %d %x, new chain code %d %x", p, qc.Code, qc.Value, qb.Code, qb.Value)
		}
		if strings.HasPrefix(p, "/balance/") {
			balances++
		}
	}
	if balances != 100 {
		t.Fatalf("compared %d balances, want 100", balances)
	}
}

// TestImportRechecks: an export that breaks an invariant, does not hash
// to its app hash, or starts at the wrong height is refused.
func TestImportRechecks(t *testing.T) {
	_, e := exportedChain(t)
	if _, _, err := importChain(t, e, exportGenesis(t, e), 1); err == nil || !strings.Contains(err.Error(), "initial_height") {
		t.Fatalf("wrong initial height: %v", err)
	}
	// Flip the outstanding total: the invariants catch it.
	bad := *e
	bad.Entries = append([]app.ExportEntry(nil), e.Entries...)
	for i, en := range bad.Entries {
		if bytes.Equal(en.Key, types.TotalsKey()) {
			var tot types.Totals
			if err := tot.Unmarshal(en.Value); err != nil {
				t.Fatal(err)
			}
			tot.OutstandingPoints++
			v, _ := tot.Marshal()
			bad.Entries[i] = app.ExportEntry{Key: en.Key, Value: v}
		}
	}
	if _, _, err := importChain(t, &bad, exportGenesis(t, &bad), e.Height+1); err == nil || !strings.Contains(err.Error(), "invariant") {
		t.Fatalf("broken totals imported: %v", err)
	}
	// Drop a customer's history entry: refused, by the retention index's
	// invariant (its marker names the missing entry) or else the digest.
	bad.Entries = nil
	dropped := false
	for _, en := range e.Entries {
		if !dropped && en.Key[0] == types.PrefixHistory {
			dropped = true
			continue
		}
		bad.Entries = append(bad.Entries, en)
	}
	if _, _, err := importChain(t, &bad, exportGenesis(t, &bad), e.Height+1); err == nil ||
		!(strings.Contains(err.Error(), "app hash") || strings.Contains(err.Error(), "invariant")) {
		t.Fatalf("export missing a record imported: %v", err)
	}
	// Drop a card's CRMS window, which no invariant counts: the digest
	// refuses it.
	bad.Entries = nil
	dropped = false
	for _, en := range e.Entries {
		if !dropped && en.Key[0] == types.PrefixCard {
			dropped = true
			continue
		}
		bad.Entries = append(bad.Entries, en)
	}
	if !dropped {
		t.Fatal("the exported chain has no card window to drop")
	}
	if _, _, err := importChain(t, &bad, exportGenesis(t, &bad), e.Height+1); err == nil || !strings.Contains(err.Error(), "app hash") {
		t.Fatalf("export missing a card window imported: %v", err)
	}
}
