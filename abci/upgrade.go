package abci

import cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

// A binary without the handler of a scheduled upgrade must not apply the
// block at the plan's height H, and must stop without a panic: CometBFT
// panics ("CONSENSUS FAILURE!!!", with a stack trace) on any error from
// FinalizeBlock, and x/upgrade's PreBlocker panic shows the same trace.
// So the node is told as soon as block H-1 is committed (stopBeforeUpgrade,
// from Commit), and stops cleanly before consensus reaches H. Should
// CometBFT still hand it block H first (the others decided it while this
// node was stopping), refuseUpgradeBlock never lets FinalizeBlock return:
// the block stays unapplied in CometBFT's block store, and the binary that
// has the handler replays it at its start (the ABCI handshake).

// stopBeforeUpgrade tells the node, after the commit of height-1, that
// this binary cannot apply block height.
func (x *Application) stopBeforeUpgrade(height int64) {
	if x.OnUpgradeNeeded == nil {
		return
	}
	if p, due := x.App.UpgradeDue(height); due {
		x.upgradeOnce.Do(func() { x.OnUpgradeNeeded(p, false) })
	}
}

// refuseUpgradeBlock blocks forever when block height is an upgrade this
// binary cannot apply (nothing is written: the app's state stays at
// height-1). The node then exits without stopping consensus, which would
// wait for this call. Without OnUpgradeNeeded (ABCI tests) the app's own
// refusal, an *upgrade.NeededError, halts the block instead.
func (x *Application) refuseUpgradeBlock(height int64) {
	if x.OnUpgradeNeeded == nil {
		return
	}
	p, due := x.App.UpgradeDue(height)
	if !due {
		return
	}
	x.OnUpgradeNeeded(p, true)
	select {}
}

// appVersionUpdate is the consensus-parameter change that makes the block
// headers from the next height on carry an upgrade's app version (nil
// when the block applied no upgrade).
func appVersionUpdate(v uint64) *cmtproto.ConsensusParams {
	if v == 0 {
		return nil
	}
	return &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: v}}
}
