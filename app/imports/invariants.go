package imports

import (
	"fmt"

	"github.com/bytepoints/bytepoints/app/imports/approval"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// CheckInvariant holds the import records to each other and to the lots:
// no approval used beyond its allowance; each approval's used points, rows
// and file count equal what its files booked; each file's booked ranges
// are sorted, disjoint, inside the file and count its booked rows; the
// totals are the sums over approvals; and no imported lot holds more than
// all imports booked (lots shrink by redemption and expiry, never grow).
func CheckInvariant(r store.Reader) error {
	t := approval.Totals(r)
	var approvals, rows, points uint64
	var err error
	store.Each(r, types.ImportApprovalPrefix(), func(k, v []byte) bool {
		a := &types.ImportApproval{}
		state.Decode(k, v, a)
		approvals++
		rows += a.Rows
		points += a.UsedPoints
		if a.UsedPoints > a.MaxPoints {
			err = fmt.Errorf("seller %s imported %d points of an approval of %d", a.SellerId, a.UsedPoints, a.MaxPoints)
			return false
		}
		var fr, fp uint64
		var n uint32
		for _, f := range Files(r, a.SellerId) {
			n++
			fr += f.BookedRows
			fp += f.Points
			var last, booked uint64
			for i, rg := range f.Booked {
				if rg.First >= rg.End || rg.End > f.FileRows || (i > 0 && rg.First <= last) {
					err = fmt.Errorf("file %x of %s: booked ranges out of order or outside its %d rows", f.Digest[:8], a.SellerId, f.FileRows)
					return false
				}
				last = rg.End
				booked += rg.End - rg.First
			}
			if booked != f.BookedRows {
				err = fmt.Errorf("file %x of %s: ranges cover %d rows, the record counts %d", f.Digest[:8], a.SellerId, booked, f.BookedRows)
				return false
			}
		}
		if n != a.FileCount || fr != a.Rows || fp != a.UsedPoints {
			err = fmt.Errorf("seller %s: files %d/%d, rows %d/%d, points %d/%d (files/approval)", a.SellerId, n, a.FileCount, fr, a.Rows, fp, a.UsedPoints)
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if approvals != t.Approvals || rows != t.Rows || points != t.Points {
		return fmt.Errorf("import totals say %d approvals, %d rows, %d points; the approvals sum to %d, %d, %d",
			t.Approvals, t.Rows, t.Points, approvals, rows, points)
	}
	var held uint64
	store.Each(r, []byte{types.PrefixLot}, func(k, v []byte) bool {
		var l types.Lot
		state.Decode(k, v, &l)
		if l.Imported {
			held += l.Points
		}
		return true
	})
	if held > t.Points {
		return fmt.Errorf("imported lots hold %d points, more than the %d points ever imported", held, t.Points)
	}
	return nil
}
