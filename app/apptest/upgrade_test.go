package apptest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
)

// testUpgrade is a handler like the binary's v2-test (built only with
// -tags upgradetest), installed in one app and not the other: one process
// standing for two binaries. calls counts its migrations.
func testUpgrade(calls *int) upgrade.Handler {
	return upgrade.Handler{Name: "v2-app", AppVersion: 2, Migrate: func(c *state.Ctx) error {
		*calls++
		p := state.Params(c.KV)
		p.MaxHistoryPage = 321
		state.PutParams(c.KV, p)
		return nil
	}}
}

// pass proposes m by s-0 and has s-1 and s-2 vote yes (3 of 4 passes).
func pass(t *testing.T, c *Chain, m *types.MsgPropose) {
	t.Helper()
	r := MustOK(t, c.Do(Operator("s-0"), m)).GetPropose()
	MustOK(t, c.Do(Operator("s-1"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}))
	if !MustOK(t, c.Do(Operator("s-2"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote().Executed {
		t.Fatal("proposal did not execute on the third yes")
	}
}

func upgradeStatus(t *testing.T, a *app.App) *types.UpgradeStatus {
	t.Helper()
	q := a.Query("/upgrade", false)
	if q.Code != types.CodeOK {
		t.Fatalf("/upgrade: %d %s", q.Code, q.Log)
	}
	var s types.UpgradeStatus
	if err := s.Unmarshal(q.Value); err != nil {
		t.Fatal(err)
	}
	return &s
}

func maxHistoryPage(c *Chain) uint32 {
	v := c.DB.View()
	defer v.Discard()
	return state.Params(v).MaxHistoryPage
}

// twins runs the same blocks on two apps and checks their app hashes stay
// equal: "newer" has the upgrade's handler from the start, "older" none.
type twins struct {
	t              *testing.T
	newer, older   *Chain
	newCalls, olds int
}

func newTwins(t *testing.T) *twins {
	sellers := []string{"s-0", "s-1", "s-2", "s-3"}
	w := &twins{t: t, newer: New(t, sellers, nil), older: New(t, sellers, nil)}
	w.newer.App.SetUpgradeHandlers([]upgrade.Handler{testUpgrade(&w.newCalls)})
	w.older.App.SetUpgradeHandlers(nil)
	return w
}

// do runs msg by signer in one block on both and returns its result.
func (w *twins) do(signer string, msg any) app.TxResult {
	w.t.Helper()
	tx := w.newer.Tx(signer, msg)
	rn := w.newer.Block(5, tx)[0]
	ro := w.older.Block(5, tx)[0]
	if rn.Code != ro.Code {
		w.t.Fatalf("block %d: code %d with the handler, %d without", w.newer.Height, rn.Code, ro.Code)
	}
	w.same()
	return rn
}

func (w *twins) same() {
	w.t.Helper()
	hn, an := w.newer.App.Info()
	ho, ao := w.older.App.Info()
	if hn != ho || !bytes.Equal(an, ao) {
		w.t.Fatalf("height %d/%d: app hash %X (with the handler) != %X (without)", hn, ho, an, ao)
	}
}

func (w *twins) pass(m *types.MsgPropose) uint64 {
	w.t.Helper()
	r := MustOK(w.t, w.do(Operator("s-0"), m)).GetPropose()
	MustOK(w.t, w.do(Operator("s-1"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}))
	if !MustOK(w.t, w.do(Operator("s-2"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote().Executed {
		w.t.Fatal("proposal did not execute on the third yes")
	}
	return r.ProposalId
}

func schedule(name string, h int64) *types.MsgPropose {
	return &types.MsgPropose{Action: &types.MsgPropose_SoftwareUpgrade{SoftwareUpgrade: &types.UpgradePlan{Name: name, Height: h, Info: "test"}}}
}

// TestUpgradeAtItsHeight: until the plan's height both apps apply the old
// rules (equal app hashes, the handler's binary included); at it the one
// without the handler refuses the block and writes nothing, the other
// migrates once and bumps the app version; switched to the handler, the
// first applies the same block to the same hash; put back without it, it
// refuses to go on, naming the upgrade.
func TestUpgradeAtItsHeight(t *testing.T) {
	w := newTwins(t)
	for _, bad := range []*types.MsgPropose{schedule("v2-app", w.newer.Height+1), schedule("Bad Name", 100), schedule("", 100)} {
		if r := w.do(Operator("s-0"), bad); r.Code != types.CodeInvalidArgument {
			t.Fatalf("%v: code %d %s", bad, r.Code, r.Log)
		}
	}
	if r := w.do(Operator("s-0"), &types.MsgPropose{Action: &types.MsgPropose_CancelUpgrade{CancelUpgrade: &types.CancelUpgrade{}}}); r.Code != types.CodeNotFound {
		t.Fatalf("cancel with no plan: code %d %s", r.Code, r.Log)
	}
	H := w.newer.Height + 8
	id := w.pass(schedule("v2-app", H))
	st := upgradeStatus(t, w.older.App)
	if st.Plan == nil || st.Plan.Name != "v2-app" || st.Plan.Height != H || st.Plan.ProposalId != id || st.AppVersion != 1 {
		t.Fatalf("status after scheduling: %+v", st)
	}
	for w.newer.Height < H-1 {
		w.do(Operator("s-0"), &types.MsgPurchase{CustomerId: "c", AmountPaise: 10000, Flow: Flow()})
	}
	if newer, older := maxHistoryPage(w.newer), maxHistoryPage(w.older); newer != 500 || older != 500 || w.newCalls != 0 {
		t.Fatalf("before H: max_history_page %d / %d, %d migrations", newer, older, w.newCalls)
	}
	if err := w.older.App.CheckBinary(); !errors.As(err, new(*app.UpgradeNeededError)) {
		t.Fatalf("the binary without the handler may start before H: %v", err)
	}
	if _, due := w.older.App.UpgradeDue(H); !due {
		t.Fatal("UpgradeDue does not see the plan at H")
	}
	if _, due := w.newer.App.UpgradeDue(H); due {
		t.Fatal("UpgradeDue sees a plan the binary has the handler for")
	}

	// Block H.
	tx := w.newer.Tx(Operator("s-0"), &types.MsgPurchase{CustomerId: "c", AmountPaise: 10000, Flow: Flow()})
	hashBefore := func() []byte { _, h := w.older.App.Info(); return h }()
	_, err := w.older.App.FinalizeBlock(app.Block{Height: H, TimeNs: (w.older.Time + 5) * 1e9, Txs: [][]byte{tx}})
	var needed *app.UpgradeNeededError
	if !errors.As(err, &needed) || needed.Plan.Name != "v2-app" {
		t.Fatalf("block H without the handler: %v", err)
	}
	if h, hash := w.older.App.Info(); h != H-1 || !bytes.Equal(hash, hashBefore) {
		t.Fatalf("the refused block changed the state: height %d", h)
	}
	MustOK(t, w.newer.Block(5, tx)[0])
	// The old app's "binary switch": the handler installed, the block again.
	w.older.App.SetUpgradeHandlers([]upgrade.Handler{testUpgrade(&w.olds)})
	MustOK(t, w.older.Block(5, tx)[0])
	w.same()
	if w.newCalls != 1 || w.olds != 1 {
		t.Fatalf("migrations at H: %d and %d, want 1 each", w.newCalls, w.olds)
	}
	if p := maxHistoryPage(w.newer); p != 321 {
		t.Fatalf("migration's effect missing: max_history_page %d", p)
	}
	st = upgradeStatus(t, w.newer.App)
	if st.Plan != nil || len(st.Done) != 1 || st.Done[0].Name != "v2-app" || st.Done[0].Height != H || st.AppVersion != 2 || w.newer.App.AppVersion() != 2 {
		t.Fatalf("status after H: %+v", st)
	}
	// Exactly once: blocks after H do not migrate again.
	for i := 0; i < 3; i++ {
		w.do(Operator("s-0"), &types.MsgPurchase{CustomerId: "c", AmountPaise: 10000, Flow: Flow()})
	}
	if w.newCalls != 1 || w.olds != 1 {
		t.Fatalf("migrations after H: %d and %d", w.newCalls, w.olds)
	}
	// The same upgrade cannot be scheduled again.
	if r := w.do(Operator("s-0"), schedule("v2-app", w.newer.Height+10)); r.Code != types.CodeInvalidArgument {
		t.Fatalf("re-scheduling an applied upgrade: code %d %s", r.Code, r.Log)
	}
	// Back on the binary without it: refused, naming the upgrade.
	w.older.App.SetUpgradeHandlers(nil)
	var missing *app.UpgradeMissingError
	if err := w.older.App.CheckBinary(); !errors.As(err, &missing) || missing.Done.Name != "v2-app" {
		t.Fatalf("old binary after H: %v", err)
	}
}

// TestBlockAtUpgradeReportsTheAppVersion: the block that applies an
// upgrade reports the new app version (the node turns it into
// ConsensusParams.Version.App), the others none.
func TestBlockAtUpgradeReportsTheAppVersion(t *testing.T) {
	c := New(t, []string{"s-0", "s-1", "s-2", "s-3"}, nil)
	var calls int
	c.App.SetUpgradeHandlers([]upgrade.Handler{testUpgrade(&calls)})
	H := c.Height + 5
	pass(t, c, schedule("v2-app", H))
	for c.Height < H+1 {
		c.Height++
		c.Time += 5
		res, err := c.App.FinalizeBlock(app.Block{Height: c.Height, TimeNs: c.Time * 1e9})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.App.Commit(); err != nil {
			t.Fatal(err)
		}
		want := uint64(0)
		if c.Height == H {
			want = 2
		}
		if res.AppVersion != want {
			t.Fatalf("block %d reports app version %d, want %d", c.Height, res.AppVersion, want)
		}
	}
}

// TestCancelledUpgradeDoesNothing: a plan cancelled before its height
// leaves no trace at it, even on a binary without its handler.
func TestCancelledUpgradeDoesNothing(t *testing.T) {
	c := New(t, []string{"s-0", "s-1", "s-2", "s-3"}, nil)
	c.App.SetUpgradeHandlers(nil)
	H := c.Height + 12
	pass(t, c, schedule("v2-app", H))
	if r := c.Do(Operator("s-0"), &types.MsgPropose{Action: &types.MsgPropose_CancelUpgrade{CancelUpgrade: &types.CancelUpgrade{Name: "other"}}}); r.Code != types.CodeInvalidArgument {
		t.Fatalf("cancel naming another plan: code %d %s", r.Code, r.Log)
	}
	pass(t, c, &types.MsgPropose{Action: &types.MsgPropose_CancelUpgrade{CancelUpgrade: &types.CancelUpgrade{Name: "v2-app"}}})
	if st := upgradeStatus(t, c.App); st.Plan != nil {
		t.Fatalf("plan still scheduled after cancel: %+v", st.Plan)
	}
	for c.Height <= H+1 {
		c.Block(5) // fatal on an error: a binary without the handler goes through H
	}
	if st := upgradeStatus(t, c.App); st.Plan != nil || len(st.Done) != 0 || st.AppVersion != 1 {
		t.Fatalf("status past H: %+v", st)
	}
	if err := c.App.CheckBinary(); err != nil {
		t.Fatal(err)
	}
}
