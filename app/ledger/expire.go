package ledger

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// ExpireBefore removes every lot with expires_at < t, crediting each issuer
// its breakage. It runs at the start of a block with t = block time (and,
// when the block closes an epoch, first with t = the epoch boundary, so each
// lot's breakage lands in the epoch it expired in). It returns the points
// expired.
func ExpireBefore(c *state.Ctx, t int64) (uint64, error) {
	type due struct {
		customer string
		expires  int64
		seq      uint64
	}
	var list []due
	it := c.KV.Iterator([]byte{types.PrefixExpiry}, types.ExpiryBound(t))
	for ; it.Valid(); it.Next() {
		exp, cust, seq, err := types.ParseExpiryKey(it.Key())
		if err != nil {
			it.Close()
			panic(err)
		}
		list = append(list, due{cust, exp, seq})
	}
	it.Close()
	var total uint64
	for _, d := range list {
		lot, ok := state.Lot(c.KV, d.customer, d.expires, d.seq)
		if !ok {
			panic("ledger: expiry index points at a missing lot")
		}
		cust, _ := state.Customer(c.KV, d.customer)
		totals := state.Totals(c.KV)
		state.DeleteLot(c.KV, d.customer, lot)
		cust.Points -= lot.Points
		cust.LotCount--
		totals.Lots--
		totals.OutstandingPoints -= lot.Points
		totals.ExpiredPoints += lot.Points
		state.PutTotals(c.KV, totals)
		if err := breakageTo(c, lot.Issuer, lot.Points, d.customer); err != nil {
			return total, err
		}
		state.AppendHistory(c, cust, types.HistoryKind_HISTORY_KIND_EXPIRE, -int64(lot.Points), lot.Issuer)
		state.PutCustomer(c.KV, cust)
		total += lot.Points
	}
	return total, nil
}
