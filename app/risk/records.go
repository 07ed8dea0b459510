package risk

import (
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
