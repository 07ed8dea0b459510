package app

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
)

// Export is the whole committed application state at a height, as the
// app_state "export" of a genesis a new chain starts from (SPEC §7b): every
// record of every module (sellers, terminals, customers, lots, history,
// CRMS windows, positions, statements, idempotency records, proposals,
// params, upgrade records) byte for byte. The new chain starts at
// Height+1 (genesis initial_height), so every height in state (expiries of
// proposals, envelopes' valid_until_height, a plan's height) keeps its
// meaning, and its genesis app hash is AppHash: the same state digest.
type Export struct {
	Height  int64         `json:"height"`
	AppHash string        `json:"app_hash"` // hex, upper case as CometBFT prints it
	TimeNs  int64         `json:"time_ns"`  // block time of Height
	Entries []ExportEntry `json:"entries"`  // in key order
}

// ExportEntry is one state record (JSON encodes the bytes in base64).
type ExportEntry struct {
	Key   []byte `json:"k"`
	Value []byte `json:"v"`
}

// Export reads the committed state.
func (a *App) Export() (*Export, error) {
	view := a.db.View()
	defer view.Discard()
	if view.Height == 0 {
		return nil, fmt.Errorf("nothing committed yet: no state to export")
	}
	_, root := a.db.LastCommit()
	out := &Export{Height: view.Height, AppHash: fmt.Sprintf("%X", root), TimeNs: view.TimeNs}
	store.Each(view, nil, func(k, v []byte) bool {
		out.Entries = append(out.Entries, ExportEntry{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return true
	})
	return out, nil
}

// ExportValidators are the validators a chain restarted from the export
// starts with: every seller with voting power, in id order (key order).
func ExportValidators(e *Export) ([]Validator, error) {
	var out []Validator
	for _, en := range e.Entries {
		if len(en.Key) == 0 || en.Key[0] != types.PrefixSeller {
			continue
		}
		var s types.SellerRecord
		if err := s.Unmarshal(en.Value); err != nil {
			return nil, fmt.Errorf("exported seller record %x: %w", en.Key, err)
		}
		if s.ValidatorPower > 0 {
			out = append(out, Validator{PubKey: s.ValidatorPubkey, Power: s.ValidatorPower})
		}
	}
	return out, nil
}

// ExportAppVersion is the app version of the exported state's rules.
func ExportAppVersion(e *Export) (uint64, error) {
	for _, en := range e.Entries {
		if bytes.Equal(en.Key, types.UpgradeHistoryKey()) {
			var h types.UpgradeHistory
			if err := h.Unmarshal(en.Value); err != nil {
				return 0, fmt.Errorf("exported upgrade history: %w", err)
			}
			return max(h.AppVersion, upgrade.InitialAppVersion), nil
		}
	}
	return upgrade.InitialAppVersion, nil
}

// initFromExport writes an exported state as the genesis state: the
// records as they were, then the checks a new chain must pass before it
// starts: the SPEC §5.5 invariants, the state digest, and the genesis
// validators being exactly the sellers with voting power.
func (a *App) initFromExport(blk *store.Cache, e *Export, vals []Validator) ([]byte, error) {
	if a.initialHeight != e.Height+1 {
		return nil, fmt.Errorf("genesis initial_height is %d; a chain restarted from the state of height %d starts at %d", a.initialHeight, e.Height, e.Height+1)
	}
	var prev []byte
	for i, en := range e.Entries {
		if len(en.Key) == 0 || (i > 0 && bytes.Compare(en.Key, prev) <= 0) {
			return nil, fmt.Errorf("export entry %d: keys must be non-empty and in increasing order", i)
		}
		if en.Value == nil {
			en.Value = []byte{}
		}
		blk.Set(en.Key, en.Value)
		prev = en.Key
	}
	if state.Params(blk) == nil {
		return nil, fmt.Errorf("export holds no parameters")
	}
	if err := CheckInvariants(blk); err != nil {
		return nil, fmt.Errorf("exported state: %w", err)
	}
	var want []Validator
	for _, s := range members.Active(blk) {
		want = append(want, Validator{PubKey: s.ValidatorPubkey, Power: s.ValidatorPower})
	}
	if err := sameValidators(want, vals); err != nil {
		return nil, err
	}
	root, err := a.stage(blk, true)
	if err != nil {
		return nil, err
	}
	if got := fmt.Sprintf("%X", root); got != e.AppHash {
		return nil, fmt.Errorf("exported state hashes to %s, not the app hash %s it was exported with", got, e.AppHash)
	}
	return root, nil
}

func sameValidators(want, got []Validator) error {
	if len(got) == 0 {
		return nil // CometBFT takes them from the app (none in genesis)
	}
	if len(want) != len(got) {
		return fmt.Errorf("genesis has %d validators but the exported state %d active sellers", len(got), len(want))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if bytes.Equal(w.PubKey, g.PubKey) && w.Power == g.Power {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("validator %s (power %d) of the exported state is not a genesis validator with that power", hex.EncodeToString(w.PubKey), w.Power)
		}
	}
	return nil
}

// SetInitialHeight is the genesis initial_height (CometBFT's
// RequestInitChain.InitialHeight): the first block's height, 1 for a new
// chain, Export.Height+1 for one restarted from an export.
func (a *App) SetInitialHeight(h int64) {
	if h < 1 {
		h = 1
	}
	a.initialHeight = h
}

// parseExport returns app_state's export, if it is one.
func parseExport(appState []byte) (*Export, error) {
	var g struct {
		Export *Export `json:"export"`
	}
	if err := json.Unmarshal(appState, &g); err != nil {
		return nil, fmt.Errorf("genesis app_state: %w", err)
	}
	return g.Export, nil
}
