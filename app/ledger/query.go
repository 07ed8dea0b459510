package ledger

import (
	"github.com/bytepoints/bytepoints/app/program/tiers"
	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The ledger's queries: balances, histories, purchases and redemptions.
// Each reads state only through r, so a client can re-run it on proven
// entries (app.VerifyQuery).

// QueryBalance answers /balance/{customer}.
func QueryBalance(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/balance/{customer}"); err != nil {
		return nil, err
	}
	if err := types.ValidateCustomerID(args[0]); err != nil {
		return nil, err
	}
	c, ok := Customer(r, args[0])
	out := &types.BalanceResponse{CustomerId: args[0], Exists: ok}
	if !ok {
		return out, nil
	}
	out.Points, out.WalletPubkey = c.Points, c.WalletPubkey
	// Pending points (SPEC §5.9) and the coalition tier as of the last
	// committed block's time (§5.8).
	out.PendingPoints, out.AvailablePoints = c.PendingPoints, Available(c)
	out.Tier = tiers.StatusOf(r, args[0], types.FloorDiv(state.Clock(r).TimeNs, 1e9))
	var sum uint64
	for _, l := range Lots(r, args[0]) {
		out.Lots = append(out.Lots, l)
		sum += l.Points
	}
	// The record's own totals make the lot list complete: a proof cannot
	// show that no key was left out of a range, but a missing lot shows here.
	if sum != c.Points || uint32(len(out.Lots)) != c.LotCount {
		return nil, types.Errorf(types.CodeInternal, "lots of %s (%d in %d lots) do not match the balance %d in %d lots",
			args[0], sum, len(out.Lots), c.Points, c.LotCount)
	}
	return out, nil
}

// QueryHistory answers /history/{customer}[/{page}/{limit}].
func QueryHistory(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/history/{customer}[/{page}/{limit}]"); err != nil {
		return nil, err
	}
	if err := types.ValidateCustomerID(args[0]); err != nil {
		return nil, err
	}
	page, limit := uint64(0), uint64(50)
	var err error
	if len(args) >= 2 {
		if page, err = query.ParseU64("page", args[1]); err != nil {
			return nil, err
		}
	}
	if len(args) >= 3 {
		if limit, err = query.ParseU64("limit", args[2]); err != nil {
			return nil, err
		}
	}
	p, err := query.Params(r)
	if err != nil {
		return nil, err
	}
	if limit == 0 || limit > uint64(p.MaxHistoryPage) {
		return nil, types.Errorf(types.CodeInvalidArgument, "limit must be 1 to %d", p.MaxHistoryPage)
	}
	c, _ := Customer(r, args[0])
	out := &types.HistoryResponse{CustomerId: args[0], Total: c.HistoryCount, Page: page, Limit: limit}
	// Newest first; entries are fetched by sequence number (point reads), so
	// a proven page is complete by construction.
	for i := uint64(0); i < limit; i++ {
		idx := page*limit + i
		if idx >= c.HistoryCount {
			break
		}
		e, ok := HistoryEntry(r, args[0], c.HistoryCount-1-idx)
		if !ok {
			// Past the record retention (issue 20): pruning takes a
			// customer's oldest entries first, so all older ones are gone
			// too; the proof shows this one's absence.
			break
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

// QueryPurchase answers /purchase/{tx hash}.
func QueryPurchase(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/purchase/{tx hash}"); err != nil {
		return nil, err
	}
	id, err := query.ParseTxID("purchase id", args[0])
	if err != nil {
		return nil, err
	}
	p, ok := PurchaseRecord(r, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "purchase %s does not exist", args[0])
	}
	return p, nil
}

// QueryRedemption answers /redemption/{tx hash}.
func QueryRedemption(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/redemption/{tx hash}"); err != nil {
		return nil, err
	}
	id, err := query.ParseTxID("redemption id", args[0])
	if err != nil {
		return nil, err
	}
	x, ok := RedemptionRecord(r, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "redemption %s does not exist", args[0])
	}
	return x, nil
}
