package imports

import (
	"encoding/hex"
	"fmt"

	"github.com/bytepoints/bytepoints/app/imports/approval"
	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// MaxExternalRefLen bounds a row's external reference.
const MaxExternalRefLen = 64

// File returns what the file with digest booked for seller.
func File(r store.Reader, seller string, digest []byte) (*types.ImportFile, bool) {
	f := &types.ImportFile{}
	return f, state.Get(r, types.ImportFileKey(seller, digest), f)
}

// PutFile saves a file record.
func PutFile(kv store.KV, f *types.ImportFile) {
	state.Put(kv, types.ImportFileKey(f.SellerId, f.Digest), f)
}

// Files returns seller's file records, by digest.
func Files(r store.Reader, seller string) []*types.ImportFile {
	var out []*types.ImportFile
	store.Each(r, types.ImportFilePrefix(seller), func(k, v []byte) bool {
		f := &types.ImportFile{}
		state.Decode(k, v, f)
		out = append(out, f)
		return true
	})
	return out
}

// CheckRow applies the rules every imported row must pass at block time
// now with params p (the CLI's dry run runs the same function against the
// latest block): a customer id per SPEC §3, positive points, an expiry
// after now and at most the governed lot validity ahead, a bounded
// external reference.
func CheckRow(p *types.Params, now int64, row *types.ImportRow) error {
	if err := types.ValidateCustomerID(row.CustomerId); err != nil {
		return err
	}
	if row.Points == 0 {
		return types.Errorf(types.CodeInvalidAmount, "points must be positive")
	}
	if row.ExpiresAt <= now {
		return types.Errorf(types.CodeInvalidArgument, "expiry %s is not after the chain's time %s",
			types.TimeText(row.ExpiresAt), types.TimeText(now))
	}
	if row.ExpiresAt-now > p.LotValiditySeconds {
		return types.Errorf(types.CodeInvalidArgument, "expiry %s is more than the lot validity (%s) after the chain's time %s",
			types.TimeText(row.ExpiresAt), types.SecondsText(p.LotValiditySeconds), types.TimeText(now))
	}
	return types.ValidateText("external reference", row.ExternalRef, MaxExternalRefLen)
}

// overlap returns the booked range that [first, end) meets, if any.
func overlap(booked []*types.RowRange, first, end uint64) *types.RowRange {
	for _, r := range booked {
		if r.First < end && first < r.End {
			return r
		}
	}
	return nil
}

// addRange inserts [first, end) (disjoint from every range) into the
// sorted ranges, merging neighbours that touch it.
func addRange(booked []*types.RowRange, first, end uint64) []*types.RowRange {
	var out []*types.RowRange
	cur := &types.RowRange{First: first, End: end}
	placed := false
	for _, r := range booked {
		switch {
		case r.End == cur.First:
			cur.First = r.First
		case r.First == cur.End:
			cur.End = r.End
		case r.End < cur.First:
			out = append(out, r)
		default: // r lies after cur
			if !placed {
				out = append(out, cur)
				placed = true
			}
			out = append(out, r)
		}
	}
	if !placed {
		out = append(out, cur)
	}
	return out
}

// Book checks and books one batch of an import for seller (its operator
// authorised). With c.Admission it stops once it knows the batch would be
// accepted.
func Book(c *state.Ctx, seller *types.SellerRecord, m *types.MsgImportBalances) (*types.ImportResult, error) {
	p := c.Params
	id := seller.SellerId
	n := uint64(len(m.Rows))
	switch {
	case p.MaxImportRowsPerTx == 0:
		return nil, types.Errorf(types.CodeInvalidArgument, "imports are off on this chain (max_import_rows_per_tx is 0)")
	case n == 0:
		return nil, types.Errorf(types.CodeInvalidArgument, "an import batch needs at least one row")
	case n > uint64(p.MaxImportRowsPerTx):
		return nil, types.Errorf(types.CodeInvalidArgument, "an import batch holds at most %d rows, not %d", p.MaxImportRowsPerTx, n)
	case len(m.FileDigest) != 32:
		return nil, types.Errorf(types.CodeInvalidArgument, "file digest must be 32 bytes (SHA-256), not %d", len(m.FileDigest))
	case m.FirstRow > m.FileRows || n > m.FileRows-m.FirstRow:
		return nil, types.Errorf(types.CodeInvalidArgument, "rows %d to %d are past the file's %d rows", m.FirstRow+1, m.FirstRow+n, m.FileRows)
	}
	a, ok := approval.Get(c.KV, id)
	if !ok {
		return nil, types.Errorf(types.CodeUnauthorized, "seller %s has no approved import: members approve one with a proposal approve-import", id)
	}
	if a.UntilHeight != 0 && c.Height > a.UntilHeight {
		return nil, types.Errorf(types.CodeExpired, "the import approval of %s ended at height %d (chain height %d)", id, a.UntilHeight, c.Height)
	}
	f, fileExisted := File(c.KV, id, m.FileDigest)
	end := m.FirstRow + n
	if fileExisted {
		if f.FileRows != m.FileRows {
			return nil, types.Errorf(types.CodeInvalidArgument, "file %x has %d rows, not %d", m.FileDigest[:8], f.FileRows, m.FileRows)
		}
		if r := overlap(f.Booked, m.FirstRow, end); r != nil {
			return nil, types.Errorf(types.CodeInvalidArgument, "rows %d to %d of file %x: rows %d to %d are already booked",
				m.FirstRow+1, end, m.FileDigest[:8], r.First+1, r.End)
		}
	}
	var sum uint64
	remaining := approval.Remaining(a)
	for i, row := range m.Rows {
		if err := CheckRow(p, c.Time, row); err != nil {
			return nil, types.Errorf(types.CodeOf(err), "row %d of the file: %s", m.FirstRow+uint64(i)+1, types.Message(err))
		}
		// sum ≤ remaining ≤ approval.MaxPoints throughout: never wraps.
		if row.Points > remaining || sum > remaining-row.Points {
			return nil, types.Errorf(types.CodeInvalidAmount,
				"row %d of the file passes the import approval of %s: %s of %s approved remain, the batch needs %s up to this row",
				m.FirstRow+uint64(i)+1, id, types.PointsText(remaining), types.PointsText(a.MaxPoints), overText(sum, row.Points))
		}
		sum += row.Points
	}
	payment, err := types.PaiseOfPoints(sum)
	if err != nil {
		return nil, err
	}
	if c.Admission {
		return nil, nil
	}

	totals := state.Totals(c.KV)
	txid := hex.EncodeToString(c.TxHash)
	for _, row := range m.Rows {
		if err := ledger.BookImported(c, totals, row.CustomerId, id, row.Points, row.ExpiresAt); err != nil {
			return nil, err
		}
		c.Emit(types.EventPointsIssued, "customer", row.CustomerId, "issuer", id, "points", state.U(row.Points),
			"reason", "import", "actor", c.Actor, "import_id", txid, "expires_at", state.I(row.ExpiresAt),
			"external_ref", row.ExternalRef)
	}
	// Imported points are issued points for the chain's flow totals
	// (issued - redeemed - clawed back - expired = outstanding), but not
	// purchases and not the seller's epoch issuance (its cap).
	if totals.OutstandingPoints, err = types.AddU64("outstanding points", totals.OutstandingPoints, sum); err != nil {
		return nil, err
	}
	if totals.IssuedPoints, err = types.AddU64("issued points", totals.IssuedPoints, sum); err != nil {
		return nil, err
	}
	if err := settle.Move(c, totals, id, -payment, "import"); err != nil {
		return nil, err
	}
	state.PutTotals(c.KV, totals)
	if err := settle.Activity(c, id, func(e *types.SellerEpoch) error {
		e.ImportedPoints, err = types.AddU64("epoch imported points", e.ImportedPoints, sum)
		return err
	}); err != nil {
		return nil, err
	}

	a.UsedPoints += sum // ≤ MaxPoints: sum ≤ remaining
	a.Rows += n
	if !fileExisted {
		f = &types.ImportFile{SellerId: id, Digest: m.FileDigest, FileRows: m.FileRows, FirstHeight: c.Height}
		a.FileCount++
	}
	approval.Put(c.KV, a)
	f.Booked = addRange(f.Booked, m.FirstRow, end)
	f.BookedRows += n
	f.Points += sum
	f.Batches++
	f.LastHeight = c.Height
	PutFile(c.KV, f)
	t := approval.Totals(c.KV)
	t.Rows += n
	t.Points += sum
	approval.PutTotals(c.KV, t)
	c.Emit(types.EventImport, "seller", id, "action", "booked", "file_digest", hex.EncodeToString(m.FileDigest),
		"rows", fmt.Sprintf("%d-%d", m.FirstRow+1, end), "points", state.U(sum), "remaining_points", state.U(approval.Remaining(a)),
		"actor", c.Actor)
	return &types.ImportResult{
		Rows: n, Points: sum, SellerPaymentPaise: uint64(payment), RemainingPoints: approval.Remaining(a),
		FileBookedRows: f.BookedRows, FileRows: f.FileRows,
	}, nil
}

// overText is sum + more in words, saturating (the refused row may be huge).
func overText(sum, more uint64) string {
	if more > ^uint64(0)-sum {
		return "more than " + types.PointsText(^uint64(0))
	}
	return types.PointsText(sum + more)
}
