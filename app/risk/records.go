package risk

import (
	"fmt"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The CRMS's record: each card's payment window. Only this package writes it.

// Card reads a customer's card window record.
func Card(r store.Reader, customer string) *types.CardHistory {
	c := &types.CardHistory{}
	state.Get(r, types.CardKey(customer), c)
	return c
}

func putCard(kv store.KV, customer string, c *types.CardHistory) {
	state.Put(kv, types.CardKey(customer), c)
}

// Reputations computes, with the engine for cp, each card's reputation at
// nowMs (1e-9 units), in key order, calling fn with each; it stops after
// max cards (truncated: more exist). A card record that does not decode
// stops it with an error.
func (k *Keeper) Reputations(r store.Reader, cp *types.CrmsParams, nowMs int64, max int, fn func(rNano int64)) (cards uint64, truncated bool, err error) {
	eng, _, err := k.Engine(cp)
	if err != nil {
		return 0, false, err
	}
	var buf []crms.Flow
	var decodeErr error
	store.Each(r, []byte{types.PrefixCard}, func(key, value []byte) bool {
		if cards >= uint64(max) {
			truncated = true
			return false
		}
		var h types.CardHistory
		if err := h.Unmarshal(value); err != nil {
			decodeErr = fmt.Errorf("card record %x: %w", key, err)
			return false
		}
		w, err := crms.DecodeHistory(h.Window, buf[:0])
		if err != nil {
			decodeErr = fmt.Errorf("card window %x: %w", key, err)
			return false
		}
		buf = w
		cards++
		fn(eng.ReputationAt(w, nowMs))
		return true
	})
	return cards, truncated, decodeErr
}
