// Package approval owns the import approvals that governance grants
// (approve_import, SPEC §5.6): their records and the check and effect of
// the proposal action. It sits below app/members, whose governance runs
// the action, and below app/imports, which spends the allowance.
package approval

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// MaxPoints bounds one approval, as max_epoch_issue_points' own bound
// bounds a day of issuance (app/params.go): whatever members approve, the
// escrow stays far inside the int64 range of positions.
const MaxPoints uint64 = 1e11

// Get returns seller's approval, if members ever approved one.
func Get(r store.Reader, seller string) (*types.ImportApproval, bool) {
	a := &types.ImportApproval{}
	return a, state.Get(r, types.ImportApprovalKey(seller), a)
}

// Put saves an approval.
func Put(kv store.KV, a *types.ImportApproval) { state.Put(kv, types.ImportApprovalKey(a.SellerId), a) }

// Totals are the counters over every approval.
func Totals(r store.Reader) *types.ImportsTotals {
	t := &types.ImportsTotals{}
	state.Get(r, types.ImportTotalsKey(), t)
	return t
}

// PutTotals saves the counters.
func PutTotals(kv store.KV, t *types.ImportsTotals) { state.Put(kv, types.ImportTotalsKey(), t) }

// Remaining is what an approval still allows.
func Remaining(a *types.ImportApproval) uint64 {
	if a.UsedPoints >= a.MaxPoints {
		return 0
	}
	return a.MaxPoints - a.UsedPoints
}

// Check validates an approve_import action against current state: an
// existing, active seller, a positive allowance within MaxPoints (with
// what was approved before), and a deadline not already behind. The
// seller's record comes through seller (members.Seller: the records are
// members', which sits above this package).
func Check(c *state.Ctx, a *types.ApproveImport, seller func(store.Reader, string) (*types.SellerRecord, bool)) error {
	if a == nil {
		return types.Errorf(types.CodeInvalidArgument, "approve-import proposal without a seller")
	}
	if err := types.ValidateSellerID(a.SellerId); err != nil {
		return err
	}
	s, ok := seller(c.KV, a.SellerId)
	if !ok {
		return types.Errorf(types.CodeNotFound, "seller %s does not exist", a.SellerId)
	}
	if s.Status != types.SellerStatus_SELLER_STATUS_ACTIVE {
		return types.Errorf(types.CodeInvalidArgument, "seller %s is not active", a.SellerId)
	}
	if a.MaxPoints == 0 {
		return types.Errorf(types.CodeInvalidAmount, "an import approval needs a positive number of points")
	}
	prev, _ := Get(c.KV, a.SellerId)
	if a.MaxPoints > MaxPoints || prev.MaxPoints > MaxPoints-a.MaxPoints {
		return types.Errorf(types.CodeInvalidAmount, "approving %s for %s (with %s approved before) passes the bound of %s per seller",
			types.PointsText(a.MaxPoints), a.SellerId, types.PointsText(prev.MaxPoints), types.PointsText(MaxPoints))
	}
	if a.UntilHeight < 0 || (a.UntilHeight != 0 && a.UntilHeight < c.Height) {
		return types.Errorf(types.CodeInvalidArgument, "import deadline height %d is behind the chain (height %d)", a.UntilHeight, c.Height)
	}
	return nil
}

// Approve applies a passed approve_import (Check ran just before): the
// seller's allowance grows by max_points and the deadline is the new one.
func Approve(c *state.Ctx, a *types.ApproveImport) {
	rec, existed := Get(c.KV, a.SellerId)
	if !existed {
		rec.SellerId = a.SellerId
		t := Totals(c.KV)
		t.Approvals++
		PutTotals(c.KV, t)
	}
	rec.MaxPoints += a.MaxPoints
	rec.UntilHeight = a.UntilHeight
	rec.ApprovedHeight = c.Height
	Put(c.KV, rec)
	c.Emit(types.EventImport, "seller", a.SellerId, "action", "approved", "max_points", state.U(rec.MaxPoints),
		"remaining_points", state.U(Remaining(rec)), "until_height", state.I(a.UntilHeight), "actor", c.Actor)
}
