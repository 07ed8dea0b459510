package state

import (
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The chain's own records, which every module reads: the governed
// parameters, the chain-wide counters and the clock. Each module's records
// are read and written through the module (ledger/records.go,
// members/records.go, settle/records.go, risk/records.go).

// Totals is the singleton of chain-wide counters. A handler reads it once,
// changes its counters (settle.Move its escrow), and writes it once.
func Totals(r store.Reader) *types.Totals {
	t := &types.Totals{}
	Get(r, types.TotalsKey(), t)
	return t
}

func PutTotals(kv store.KV, t *types.Totals) { Put(kv, types.TotalsKey(), t) }

// Params reads the governed parameters.
func Params(r store.Reader) *types.Params {
	p := &types.Params{}
	if !Get(r, types.ParamsKey(), p) {
		return nil
	}
	return p
}

func PutParams(kv store.KV, p *types.Params) { Put(kv, types.ParamsKey(), p) }

// Clock is the last executed block's height and time (zero before block 1).
func Clock(r store.Reader) *types.ChainClock {
	c := &types.ChainClock{}
	Get(r, types.ClockKey(), c)
	return c
}

func PutClock(kv store.KV, c *types.ChainClock) { Put(kv, types.ClockKey(), c) }
