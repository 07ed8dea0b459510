package risk

import (
	"math"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Question is a decision query: may a payment of AmountPaise by the card
// skip cardholder verification at Seller now?
type Question struct {
	CustomerID  string
	AmountPaise uint64
	SellerID    string // "" = no seller: the governed default Risk_max, no budget used
	ContextNano int64  // terminal's context multiplier, 0 = none
}

// Decide answers q from state r at time nowMs (the last block's time). It
// refuses what a redemption would refuse (bad ids, out-of-range context);
// nothing is written.
func (k *Keeper) Decide(r store.Reader, p *types.Params, nowMs int64, q Question) (*types.DecisionResponse, error) {
	if err := types.ValidateCustomerID(q.CustomerID); err != nil {
		return nil, err
	}
	cp := p.Crms
	if err := CheckContext(cp, q.ContextNano); err != nil {
		return nil, err
	}
	out := &types.DecisionResponse{CustomerId: q.CustomerID, AmountPaise: q.AmountPaise, ContextNano: q.ContextNano}
	riskMax := cp.DefaultRiskMaxNano
	var used int64
	if q.SellerID != "" {
		if err := types.ValidateSellerID(q.SellerID); err != nil {
			return nil, err
		}
		s, ok := members.Seller(r, q.SellerID)
		if !ok {
			return nil, types.Errorf(types.CodeNotFound, "seller %s does not exist", q.SellerID)
		}
		riskMax, _, _ = RiskMaxOf(cp, s)
		out.SellerId = s.SellerId
		used = settle.SellerEpoch(r, s.SellerId).RiskUsedNano
	}
	eng, _, err := k.Engine(cp)
	if err != nil {
		return nil, err
	}
	h, w := Window(r, q.CustomerID)
	d := eng.Evaluate(w, nowMs, q.AmountPaise, riskMax, q.ContextNano, used)
	out.CvmRequired, out.ReputationNano, out.RiskNano, out.RiskMaxNano = d.CVMRequired, d.R, d.Risk, d.RiskMax
	out.SkipLimitPaise, out.Reason, out.EpochRiskUsedNano, out.Payments = d.SkipLimitPaise, d.Reason, used, h.Payments
	if d.Risk < 0 {
		out.RiskNano = math.MaxInt64
	}
	return out, nil
}
