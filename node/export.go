package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
)

// ExportGenesis reads the committed state of the (stopped) node at home
// and returns the genesis of a chain restarted from it under chainID
// (docs/upgrades.md, "Export and restart"): app_state is the whole state
// (app.Export), initial_height the exported height + 1, the validators the
// sellers with voting power, the consensus parameters the old chain's with
// the state's app version, and the genesis time one second after the
// exported block's.
func ExportGenesis(home, chainID string) (*cmttypes.GenesisDoc, *app.Export, error) {
	conf, err := LoadCometConfig(home)
	if err != nil {
		return nil, nil, err
	}
	old, err := cmttypes.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, nil, fmt.Errorf("genesis %s: %w", conf.GenesisFile(), err)
	}
	if chainID == "" || chainID == old.ChainID {
		return nil, nil, fmt.Errorf("give the restarted chain a new chain id (not %q): transactions signed for the old chain must not verify on the new one", old.ChainID)
	}
	db, err := app.OpenDB(app.DBOptions{Dir: filepath.Join(home, AppDataDir)})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, nil, fmt.Errorf("open the state of %s: %w (stop the node first: export reads a stopped node's state)", home, err)
		}
		return nil, nil, err
	}
	defer db.Close()
	e, err := app.New(db, app.Config{ChainID: old.ChainID}).Export()
	if err != nil {
		return nil, nil, err
	}
	vals, err := app.ExportValidators(e)
	if err != nil {
		return nil, nil, err
	}
	if len(vals) == 0 {
		return nil, nil, errors.New("the exported state has no seller with voting power")
	}
	version, err := app.ExportAppVersion(e)
	if err != nil {
		return nil, nil, err
	}
	params := *old.ConsensusParams
	params.Version.App = version
	appState, err := json.Marshal(app.Genesis{Export: e})
	if err != nil {
		return nil, nil, err
	}
	gen := &cmttypes.GenesisDoc{
		ChainID: chainID, GenesisTime: time.Unix(0, e.TimeNs).Add(time.Second).UTC(),
		InitialHeight: e.Height + 1, ConsensusParams: &params, AppState: appState,
	}
	for _, v := range vals {
		gen.Validators = append(gen.Validators, cmttypes.GenesisValidator{PubKey: ed25519.PubKey(v.PubKey), Power: v.Power})
	}
	if err := gen.ValidateAndComplete(); err != nil {
		return nil, nil, err
	}
	return gen, e, nil
}
