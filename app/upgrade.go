package app

import (
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
)

// AppVersion is the app version of the committed state's rules (Info).
func (a *App) AppVersion() uint64 {
	view := a.db.View()
	defer view.Discard()
	return upgrade.AppVersion(view)
}

// UpgradeDue is the plan at height that this binary has no handler for:
// the block at height must not be applied by it (the node stops first).
func (a *App) UpgradeDue(height int64) (*types.UpgradePlan, bool) {
	view := a.db.View()
	defer view.Discard()
	p, ok := upgrade.Due(view, height)
	if !ok {
		return nil, false
	}
	if _, has := upgrade.Find(a.upgrades, p.Name); has {
		return nil, false
	}
	return p, true
}

// CheckBinary tells whether this binary can go on from the committed
// state: an error names the upgrade it lacks (*upgrade.NeededError when
// the next block is that upgrade's height).
func (a *App) CheckBinary() error {
	view := a.db.View()
	defer view.Discard()
	return upgrade.CheckBinary(view, view.Height, a.upgrades)
}

// SetUpgradeHandlers replaces the binary's handlers (tests of one process
// standing for several binaries).
func (a *App) SetUpgradeHandlers(hs []upgrade.Handler) { a.upgrades = hs }

// UpgradeNeededError is the refusal of a binary without the handler of
// the plan due at the next height; UpgradeMissingError that of a binary
// older than the state (an upgrade it does not carry was applied).
type (
	UpgradeNeededError  = upgrade.NeededError
	UpgradeMissingError = upgrade.MissingError
)
