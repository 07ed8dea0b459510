package apptest

import (
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// TestPrefetchCoversABlocksReads: with a value cache smaller than the
// state (so that earlier blocks' records were evicted), warming the keys
// app.PrefetchKeys lists for a block of purchases and redemptions makes
// every state read of that block's execution a cache hit, and the block's
// results and app hash are those of the same block applied without
// prefetch on a twin chain.
func TestPrefetchCoversABlocksReads(t *testing.T) {
	open := func() *store.DB {
		db, err := store.Open(store.Options{InMemory: true, ValueCacheEntries: 256})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	sellers := []string{"seller-a", "seller-b"}
	// No invariant walk: it reads the whole state through the cache.
	cfg := app.Config{ChainID: ChainID}
	warm, cold := NewOnConfig(t, open(), sellers, nil, cfg), NewOnConfig(t, open(), sellers, nil, cfg)
	for _, c := range []*Chain{warm, cold} {
		c.Check = false
		var txs [][]byte
		for i := 0; i < 300; i++ {
			txs = append(txs, c.Tx(Operator(sellers[i%2]), &types.MsgPurchase{SellerId: sellers[i%2],
				CustomerId: customerID(i), AmountPaise: 50_000, Flow: Flow()}))
		}
		for _, r := range c.Block(5, txs...) {
			MustOK(t, r)
		}
	}
	block := func(c *Chain) [][]byte {
		var txs [][]byte
		for i := 0; i < 20; i++ {
			cust := customerID(i * 13 % 300)
			if i%4 == 3 {
				txs = append(txs, c.Tx(Operator(sellers[(i+1)%2]), &types.MsgRedeem{SellerId: sellers[(i+1)%2],
					CustomerId: cust, Points: 10, BillPaise: 5_000, Flow: Flow()}))
			} else {
				txs = append(txs, c.Tx(Operator(sellers[i%2]), &types.MsgPurchase{SellerId: sellers[i%2],
					CustomerId: cust, AmountPaise: 25_000, Flow: Flow()}))
			}
		}
		return txs
	}
	wtxs, ctxs := block(warm), block(cold)
	warm.DB.Warm(warm.App.PrefetchKeys(wtxs))()
	before := warm.DB.ValueCacheStats()
	warm.Height++
	warm.Time += 5
	res, err := warm.App.FinalizeBlock(app.Block{Height: warm.Height, TimeNs: warm.Time * 1e9, Txs: wtxs})
	if err != nil {
		t.Fatal(err)
	}
	after := warm.DB.ValueCacheStats()
	if err := warm.App.Commit(); err != nil {
		t.Fatal(err)
	}
	if misses := after.Misses - before.Misses; misses != 0 || after.Hits == before.Hits {
		t.Fatalf("after prefetch the block's execution missed the cache %d times (%d hits)", misses, after.Hits-before.Hits)
	}
	cres := cold.Block(5, ctxs...)
	for i, r := range res.TxResults {
		MustOK(t, r)
		if r.Code != cres[i].Code || string(r.Data) != string(cres[i].Data) {
			t.Fatalf("tx %d: prefetched %d %x, not prefetched %d %x", i, r.Code, r.Data, cres[i].Code, cres[i].Data)
		}
	}
	_, wh := warm.App.Info()
	_, ch := cold.App.Info()
	if string(wh) != string(ch) {
		t.Fatalf("app hash with prefetch %X, without %X", wh, ch)
	}
}
