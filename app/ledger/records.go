package ledger

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The ledger's records: customers (balances), their lots and the expiry
// index, purchases, redemptions and each customer's history. Only this
// package writes them; keys come from package types.

// Customer reads a customer's record; a missing one comes back empty
// with its id set, and false.
func Customer(r store.Reader, id string) (*types.Customer, bool) {
	c := &types.Customer{}
	ok := state.Get(r, types.CustomerKey(id), c)
	if !ok {
		c.CustomerId = id
	}
	return c, ok
}

func putCustomer(kv store.KV, c *types.Customer) { state.Put(kv, types.CustomerKey(c.CustomerId), c) }

// WalletKey is the wallet key bound to a customer (nil when none).
func WalletKey(r store.Reader, customer string) []byte {
	c, _ := Customer(r, customer)
	return c.WalletPubkey
}

// Lots returns a customer's lots, earliest expiry first.
func Lots(r store.Reader, customer string) []*types.Lot {
	return state.List(r, types.LotPrefix(customer), func() *types.Lot { return &types.Lot{} })
}

// putLot writes a lot and its expiry-index entry.
func putLot(kv store.KV, customer string, l *types.Lot) {
	state.Put(kv, types.LotKey(customer, l.ExpiresAt, l.Seq), l)
	state.Mark(kv, types.ExpiryKey(l.ExpiresAt, customer, l.Seq))
}

// deleteLot removes a lot and its expiry-index entry.
func deleteLot(kv store.KV, customer string, l *types.Lot) {
	kv.Delete(types.LotKey(customer, l.ExpiresAt, l.Seq))
	kv.Delete(types.ExpiryKey(l.ExpiresAt, customer, l.Seq))
}

// markRelease puts a pending lot in the release index, under its
// pending_until (SPEC §5.9); unmarkRelease takes it out.
func markRelease(kv store.KV, customer string, l *types.Lot) {
	state.Mark(kv, types.ReleaseKey(l.PendingUntil, customer, l.ExpiresAt, l.Seq))
}

func unmarkRelease(kv store.KV, customer string, l *types.Lot) {
	kv.Delete(types.ReleaseKey(l.PendingUntil, customer, l.ExpiresAt, l.Seq))
}

func lotAt(r store.Reader, customer string, expiresAt int64, seq uint64) (*types.Lot, bool) {
	l := &types.Lot{}
	return l, state.Get(r, types.LotKey(customer, expiresAt, seq), l)
}

// PurchaseRecord reads a booked purchase by its transaction hash.
func PurchaseRecord(r store.Reader, id []byte) (*types.Purchase, bool) {
	p := &types.Purchase{}
	return p, state.Get(r, types.PurchaseKey(id), p)
}

func putPurchase(kv store.KV, p *types.Purchase) {
	state.Put(kv, types.PurchaseKey(p.PurchaseId), p)
	markRetained(kv, p.Time, types.PurchaseKey(p.PurchaseId))
}

// RedemptionRecord reads a booked redemption by its transaction hash.
func RedemptionRecord(r store.Reader, id []byte) (*types.Redemption, bool) {
	x := &types.Redemption{}
	return x, state.Get(r, types.RedemptionKey(id), x)
}

func putRedemption(kv store.KV, x *types.Redemption) {
	state.Put(kv, types.RedemptionKey(x.RedemptionId), x)
	markRetained(kv, x.Time, types.RedemptionKey(x.RedemptionId))
}

// HistoryEntry reads entry seq of a customer's history.
func HistoryEntry(r store.Reader, customer string, seq uint64) (*types.HistoryEntry, bool) {
	e := &types.HistoryEntry{}
	return e, state.Get(r, types.HistoryKey(customer, seq), e)
}

// appendHistory adds an entry to the customer's history and bumps its
// count (the caller saves the customer).
func appendHistory(c *state.Ctx, cust *types.Customer, kind types.HistoryKind, delta int64, seller string) {
	e := &types.HistoryEntry{
		Seq: cust.HistoryCount, Kind: kind, PointsDelta: delta, SellerId: seller,
		TxId: c.TxHash, Height: c.Height, Time: c.Time, BalanceAfter: cust.Points,
	}
	state.Put(c.KV, types.HistoryKey(cust.CustomerId, e.Seq), e)
	markRetained(c.KV, e.Time, types.HistoryKey(cust.CustomerId, e.Seq))
	cust.HistoryCount++
}
