package risk

import (
	"sync"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
)

// Keeper is the chain's CRMS: it holds one crms.Engine per parameter set.
// Building an engine costs a few microseconds (rank weights, normaliser);
// the cache only saves that work and never changes a result, so it is safe
// in consensus code. FinalizeBlock, CheckTx and queries share it.
type Keeper struct {
	mu    sync.Mutex
	key   string            // encoding of the params the engine was built from
	last  *types.CrmsParams // the params object key was computed from
	e     *crms.Engine
	table crms.RatingTable
}

// Engine returns the engine and rating table for governed parameters.
func (k *Keeper) Engine(c *types.CrmsParams) (*crms.Engine, crms.RatingTable, error) {
	k.mu.Lock()
	if k.e != nil && k.last == c {
		e, t := k.e, k.table
		k.mu.Unlock()
		return e, t, nil
	}
	k.mu.Unlock()
	bz, err := c.Marshal()
	if err != nil {
		return nil, nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.e != nil && k.key == string(bz) {
		k.last = c
		return k.e, k.table, nil
	}
	e, err := crms.NewEngine(EngineParams(c))
	if err != nil {
		return nil, nil, types.Errorf(types.CodeInternal, "crms engine: %v", err)
	}
	k.key, k.last, k.e, k.table = string(bz), c, e, Ratings(c)
	return e, k.table, nil
}
