package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
)

// UpgradeInfoFile is where a node that stops for an upgrade writes the
// plan, in the home's CometBFT data directory: cosmovisor's layout
// (DAEMON_HOME/data/upgrade-info.json), which it watches to switch to
// DAEMON_HOME/cosmovisor/upgrades/<name>/bin (docs/upgrades.md).
const UpgradeInfoFile = "data/upgrade-info.json"

// UpgradeInfo is upgrade-info.json: the fields of x/upgrade's Plan that
// cosmovisor reads.
type UpgradeInfo struct {
	Name   string `json:"name"`
	Height int64  `json:"height"`
	Info   string `json:"info"`
}

// WriteUpgradeInfo writes home's upgrade-info.json for plan, atomically
// (a supervisor may read it as soon as it appears) and synced.
func WriteUpgradeInfo(home string, plan *types.UpgradePlan) error {
	bz, err := json.Marshal(UpgradeInfo{Name: plan.Name, Height: plan.Height, Info: plan.Info})
	if err != nil {
		return err
	}
	path := filepath.Join(home, UpgradeInfoFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(bz); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadUpgradeInfo reads home's upgrade-info.json (os.ErrNotExist when the
// node never stopped for an upgrade).
func ReadUpgradeInfo(home string) (*UpgradeInfo, error) {
	bz, err := os.ReadFile(filepath.Join(home, UpgradeInfoFile))
	if err != nil {
		return nil, err
	}
	var u UpgradeInfo
	if err := json.Unmarshal(bz, &u); err != nil {
		return nil, fmt.Errorf("%s: %w", UpgradeInfoFile, err)
	}
	return &u, nil
}

// checkBinary refuses to start a binary that cannot go on from the
// committed state: the next block is an upgrade it has no handler for
// (upgrade-info.json is written again, for a supervisor that starts
// afresh), or the state went through an upgrade it does not carry. It runs
// before CometBFT's handshake, which would otherwise hand the upgrade's
// block to this binary.
func (n *Node) checkBinary() error {
	err := n.App.CheckBinary()
	if ne, ok := err.(*app.UpgradeNeededError); ok {
		if werr := WriteUpgradeInfo(n.Home, ne.Plan); werr != nil {
			return fmt.Errorf("%w (and writing %s failed: %v)", err, UpgradeInfoFile, werr)
		}
	}
	return err
}

// upgradeNeeded is the ABCI app's OnUpgradeNeeded: it writes
// upgrade-info.json and logs one line (once), and tells Halted. inBlock
// means consensus is held in the upgrade block's FinalizeBlock for good:
// Stop then does not wait for it.
func (n *Node) upgradeNeeded(plan *types.UpgradePlan, inBlock bool) {
	n.upgradeOnce.Do(func() {
		err := &app.UpgradeNeededError{Plan: plan}
		if werr := WriteUpgradeInfo(n.Home, plan); werr != nil {
			n.Logger.Error(err.Error(), "module", "upgrade", "upgrade_info_error", werr.Error())
		} else {
			n.Logger.Error(err.Error(), "module", "upgrade", "upgrade_info", filepath.Join(n.Home, UpgradeInfoFile))
		}
		select {
		case n.halted <- err:
		default:
		}
	})
	if inBlock {
		n.heldOnce.Do(func() { close(n.held) })
	}
}
