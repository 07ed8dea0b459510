package imports

import (
	"github.com/bytepoints/bytepoints/app/imports/approval"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Query answers /imports (every approval, by seller) and
// /imports/{seller} (its approval and every file it imported, by digest).
// Both are complete by proven counts: the totals' approval count and the
// approval's file count.
func Query(r store.Reader, args []string) (state.Msg, error) {
	if len(args) == 0 || args[0] == "" {
		out := &types.ImportsResponse{Totals: approval.Totals(r)}
		store.Each(r, types.ImportApprovalPrefix(), func(k, v []byte) bool {
			a := &types.ImportApproval{}
			state.Decode(k, v, a)
			out.Approvals = append(out.Approvals, a)
			return true
		})
		if uint64(len(out.Approvals)) != out.Totals.Approvals {
			return nil, types.Errorf(types.CodeInternal, "%d import approvals listed, the totals count %d", len(out.Approvals), out.Totals.Approvals)
		}
		return out, nil
	}
	if err := types.ValidateSellerID(args[0]); err != nil {
		return nil, err
	}
	a, ok := approval.Get(r, args[0])
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "seller %s has no import approval", args[0])
	}
	out := &types.ImportResponse{Approval: a, Files: Files(r, args[0])}
	if uint32(len(out.Files)) != a.FileCount {
		return nil, types.Errorf(types.CodeInternal, "%d import files of %s listed, its approval counts %d", len(out.Files), args[0], a.FileCount)
	}
	return out, nil
}
