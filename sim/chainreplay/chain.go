package chainreplay

import (
	"fmt"
	"strconv"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// The chain's CRMS wiring as the replay needs it. These are the app's own
// conversions (one rule, one function): the offline side must read the
// chain's parameters exactly as consensus does.

// engineParams returns the chain's CRMS parameters and rating table as the
// engine takes them.
func engineParams(p *types.CrmsParams) (crms.Params, crms.RatingTable) {
	return risk.EngineParams(p), risk.Ratings(p)
}

// riskMaxOf is the Risk_max a seller decides at: its own, else the governed
// default.
func riskMaxOf(p *types.CrmsParams, s *types.SellerRecord) int64 {
	r, _, _ := risk.RiskMaxOf(p, s)
	return r
}

// outcomeOf reads a committed transaction's result.
func outcomeOf(r *abcitypes.ExecTxResult, hash []byte, height int64) (*Outcome, error) {
	o := &Outcome{Code: types.Code(r.Code), Log: r.Log, Hash: hash, Height: height}
	if o.Code != types.CodeOK {
		return o, nil
	}
	if len(r.Data) > 0 {
		var d types.TxResultData
		if err := d.Unmarshal(r.Data); err != nil {
			return nil, fmt.Errorf("result of tx %X: %w", hash, err)
		}
		o.Purchase = d.GetPurchase()
	}
	for _, ev := range r.Events {
		if ev.Type != types.EventCRMS {
			continue
		}
		o.HasCRMS = true
		for _, a := range ev.Attributes {
			switch a.Key {
			case "reputation_nano":
				o.CRMSReputation, _ = strconv.ParseInt(a.Value, 10, 64)
			case "risk_nano":
				o.CRMSRisk, _ = strconv.ParseInt(a.Value, 10, 64)
			}
		}
	}
	return o, nil
}
