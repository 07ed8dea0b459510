package settle

import (
	"encoding/binary"
	"fmt"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Settlement's records: the open epoch, each seller's accumulator for it,
// the closed statements and their closing-order index. The escrow balance
// is a field of the chain's Totals, which Move updates in the caller's
// copy (see Move). Only this package writes them.

// Epoch is the open settlement epoch.
func Epoch(r store.Reader) *types.EpochState {
	e := &types.EpochState{}
	state.Get(r, types.EpochStateKey(), e)
	return e
}

func putEpoch(kv store.KV, e *types.EpochState) { state.Put(kv, types.EpochStateKey(), e) }

// SellerEpoch is a seller's accumulator for the open epoch.
func SellerEpoch(r store.Reader, seller string) *types.SellerEpoch {
	e := &types.SellerEpoch{}
	state.Get(r, types.SellerEpochKey(seller), e)
	return e
}

func putSellerEpoch(kv store.KV, seller string, e *types.SellerEpoch) {
	state.Put(kv, types.SellerEpochKey(seller), e)
}

// Statement reads the statement of a closed epoch.
func Statement(r store.Reader, epoch uint64) (*types.Statement, bool) {
	s := &types.Statement{}
	return s, state.Get(r, types.StatementKey(epoch), s)
}

func putStatement(kv store.KV, s *types.Statement) { state.Put(kv, types.StatementKey(s.Epoch), s) }

// addStatement stores a newly closed statement, indexes it as the n-th
// (n = Totals.Statements before the close) and counts it in t (which the
// caller saves).
func addStatement(kv store.KV, t *types.Totals, s *types.Statement) {
	putStatement(kv, s)
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
