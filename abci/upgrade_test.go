package abci_test

import (
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// scheduleAt passes a software-upgrade proposal for name at height h in
// blocks 1-3 (two sellers: both must say yes).
func scheduleAt(t *testing.T, x *abci.Application, name string, h int64) {
	t.Helper()
	block(t, x, 1)
	res := block(t, x, 2, signed(2, "seller-a/operator", &types.MsgPropose{Action: &types.MsgPropose_SoftwareUpgrade{
		SoftwareUpgrade: &types.UpgradePlan{Name: name, Height: h}}}, "p"))
	if res.TxResults[0].Code != 0 {
		t.Fatal(res.TxResults[0].Log)
	}
	res = block(t, x, 3, signed(3, "seller-b/operator", &types.MsgVote{ProposalId: 1, Yes: true}, "v"))
	if res.TxResults[0].Code != 0 {
		t.Fatal(res.TxResults[0].Log)
	}
}

type upgradeCall struct {
	plan    *types.UpgradePlan
	inBlock bool
}

// TestUpgradeStopsBeforeItsBlock: without the handler, the node is told
// after the commit of H-1 (to stop cleanly), and a FinalizeBlock of H
// never applies it: it tells the node again, as held in the block, and
// does not return; the state stays at H-1.
func TestUpgradeStopsBeforeItsBlock(t *testing.T) {
	x, db := open(t, t.TempDir())
	defer db.Close()
	initChain(t, x)
	x.App.SetUpgradeHandlers(nil)
	calls := make(chan upgradeCall, 4)
	x.OnUpgradeNeeded = func(p *types.UpgradePlan, in bool) { calls <- upgradeCall{p, in} }
	const H = 6
	scheduleAt(t, x, "v2-abci", H)
	block(t, x, 4)
	if len(calls) != 0 {
		t.Fatalf("told %d blocks early", H-4)
	}
	block(t, x, 5)
	wait := func() upgradeCall {
		t.Helper()
		select {
		case c := <-calls:
			return c
		case <-time.After(30 * time.Second):
			t.Fatal("the node was not told")
		}
		return upgradeCall{}
	}
	if c := wait(); c.plan.Name != "v2-abci" || c.plan.Height != H || c.inBlock {
		t.Fatalf("after the commit of H-1: %+v", c)
	}
	returned := make(chan struct{})
	go func() {
		_, _ = x.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Height: H, Time: time.Unix(apptest.GenesisTime+H*5, 0)})
		close(returned) // never: the goroutine stays blocked
	}()
	if c := wait(); !c.inBlock || c.plan.Name != "v2-abci" {
		t.Fatalf("FinalizeBlock of H: %+v", c)
	}
	select {
	case <-returned:
		t.Fatal("FinalizeBlock of the upgrade block returned")
	default:
	}
	if h, _ := x.App.Info(); h != H-1 {
		t.Fatalf("state at %d, want %d", h, H-1)
	}
	info, _ := x.Info(ctx, &abcitypes.RequestInfo{})
	if info.AppVersion != upgrade.InitialAppVersion || info.LastBlockHeight != H-1 {
		t.Fatalf("Info: %+v", info)
	}
}

// TestUpgradeBlockSetsTheAppVersion: with the handler, block H returns
// ConsensusParams.Version.App = the new version (CometBFT puts it in the
// headers from H+1), Info reports it after the commit, and other blocks
// change no consensus parameter.
func TestUpgradeBlockSetsTheAppVersion(t *testing.T) {
	x, db := open(t, t.TempDir())
	defer db.Close()
	initChain(t, x)
	runs := 0
	x.App.SetUpgradeHandlers([]upgrade.Handler{{Name: "v2-abci", AppVersion: 2, Migrate: func(*state.Ctx) error { runs++; return nil }}})
	x.OnUpgradeNeeded = func(p *types.UpgradePlan, in bool) { t.Errorf("told to stop for %s with the handler", p.Name) }
	const H = 6
	scheduleAt(t, x, "v2-abci", H)
	for h := int64(4); h <= H+1; h++ {
		res := block(t, x, h)
		info, _ := x.Info(ctx, &abcitypes.RequestInfo{})
		switch {
		case h == H && (res.ConsensusParamUpdates == nil || res.ConsensusParamUpdates.Version.App != 2):
			t.Fatalf("block H: consensus param updates %v", res.ConsensusParamUpdates)
		case h != H && res.ConsensusParamUpdates != nil:
			t.Fatalf("block %d: consensus param updates %v", h, res.ConsensusParamUpdates)
		case h < H && info.AppVersion != 1, h >= H && info.AppVersion != 2:
			t.Fatalf("after block %d: Info app version %d", h, info.AppVersion)
		}
	}
	if runs != 1 {
		t.Fatalf("migration ran %d times", runs)
	}
}
