package ledger

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// BookImported books one row of a seller's import (app/imports, SPEC
// §5.6): a new lot of points for the customer, issued by issuer now and
// expiring at expiresAt, marked imported, with an import entry in the
// customer's history. It counts a new customer and the lot in totals (the
// caller saves them and charges the seller); the lot's purchase id is the
// import transaction's hash.
func BookImported(c *state.Ctx, totals *types.Totals, customerID, issuer string, points uint64, expiresAt int64) error {
	cust, existed := Customer(c.KV, customerID)
	if !existed {
		totals.Customers++
	}
	var err error
	if cust.Points, err = types.AddU64("customer balance", cust.Points, points); err != nil {
		return err
	}
	if cust.EarnedTotal, err = types.AddU64("customer earned total", cust.EarnedTotal, points); err != nil {
		return err
	}
	lot := &types.Lot{
		Seq: cust.NextLotSeq, Issuer: issuer, Points: points, OriginalPoints: points,
		IssuedAt: c.Time, ExpiresAt: expiresAt, PurchaseId: c.TxHash, Imported: true,
	}
	cust.NextLotSeq++
	cust.LotCount++
	totals.Lots++
	putLot(c.KV, customerID, lot)
	appendHistory(c, cust, types.HistoryKind_HISTORY_KIND_IMPORT, int64(points), issuer)
	putCustomer(c.KV, cust)
	return nil
}
