package state

import (
	"encoding/binary"
	"fmt"

	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Totals is the singleton of chain-wide counters.
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

func Seller(r store.Reader, id string) (*types.SellerRecord, bool) {
	s := &types.SellerRecord{}
	return s, Get(r, types.SellerKey(id), s)
}

func PutSeller(kv store.KV, s *types.SellerRecord) { Put(kv, types.SellerKey(s.SellerId), s) }

// Sellers returns every seller record in id order.
func Sellers(r store.Reader) []*types.SellerRecord {
	var out []*types.SellerRecord
	store.Each(r, types.SellerPrefix(), func(_, v []byte) bool {
		s := &types.SellerRecord{}
		if err := s.Unmarshal(v); err != nil {
			panic(store.Fault{Err: err})
		}
		out = append(out, s)
		return true
	})
	return out
}

func Terminal(r store.Reader, seller, id string) (*types.Terminal, bool) {
	t := &types.Terminal{}
	return t, Get(r, types.TerminalKey(seller, id), t)
}

func PutTerminal(kv store.KV, t *types.Terminal) {
	Put(kv, types.TerminalKey(t.SellerId, t.TerminalId), t)
}

// Terminals lists a seller's terminals in id order.
func Terminals(r store.Reader, seller string) []*types.Terminal {
	var out []*types.Terminal
	store.Each(r, types.TerminalPrefix(seller), func(_, v []byte) bool {
		t := &types.Terminal{}
		if err := t.Unmarshal(v); err != nil {
			panic(store.Fault{Err: err})
		}
		out = append(out, t)
		return true
	})
	return out
}

func Signer(r store.Reader, pub []byte) (*types.SignerRef, bool) {
	s := &types.SignerRef{}
	return s, Get(r, types.SignerKey(pub), s)
}

func PutSigner(kv store.KV, pub []byte, s *types.SignerRef) { Put(kv, types.SignerKey(pub), s) }

func Customer(r store.Reader, id string) (*types.Customer, bool) {
	c := &types.Customer{}
	ok := Get(r, types.CustomerKey(id), c)
	if !ok {
		c.CustomerId = id
	}
	return c, ok
}

func PutCustomer(kv store.KV, c *types.Customer) { Put(kv, types.CustomerKey(c.CustomerId), c) }

// Lots returns a customer's lots, earliest expiry first.
func Lots(r store.Reader, customer string) []*types.Lot {
	var out []*types.Lot
	store.Each(r, types.LotPrefix(customer), func(_, v []byte) bool {
		l := &types.Lot{}
		if err := l.Unmarshal(v); err != nil {
			panic(store.Fault{Err: err})
		}
		out = append(out, l)
		return true
	})
	return out
}

// PutLot writes a lot and its expiry-index entry.
func PutLot(kv store.KV, customer string, l *types.Lot) {
	Put(kv, types.LotKey(customer, l.ExpiresAt, l.Seq), l)
	kv.Set(types.ExpiryKey(l.ExpiresAt, customer, l.Seq), marker)
}

// DeleteLot removes a lot and its expiry-index entry.
func DeleteLot(kv store.KV, customer string, l *types.Lot) {
	kv.Delete(types.LotKey(customer, l.ExpiresAt, l.Seq))
	kv.Delete(types.ExpiryKey(l.ExpiresAt, customer, l.Seq))
}

func Lot(r store.Reader, customer string, expiresAt int64, seq uint64) (*types.Lot, bool) {
	l := &types.Lot{}
	return l, Get(r, types.LotKey(customer, expiresAt, seq), l)
}

func Purchase(r store.Reader, id []byte) (*types.Purchase, bool) {
	p := &types.Purchase{}
	return p, Get(r, types.PurchaseKey(id), p)
}

func PutPurchase(kv store.KV, p *types.Purchase) { Put(kv, types.PurchaseKey(p.PurchaseId), p) }

func Redemption(r store.Reader, id []byte) (*types.Redemption, bool) {
	x := &types.Redemption{}
	return x, Get(r, types.RedemptionKey(id), x)
}

func PutRedemption(kv store.KV, x *types.Redemption) {
	Put(kv, types.RedemptionKey(x.RedemptionId), x)
}

func Epoch(r store.Reader) *types.EpochState {
	e := &types.EpochState{}
	Get(r, types.EpochStateKey(), e)
	return e
}

func PutEpoch(kv store.KV, e *types.EpochState) { Put(kv, types.EpochStateKey(), e) }

func SellerEpoch(r store.Reader, seller string) *types.SellerEpoch {
	e := &types.SellerEpoch{}
	Get(r, types.SellerEpochKey(seller), e)
	return e
}

func PutSellerEpoch(kv store.KV, seller string, e *types.SellerEpoch) {
	Put(kv, types.SellerEpochKey(seller), e)
}

func Statement(r store.Reader, epoch uint64) (*types.Statement, bool) {
	s := &types.Statement{}
	return s, Get(r, types.StatementKey(epoch), s)
}

func PutStatement(kv store.KV, s *types.Statement) { Put(kv, types.StatementKey(s.Epoch), s) }

// AddStatement stores a newly closed statement, indexes it as the n-th
// (n = Totals.Statements before the close) and counts it in t (which the
// caller saves).
func AddStatement(kv store.KV, t *types.Totals, s *types.Statement) {
	PutStatement(kv, s)
	kv.Set(types.StatementIndexKey(t.Statements), binary.BigEndian.AppendUint64(nil, s.Epoch))
	t.Statements++
}

// StatementEpoch is the epoch of the n-th closed statement (0-based).
func StatementEpoch(r store.Reader, n uint64) (uint64, bool) {
	bz := r.Get(types.StatementIndexKey(n))
	if bz == nil {
		return 0, false
	}
	if len(bz) != 8 {
		panic(store.Fault{Err: fmt.Errorf("statement index entry %d is %d bytes, not 8", n, len(bz))})
	}
	return binary.BigEndian.Uint64(bz), true
}

// Clock is the last executed block's height and time (zero before block 1).
func Clock(r store.Reader) *types.ChainClock {
	c := &types.ChainClock{}
	Get(r, types.ClockKey(), c)
	return c
}

func PutClock(kv store.KV, c *types.ChainClock) { Put(kv, types.ClockKey(), c) }

func Card(r store.Reader, customer string) *types.CardHistory {
	c := &types.CardHistory{}
	Get(r, types.CardKey(customer), c)
	return c
}

func PutCard(kv store.KV, customer string, c *types.CardHistory) { Put(kv, types.CardKey(customer), c) }

func Proposal(r store.Reader, id uint64) (*types.Proposal, bool) {
	p := &types.Proposal{}
	return p, Get(r, types.ProposalKey(id), p)
}

func PutProposal(kv store.KV, p *types.Proposal) { Put(kv, types.ProposalKey(p.Id), p) }

// AppendHistory adds an entry to the customer's history and bumps its count
// (the caller saves the customer).
func AppendHistory(c *Ctx, cust *types.Customer, kind types.HistoryKind, delta int64, seller string) {
	e := &types.HistoryEntry{
		Seq: cust.HistoryCount, Kind: kind, PointsDelta: delta, SellerId: seller,
		TxId: c.TxHash, Height: c.Height, Time: c.Time, BalanceAfter: cust.Points,
	}
	Put(c.KV, types.HistoryKey(cust.CustomerId, e.Seq), e)
	cust.HistoryCount++
}
