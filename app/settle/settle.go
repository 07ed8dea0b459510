package settle

import (
	"fmt"
	"math"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// MaxTxPaise bounds what transactions may make of a seller's position and
// epoch net, in either direction: 2^62 paise, half the int64 range. Block-level
// credits (breakage at expiry) are bounded by the value of the outstanding
// points they return, which the issuance caps keep far below the other half,
// so they always fit and a block can never fail on them (SPEC §2).
const MaxTxPaise int64 = 1 << 62

// Move changes seller's position by delta paise for a transaction and moves
// the opposite amount through the escrow, recording why. A move that would
// take the position or the epoch net beyond ±MaxTxPaise is refused
// (overflow), so block-level credits always have room.
//
// The escrow is t.EscrowPaise: t is the caller's copy of the chain's
// Totals, which the caller saves after its own changes. Move never reads
// or writes the Totals record itself, so no order of a handler's lines can
// lose either side's update. On error t is left as it was.
func Move(c *state.Ctx, t *types.Totals, seller string, delta int64, reason string) error {
	return move(c, t, seller, delta, reason, MaxTxPaise)
}

// Credit is Move for block-level work (breakage at expiry): bounded only by
// the int64 range, which the transaction envelope keeps it within.
func Credit(c *state.Ctx, t *types.Totals, seller string, delta int64, reason string) error {
	return move(c, t, seller, delta, reason, math.MaxInt64)
}

func move(c *state.Ctx, t *types.Totals, seller string, delta int64, reason string, limit int64) error {
	if delta == 0 {
		return nil
	}
	s, ok := members.Seller(c.KV, seller)
	if !ok {
		panic(store.Fault{Err: fmt.Errorf("position change for unknown seller %q", seller)})
	}
	pos, err := types.AddI64("seller position", s.PositionPaise, delta)
	if err != nil {
		return err
	}
	if pos > limit || pos < -limit {
		return types.Errorf(types.CodeOverflow, "seller %s's position would reach %s, beyond the ±%s a transaction may leave", seller, types.SignedRupeesText(pos), types.RupeesText(uint64(limit)))
	}
	escrow := t.EscrowPaise
	if delta > 0 {
		if uint64(delta) > escrow {
			return types.Errorf(types.CodeOverflow, "escrow would go negative (pays %s, holds %s)", types.RupeesText(uint64(delta)), types.RupeesText(escrow))
		}
		escrow -= uint64(delta)
	} else {
		// The escrow stays within int64 so that it always equals the negated
		// sum of the (int64) positions.
		if escrow, err = types.AddU64("escrow balance", escrow, uint64(-delta)); err != nil || escrow > math.MaxInt64 {
			return types.Errorf(types.CodeOverflow, "escrow balance would exceed %s", types.RupeesText(math.MaxInt64))
		}
	}
	if err := Activity(c, seller, func(e *types.SellerEpoch) error {
		net, err := types.AddI64("epoch net", e.NetPaise, delta)
		if err != nil {
			return err
		}
		if net > limit || net < -limit {
			return types.Errorf(types.CodeOverflow, "seller %s's epoch net would reach %s, beyond the ±%s a transaction may leave", seller, types.SignedRupeesText(net), types.RupeesText(uint64(limit)))
		}
		e.NetPaise = net
		return nil
	}); err != nil {
		return err
	}
	s.PositionPaise = pos
	members.PutSeller(c.KV, s)
	t.EscrowPaise = escrow
	c.Emit(types.EventPosition, "seller", seller, "delta_paise", state.I(delta),
		"position_paise", state.I(pos), "reason", reason, "actor", c.Actor)
	return nil
}

// Activity updates seller's accumulator for the open epoch.
func Activity(c *state.Ctx, seller string, fn func(*types.SellerEpoch) error) error {
	e := SellerEpoch(c.KV, seller)
	if err := fn(e); err != nil {
		return err
	}
	putSellerEpoch(c.KV, seller, e)
	return nil
}

// EpochOf is the epoch containing Unix time t (seconds).
func EpochOf(t, epochSeconds int64) uint64 {
	if t < 0 || epochSeconds <= 0 {
		return 0
	}
	return uint64(t / epochSeconds)
}

// EpochStart is the first second of epoch e.
func EpochStart(e uint64, epochSeconds int64) int64 { return int64(e) * epochSeconds }

// Open starts the first epoch (at genesis).
func Open(c *state.Ctx) {
	putEpoch(c.KV, &types.EpochState{
		Epoch: EpochOf(c.Time, c.Params.EpochSeconds), StartHeight: c.Height, StartTime: c.Time,
	})
}

// Due reports whether the block at c.Time must close the open epoch, and
// the boundary that ends it.
func Due(c *state.Ctx) (bool, int64) {
	open := Epoch(c.KV)
	boundary := EpochStart(open.Epoch+1, c.Params.EpochSeconds)
	return c.Time >= boundary, boundary
}

// Close turns the open epoch's activity into a statement and opens the epoch
// of c.Time. Every seller with activity gets a line, and so does every
// active seller, so each member sees the day even when nothing was due.
func Close(c *state.Ctx) *types.Statement {
	open := Epoch(c.KV)
	totals := state.Totals(c.KV)
	st := &types.Statement{
		Epoch:             open.Epoch,
		StartTime:         open.StartTime,
		EndTime:           EpochStart(open.Epoch+1, c.Params.EpochSeconds),
		StartHeight:       open.StartHeight,
		ClosedHeight:      c.Height,
		OutstandingPoints: totals.OutstandingPoints,
		EscrowPaise:       totals.EscrowPaise,
	}
	for _, s := range members.Sellers(c.KV) {
		key := types.SellerEpochKey(s.SellerId)
		acc := &types.SellerEpoch{}
		had := state.Get(c.KV, key, acc)
		if !had && s.Status != types.SellerStatus_SELLER_STATUS_ACTIVE {
			continue
		}
		c.KV.Delete(key)
		line := &types.StatementLine{SellerId: s.SellerId, NetPaise: acc.NetPaise, Activity: acc}
		if acc.NetPaise == 0 {
			line.Status = types.LineStatus_LINE_STATUS_NOTHING_DUE
		} else {
			line.Status = types.LineStatus_LINE_STATUS_OUTSTANDING
			st.OutstandingLines++
		}
		st.Lines = append(st.Lines, line)
	}
	addStatement(c.KV, totals, st)
	state.PutTotals(c.KV, totals)
	putEpoch(c.KV, &types.EpochState{
		Epoch: EpochOf(c.Time, c.Params.EpochSeconds), StartHeight: c.Height, StartTime: c.Time,
	})
	c.Emit(types.EventEpochClosed, "epoch", state.U(st.Epoch), "lines", state.U(uint64(len(st.Lines))),
		"outstanding_lines", state.U(uint64(st.OutstandingLines)), "escrow_paise", state.U(st.EscrowPaise),
		"actor", types.ActorChain)
	return st
}

// Confirm marks seller's line of an epoch's statement as paid (the seller
// owed the escrow) or received (the escrow owed the seller).
func Confirm(c *state.Ctx, seller string, epoch uint64, bankRef string) error {
	if err := types.ValidateText("bank reference", bankRef, types.MaxBankRefLen); err != nil {
		return err
	}
	if bankRef == "" {
		return types.Errorf(types.CodeInvalidArgument, "a bank reference is required to confirm a settlement")
	}
	st, ok := Statement(c.KV, epoch)
	if !ok {
		open := Epoch(c.KV)
		if epoch >= open.Epoch {
			return types.Errorf(types.CodeNotFound, "epoch %d is not closed yet (open epoch is %d)", epoch, open.Epoch)
		}
		return types.Errorf(types.CodeNotFound, "no statement for epoch %d", epoch)
	}
	for _, l := range st.Lines {
		if l.SellerId != seller {
			continue
		}
		switch l.Status {
		case types.LineStatus_LINE_STATUS_NOTHING_DUE:
			return types.Errorf(types.CodeInvalidArgument, "nothing is due for %s in epoch %d", seller, epoch)
		case types.LineStatus_LINE_STATUS_CONFIRMED:
			return types.Errorf(types.CodeInvalidArgument, "%s already confirmed epoch %d at height %d (reference %q)",
				seller, epoch, l.ConfirmedHeight, l.BankReference)
		}
		l.Status = types.LineStatus_LINE_STATUS_CONFIRMED
		l.BankReference = bankRef
		l.ConfirmedHeight = c.Height
		st.OutstandingLines--
		putStatement(c.KV, st)
		direction := "paid"
		if l.NetPaise > 0 {
			direction = "received"
		}
		c.Emit(types.EventSettlement, "seller", seller, "epoch", state.U(epoch), "net_paise", state.I(l.NetPaise),
			"direction", direction, "bank_reference", bankRef, "actor", c.Actor)
		return nil
	}
	return types.Errorf(types.CodeNotFound, "statement of epoch %d has no line for %s", epoch, seller)
}
