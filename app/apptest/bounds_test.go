package apptest

import (
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// The worst case the governed bounds allow (SPEC §2): the amount limits at
// the largest values governance may set, every seller issuing its epoch
// cap in maximal purchases for several epochs, cross-seller redemptions of
// it, then a year later every lot expiring (through a backlog larger than
// the per-block expiry bound) across an epoch close. No block may fail,
// the invariants hold after every block (Chain.Check), and the chain goes
// on booking afterwards.
func TestWorstCaseBoundedLoadKeepsTheChainGoing(t *testing.T) {
	p := app.DefaultParams()
	p.MaxPurchasePaise = 1e12    // the largest ValidateParams allows
	p.MaxEpochIssuePoints = 1e11 // likewise
	p.MaxExpiriesPerBlock = 7    // so the expiry backlog spans blocks and an epoch close
	require.NoError(t, app.ValidateParams(p))
	sellers := []string{"seller-a", "seller-b", "seller-c", "seller-d"}
	c := New(t, sellers, p)
	const epochs, perEpoch = 3, 10 // 10 purchases of Rs 1e10 fill a seller's 1e11-point cap
	for e := 0; e < epochs; e++ {
		var txs [][]byte
		for _, s := range sellers {
			for i := 0; i <= perEpoch; i++ { // one more than the cap allows
				txs = append(txs, c.Tx(Operator(s), &types.MsgPurchase{CustomerId: "whale-" + s, AmountPaise: 1e12, Flow: Flow()}))
			}
		}
		res := c.Block(60, txs...)
		for i, r := range res {
			if i%(perEpoch+1) == perEpoch {
				require.Equal(t, types.CodeInvalidAmount, r.Code, "purchase past the epoch cap: %s", r.Log)
			} else {
				MustOK(t, r)
			}
		}
		// Each whale spends half its points at the next seller: cross-seller
		// redemptions move positions up by the same order of magnitude.
		txs = txs[:0]
		for i, s := range sellers {
			next := sellers[(i+1)%len(sellers)]
			txs = append(txs, c.Tx(Operator(next), &types.MsgRedeem{CustomerId: "whale-" + s, Points: 5e10, BillPaise: 5e12 / 10, Flow: Flow()}))
		}
		for _, r := range c.Block(60, txs...) {
			require.Equal(t, types.CodeInvalidAmount, r.Code, "a bill above the maximum purchase: %s", r.Log)
		}
		txs = txs[:0]
		for i, s := range sellers {
			next := sellers[(i+1)%len(sellers)]
			for j := 0; j < 5; j++ {
				txs = append(txs, c.Tx(Operator(next), &types.MsgRedeem{CustomerId: "whale-" + s, Points: 1e10, BillPaise: 1e12, Flow: Flow()}))
			}
		}
		for _, r := range c.Block(60, txs...) {
			MustOK(t, r)
		}
		c.Block(86400) // next epoch
	}
	totals := func() *types.Totals {
		q := c.App.Query("/totals", false)
		var tot types.Totals
		require.NoError(t, tot.Unmarshal(q.Value))
		return &tot
	}
	outstanding := func() uint64 { return totals().OutstandingPoints }
	require.Equal(t, uint64(epochs*len(sellers)*5e10), outstanding())
	lots := totals().Lots
	require.Equal(t, uint64(epochs*len(sellers)*5), lots, "half of each whale's lots were spent whole")
	// A year on, every lot expires at 7 per block, while epochs close.
	c.Block(366 * 86400)
	blocks := 1
	for outstanding() > 0 {
		c.Block(86400 / 4) // an epoch boundary every 4 blocks
		blocks++
		require.Less(t, blocks, 40, "the expiry backlog does not drain")
	}
	require.GreaterOrEqual(t, blocks, int(lots/7), "expiry was bounded per block")
	// The chain goes on.
	MustOK(t, c.Do(Operator("seller-a"), &types.MsgPurchase{CustomerId: "after", AmountPaise: 1e12, Flow: Flow()}))
}
