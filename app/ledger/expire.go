package ledger

import (
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// ExpireBefore removes lots with expires_at < t, earliest first, crediting
// each issuer its breakage, and at most limit of them (block-level work is
// bounded, SPEC §2: a backlog, possible only after the chain stood still for
// a long time, drains over the following blocks). It runs at the start of a
// block with t = block time (and, when the block closes an epoch, first with
// t = the epoch boundary, so each lot's breakage lands in the epoch it
// expired in). It returns the number of lots and the points expired.
func ExpireBefore(c *state.Ctx, t int64, limit int) (lots int, points uint64, err error) {
	type due struct {
		customer string
		expires  int64
		seq      uint64
	}
	var list []due
	it := c.KV.Iterator([]byte{types.PrefixExpiry}, types.ExpiryBound(t))
	for ; it.Valid() && len(list) < limit; it.Next() {
		exp, cust, seq, err := types.ParseExpiryKey(it.Key())
		if err != nil {
			it.Close()
			panic(err)
		}
		list = append(list, due{cust, exp, seq})
	}
	it.Close()
	for _, d := range list {
		lot, ok := lotAt(c.KV, d.customer, d.expires, d.seq)
		if !ok {
			panic("ledger: expiry index points at a missing lot")
		}
		cust, _ := Customer(c.KV, d.customer)
		totals := state.Totals(c.KV)
		unpend(c, cust, lot, lot.Points, true)
		deleteLot(c.KV, d.customer, lot)
		cust.Points -= lot.Points
		cust.LotCount--
		totals.Lots--
		totals.OutstandingPoints -= lot.Points
		totals.ExpiredPoints += lot.Points
		if err := breakageTo(c, totals, lot.Issuer, lot.Points, d.customer, settle.Credit); err != nil {
			return lots, points, err
		}
		state.PutTotals(c.KV, totals)
		appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_EXPIRE, -int64(lot.Points), lot.Issuer)
		putCustomer(c.KV, cust)
		lots++
		points += lot.Points
	}
	return lots, points, nil
}
