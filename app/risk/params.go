package risk

import (
	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
)

// DefaultParams are the CRMS defaults: crms.DefaultParams (the published
// calibration) with a default Risk_max of 0.005, governed between 0.001 and
// 0.05, and the default rating table.
func DefaultParams() *types.CrmsParams {
	p := crms.DefaultParams()
	out := &types.CrmsParams{
		PNano: p.P, ANano: p.A, BNano: p.B, N: uint32(p.N), TauNano: p.Tau, XdNano: p.Xd, XmNano: p.Xm,
		RminNano: p.Rmin, RmaxNano: p.Rmax, AvgTFloorMs: p.AvgTFloorMs, HardCapPaise: p.HardCapPaise,
		ContextMinNano: p.ContextMin, ContextMaxNano: p.ContextMax, EpochRiskBudgetNano: p.EpochRiskBudget,
		DefaultRiskMaxNano: 5_000_000, MinRiskMaxNano: 1_000_000, MaxRiskMaxNano: 50_000_000,
	}
	for _, e := range crms.DefaultRatings() {
		out.Ratings = append(out.Ratings, &types.RatingEntry{
			ReadType: types.ReadType(e.ReadType), Cvm: types.CVM(e.CVM), Auth: types.AuthResult(e.Auth), RatingNano: e.RatingNano,
		})
	}
	return out
}

// EngineParams converts governed parameters to the engine's.
func EngineParams(c *types.CrmsParams) crms.Params {
	return crms.Params{
		P: c.PNano, A: c.ANano, B: c.BNano, N: int(c.N), Tau: c.TauNano, Xd: c.XdNano, Xm: c.XmNano,
		Rmin: c.RminNano, Rmax: c.RmaxNano, AvgTFloorMs: c.AvgTFloorMs, HardCapPaise: c.HardCapPaise,
		ContextMin: c.ContextMinNano, ContextMax: c.ContextMaxNano, EpochRiskBudget: c.EpochRiskBudgetNano,
	}
}

// Ratings converts the governed rating table.
func Ratings(c *types.CrmsParams) crms.RatingTable {
	t := make(crms.RatingTable, 0, len(c.Ratings))
	for _, e := range c.Ratings {
		t = append(t, crms.RatingEntry{ReadType: crms.ReadType(e.ReadType), CVM: crms.CVM(e.Cvm), Auth: crms.Auth(e.Auth), RatingNano: e.RatingNano})
	}
	return t
}

// ValidateParams checks governed CRMS parameters.
func ValidateParams(c *types.CrmsParams) error {
	if err := EngineParams(c).Validate(); err != nil {
		return types.Errorf(types.CodeInvalidArgument, "crms parameters: %v", err)
	}
	if len(c.Ratings) == 0 {
		return types.Errorf(types.CodeInvalidArgument, "crms rating table is empty")
	}
	if err := Ratings(c).Validate(); err != nil {
		return types.Errorf(types.CodeInvalidArgument, "crms ratings: %v", err)
	}
	if c.MinRiskMaxNano <= 0 || c.MinRiskMaxNano > c.MaxRiskMaxNano ||
		c.DefaultRiskMaxNano < c.MinRiskMaxNano || c.DefaultRiskMaxNano > c.MaxRiskMaxNano {
		return types.Errorf(types.CodeInvalidArgument, "crms Risk_max bounds [%s, %s] with default %s are inconsistent: want 0 < min ≤ default ≤ max",
			types.DecimalText(c.MinRiskMaxNano), types.DecimalText(c.MaxRiskMaxNano), types.DecimalText(c.DefaultRiskMaxNano))
	}
	return nil
}

// RiskMaxOf is the Risk_max a seller's decisions use: its own when it set
// one, else the governed default — read at decision time, so a seller that
// never chose follows the default when governance changes it. Its own value
// is clamped into the governed [MinRiskMaxNano, MaxRiskMaxNano] at decision
// time too: bounds lowered (or raised) after the seller set its value reach
// it at once. isDefault says which applied; clamped, that a bound replaced
// the seller's own value.
func RiskMaxOf(c *types.CrmsParams, s *types.SellerRecord) (riskMax int64, isDefault, clamped bool) {
	if s.RiskMaxNano == 0 {
		return c.DefaultRiskMaxNano, true, false
	}
	riskMax = min(max(s.RiskMaxNano, c.MinRiskMaxNano), c.MaxRiskMaxNano)
	return riskMax, false, riskMax != s.RiskMaxNano
}
