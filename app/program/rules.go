package program

import (
	"fmt"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// fullBill is a share of 100% in basis points.
const fullBill = 10000

// MinRedeemPoints is the seller's minimum points per redemption as it
// applies now: its own value, at most the current governed bound.
func MinRedeemPoints(p *types.Params, sp *types.SellerProgram) uint64 {
	return min(sp.MinRedeemPoints, p.MaxMinRedeemPoints)
}

// MaxRedeemShareBps is the largest share of a bill payable in points at
// the seller now: its own value (0 = the whole bill), at least the current
// governed floor.
func MaxRedeemShareBps(p *types.Params, sp *types.SellerProgram) uint32 {
	s := sp.MaxRedeemShareBps
	if s == 0 || s > fullBill {
		s = fullBill
	}
	return max(s, min(p.MinRedeemShareBps, fullBill))
}

// ReturnWindow is the seller's return window as it applies to points it
// issues now: its own, at most the current governed bound.
func ReturnWindow(p *types.Params, sp *types.SellerProgram) int64 {
	return max(0, min(sp.ReturnWindowSeconds, p.MaxReturnWindowSeconds))
}

func pointsAndRupees(n uint64) string {
	v, err := types.MulU64("points value", n, 100)
	if err != nil {
		return types.PointsText(n)
	}
	return fmt.Sprintf("%s (%s)", types.PointsText(n), types.RupeesText(v))
}

// CheckRedeem applies the seller's redemption rules (SPEC §5.10) to a
// redemption of points against a bill of bill paise: at least the
// seller's minimum, and at most its share of the bill. A refusal is
// invalid_amount, in points and rupees.
func CheckRedeem(r store.Reader, p *types.Params, seller string, points, bill uint64) error {
	sp := Program(r, seller)
	if m := MinRedeemPoints(p, sp); points < m {
		return types.Errorf(types.CodeInvalidAmount, "%s takes at least %s per redemption; %s asked",
			seller, pointsAndRupees(m), pointsAndRupees(points))
	}
	share := MaxRedeemShareBps(p, sp)
	if share >= fullBill {
		return nil
	}
	maxPaise, err := types.MulDivU64("share of the bill", bill, uint64(share), fullBill)
	if err != nil {
		return err
	}
	if maxPoints := maxPaise / 100; points > maxPoints {
		return types.Errorf(types.CodeInvalidAmount, "at %s at most %s of a bill may be paid in points: of the bill of %s that is %s; %s asked",
			seller, types.ShareText(share), types.RupeesText(bill), pointsAndRupees(maxPoints), pointsAndRupees(points))
	}
	return nil
}

// SetConfig sets a seller's redemption rules and return window within the
// governed bounds.
func SetConfig(c *state.Ctx, seller string, m *types.MsgSetProgramConfig) error {
	p := c.Params
	if m.MinRedeemPoints > p.MaxMinRedeemPoints {
		return types.Errorf(types.CodeInvalidAmount, "a minimum of %s per redemption is above the governed bound of %s",
			pointsAndRupees(m.MinRedeemPoints), pointsAndRupees(p.MaxMinRedeemPoints))
	}
	if m.MaxRedeemShareBps > fullBill {
		return types.Errorf(types.CodeInvalidAmount, "a share of %s of the bill is above 100%%", types.ShareText(m.MaxRedeemShareBps))
	}
	if m.MaxRedeemShareBps != 0 && m.MaxRedeemShareBps < p.MinRedeemShareBps {
		return types.Errorf(types.CodeInvalidAmount, "a share of %s of the bill payable in points is below the governed floor of %s",
			types.ShareText(m.MaxRedeemShareBps), types.ShareText(p.MinRedeemShareBps))
	}
	if m.ReturnWindowSeconds < 0 || m.ReturnWindowSeconds > p.MaxReturnWindowSeconds {
		return types.Errorf(types.CodeInvalidAmount, "a return window of %s is outside the governed bounds [0, %s]",
			types.SecondsText(m.ReturnWindowSeconds), types.SecondsText(p.MaxReturnWindowSeconds))
	}
	sp := Program(c.KV, seller)
	sp.MinRedeemPoints, sp.MaxRedeemShareBps, sp.ReturnWindowSeconds = m.MinRedeemPoints, m.MaxRedeemShareBps, m.ReturnWindowSeconds
	PutProgram(c.KV, sp)
	c.Emit(types.EventProgramConfig, "seller", seller, "min_redeem_points", state.U(sp.MinRedeemPoints),
		"max_redeem_share_bps", state.U(uint64(sp.MaxRedeemShareBps)), "return_window_seconds", state.I(sp.ReturnWindowSeconds), "actor", c.Actor)
	return nil
}
