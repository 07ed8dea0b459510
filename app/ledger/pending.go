package ledger

import (
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// Pending points (SPEC §5.9): a lot issued by a seller with a return window
// is pending until issued_at + window. It counts in the customer's balance
// (and in every conservation law) but cannot be redeemed; a refund claws
// pending points back first; the first block after pending_until releases
// it. Customer.pending_points is the sum of the customer's pending lots and
// each pending lot has one entry in the release index.

// markPending makes a new lot pending until t (the caller saves the lot
// with putLot, and the customer).
func markPending(c *state.Ctx, cust *types.Customer, lot *types.Lot, until int64) error {
	var err error
	if cust.PendingPoints, err = types.AddU64("pending points", cust.PendingPoints, lot.Points); err != nil {
		return err
	}
	lot.PendingUntil = until
	markRelease(c.KV, cust.CustomerId, lot)
	return nil
}

// unpend accounts for n points leaving a pending lot; when the lot leaves
// altogether (gone), its release entry goes too.
func unpend(c *state.Ctx, cust *types.Customer, lot *types.Lot, n uint64, gone bool) {
	if lot.PendingUntil == 0 {
		return
	}
	cust.PendingPoints -= n
	if gone {
		unmarkRelease(c.KV, cust.CustomerId, lot)
	}
}

// Available is what a customer may redeem now: its balance less pending points.
func Available(cust *types.Customer) uint64 { return cust.Points - cust.PendingPoints }

// ReleaseBefore makes lots pending until before t available, earliest
// first, at most limit of them (block-level work is bounded like expiry;
// a backlog drains in the following blocks). It returns the lots released.
func ReleaseBefore(c *state.Ctx, t int64, limit int) (int, error) {
	type due struct {
		until, expires int64
		customer       string
		seq            uint64
	}
	var list []due
	it := c.KV.Iterator([]byte{types.PrefixRelease}, types.ReleaseBound(t))
	for ; it.Valid() && len(list) < limit; it.Next() {
		until, cust, exp, seq, err := types.ParseReleaseKey(it.Key())
		if err != nil {
			it.Close()
			panic(err)
		}
		list = append(list, due{until, exp, cust, seq})
	}
	it.Close()
	for _, d := range list {
		lot, ok := lotAt(c.KV, d.customer, d.expires, d.seq)
		if !ok || lot.PendingUntil != d.until {
			panic("ledger: release index points at a missing or available lot")
		}
		cust, _ := Customer(c.KV, d.customer)
		unmarkRelease(c.KV, d.customer, lot)
		cust.PendingPoints -= lot.Points
		lot.PendingUntil = 0
		putLot(c.KV, d.customer, lot)
		putCustomer(c.KV, cust)
		if err := settle.Activity(c, lot.Issuer, func(e *types.SellerEpoch) error {
			e.ReleasedPoints += lot.Points
			return nil
		}); err != nil {
			return 0, err
		}
		c.Emit(types.EventPointsReleased, "customer", d.customer, "issuer", lot.Issuer, "points", state.U(lot.Points),
			"pending_until", state.I(d.until), "actor", c.Actor)
	}
	return len(list), nil
}
