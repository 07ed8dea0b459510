package app

import (
	"github.com/bytepoints/bytepoints/types"
)

// DefaultParams are the genesis parameters unless a genesis file says
// otherwise (SPEC defaults).
func DefaultParams() *types.Params {
	return &types.Params{
		DefaultEarnRateBps:    10000,
		MinEarnRateBps:        100,
		MaxEarnRateBps:        50000,
		LotValiditySeconds:    365 * 86400,
		MaxValidAheadBlocks:   1000,
		EpochSeconds:          86400,
		MaxPaymentLagSeconds:  7 * 86400,
		MaxPaymentLeadSeconds: 300,
		ProposalTtlBlocks:     10000,
		MinActiveValidators:   4,
		MaxHistoryPage:        500,
		Crms:                  DefaultCrmsParams(),
	}
}

// ValidateParams checks governed parameters for sanity.
func ValidateParams(p *types.Params) error {
	bad := func(f string, a ...any) error { return types.Errorf(types.CodeInvalidArgument, f, a...) }
	switch {
	case p.MinEarnRateBps == 0 || p.MinEarnRateBps > p.MaxEarnRateBps:
		return bad("earn rate bounds [%d, %d] are invalid", p.MinEarnRateBps, p.MaxEarnRateBps)
	case p.DefaultEarnRateBps < p.MinEarnRateBps || p.DefaultEarnRateBps > p.MaxEarnRateBps:
		return bad("default earn rate %d is outside [%d, %d]", p.DefaultEarnRateBps, p.MinEarnRateBps, p.MaxEarnRateBps)
	case p.MaxEarnRateBps > 1_000_000:
		return bad("max earn rate %d bps is above 100x", p.MaxEarnRateBps)
	case p.LotValiditySeconds <= 0:
		return bad("lot validity must be positive")
	case p.MaxValidAheadBlocks == 0 || p.MaxValidAheadBlocks > 1_000_000:
		return bad("max_valid_ahead_blocks must be in [1, 1000000]")
	case p.EpochSeconds <= 0:
		return bad("epoch length must be positive")
	case p.MaxPaymentLagSeconds < 0 || p.MaxPaymentLeadSeconds < 0:
		return bad("payment time bounds must not be negative")
	case p.ProposalTtlBlocks == 0:
		return bad("proposal_ttl_blocks must be positive")
	case p.MinActiveValidators == 0:
		return bad("min_active_validators must be positive")
	case p.MaxHistoryPage == 0:
		return bad("max_history_page must be positive")
	case p.Crms == nil:
		return bad("crms parameters are missing")
	}
	return validateCrms(p.Crms)
}
