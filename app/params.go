package app

import (
	"sync"

	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
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
		Crms:                  risk.DefaultParams(),
		// SPEC §4: the offline window, 7 days of block time.
		IdempotencyWindowSeconds: 7 * 86400,
		// SPEC §2: Rs 10,00,000 per purchase; Rs 10 crore of points per
		// seller and epoch (a day) — 100 sellers at the cap for a year hold
		// 3.7e14 paise in escrow, 25,000 times below the int64 limit.
		MaxPurchasePaise:    100_000_000,
		MaxEpochIssuePoints: 100_000_000,
		// Four full blocks' worth of chores per block.
		MaxExpiriesPerBlock:          10_000,
		MaxIdempotencyPrunesPerBlock: 10_000,
		// A full block applies and commits in about 0.5 s alone on the
		// 2-core reference machine and in about 1 s with four validators
		// sharing it: a third of the 3 s proposal timeout (docs/benchmarks.md).
		MaxBlockTxs: 2500,
		// Programs (SPEC §5.7-5.10): a seller may ask for up to 1,000
		// points per redemption and no less than 10% of a bill in points;
		// return windows of up to 30 days; eight live campaigns per
		// seller, each at most 10x, 10,000 bonus points a purchase and a
		// budget of one epoch's issuance cap.
		MaxMinRedeemPoints:       1000,
		MinRedeemShareBps:        1000,
		MaxReturnWindowSeconds:   30 * 86400,
		MaxReleasesPerBlock:      10_000,
		MaxActiveCampaigns:       8,
		MaxCampaignMultiplierBps: 100_000,
		MaxCampaignBonusPoints:   10_000,
		MaxCampaignBudgetPoints:  100_000_000,
		MaxCampaignTerminals:     16,
		MaxTiers:                 5,
		MaxReferralBonusPoints:   1000,
		// Issue 20: per-booking records stay 400 days (a year of lot
		// validity, a month for late refunds and chargebacks), then leave
		// state; the blocks and the back office keep them.
		RecordRetentionSeconds:  400 * 86400,
		MaxRecordPrunesPerBlock: 10_000,
		// An import row writes about a third of what a purchase writes: a
		// batch of 100 rows is about 35 purchases' work, and a block's 10,000
		// import rows about 3,300 purchases' (SPEC §5.6, docs/benchmarks.md).
		// 100 rows of the longest ids and references fit MaxTxBytes (16 KiB).
		MaxImportRowsPerTx:    100,
		MaxImportRowsPerBlock: 10_000,
	}
}

// ValidateParams checks governed parameters for sanity. It does not relate
// the idempotency window to max_valid_ahead_blocks (the block interval is
// no parameter, and a halt longer than the window defeats any such rule):
// an idempotency record is held until its envelope's valid_until_height has
// passed as well (pruneIdempotency), so a window shorter than the height
// bound never lets the same signed bytes book twice.
func ValidateParams(p *types.Params) error {
	bad := func(f string, a ...any) error { return types.Errorf(types.CodeInvalidArgument, f, a...) }
	switch {
	case p.MinEarnRateBps == 0 || p.MinEarnRateBps > p.MaxEarnRateBps:
		return bad("earn rate bounds [%s, %s] are invalid: want 0 < min ≤ max",
			types.EarnRateText(p.MinEarnRateBps), types.EarnRateText(p.MaxEarnRateBps))
	case p.DefaultEarnRateBps < p.MinEarnRateBps || p.DefaultEarnRateBps > p.MaxEarnRateBps:
		return bad("default earn rate %s is outside [%s, %s]", types.EarnRateText(p.DefaultEarnRateBps),
			types.EarnRateText(p.MinEarnRateBps), types.EarnRateText(p.MaxEarnRateBps))
	case p.MaxEarnRateBps > 1_000_000:
		return bad("max earn rate %s is above %s", types.EarnRateText(p.MaxEarnRateBps), types.EarnRateText(1_000_000))
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
	case p.IdempotencyWindowSeconds < p.MaxPaymentLagSeconds || p.IdempotencyWindowSeconds <= 0:
		return bad("idempotency window %s must be positive and at least the payment lag %s, so a late payment can never book twice",
			types.SecondsText(p.IdempotencyWindowSeconds), types.SecondsText(p.MaxPaymentLagSeconds))
	case p.MaxPurchasePaise == 0 || p.MaxPurchasePaise > maxPurchaseBound:
		return bad("max_purchase_paise %s must be in [%s, %s]", types.RupeesText(p.MaxPurchasePaise), types.RupeesText(1), types.RupeesText(maxPurchaseBound))
	case p.MaxEpochIssuePoints == 0 || p.MaxEpochIssuePoints > maxEpochIssueBound:
		return bad("max_epoch_issue_points %s must be in [1 point, %s]", types.PointsText(p.MaxEpochIssuePoints), types.PointsText(maxEpochIssueBound))
	case p.MaxExpiriesPerBlock == 0 || p.MaxExpiriesPerBlock > 100_000:
		return bad("max_expiries_per_block must be in [1, 100000]")
	case p.MaxIdempotencyPrunesPerBlock == 0 || p.MaxIdempotencyPrunesPerBlock > 100_000:
		return bad("max_idempotency_prunes_per_block must be in [1, 100000]")
	case p.MaxBlockTxs == 0 || p.MaxBlockTxs > 20_000:
		return bad("max_block_txs must be in [1, 20000]")
	case p.RecordRetentionSeconds < max(p.LotValiditySeconds, p.EpochSeconds, p.IdempotencyWindowSeconds) ||
		p.RecordRetentionSeconds > maxRecordRetention:
		return bad("record retention %s must be at least the lot validity %s (a refund finds the purchase while its points live), the epoch %s (a void finds the redemption) and the idempotency window %s, and at most %s",
			types.SecondsText(p.RecordRetentionSeconds), types.SecondsText(p.LotValiditySeconds), types.SecondsText(p.EpochSeconds),
			types.SecondsText(p.IdempotencyWindowSeconds), types.SecondsText(maxRecordRetention))
	case p.MaxRecordPrunesPerBlock == 0 || p.MaxRecordPrunesPerBlock > 100_000:
		return bad("max_record_prunes_per_block must be in [1, 100000]")
	case p.MaxImportRowsPerTx > 1_000 || p.MaxImportRowsPerBlock > 1_000_000:
		return bad("max_import_rows_per_tx must be at most 1000 and max_import_rows_per_block at most 1000000 (0: imports off / no block limit)")
	case p.Crms == nil:
		return bad("crms parameters are missing")
	}
	if err := validateProgramParams(p); err != nil {
		return err
	}
	return risk.ValidateParams(p.Crms)
}

// validateProgramParams checks the programs' bounds (SPEC §5.7-5.10).
// Each may be 0, which turns its feature off; a chain whose parameters
// predate them has them all off.
func validateProgramParams(p *types.Params) error {
	bad := func(f string, a ...any) error { return types.Errorf(types.CodeInvalidArgument, f, a...) }
	switch {
	case p.MaxMinRedeemPoints > 1_000_000:
		return bad("max_min_redeem_points must be at most 1000000")
	case p.MinRedeemShareBps > 10000:
		return bad("min_redeem_share_bps must be at most 10000 (the whole bill)")
	case p.MaxReturnWindowSeconds < 0 || p.MaxReturnWindowSeconds > maxReturnWindowBound:
		return bad("max_return_window_seconds must be in [0, %s]", types.SecondsText(maxReturnWindowBound))
	case p.MaxReleasesPerBlock > 100_000 || (p.MaxReturnWindowSeconds > 0 && p.MaxReleasesPerBlock == 0):
		return bad("max_releases_per_block must be in [1, 100000] when return windows are allowed")
	case p.MaxActiveCampaigns > 64:
		return bad("max_active_campaigns must be at most 64")
	case p.MaxCampaignMultiplierBps != 0 && (p.MaxCampaignMultiplierBps <= 10000 || p.MaxCampaignMultiplierBps > 1_000_000):
		return bad("max_campaign_multiplier_bps must be 0 or in (10000, 1000000]")
	case p.MaxCampaignBonusPoints > 1_000_000:
		return bad("max_campaign_bonus_points must be at most 1000000")
	case p.MaxCampaignBudgetPoints > maxEpochIssueBound:
		return bad("max_campaign_budget_points must be at most %s", types.PointsText(maxEpochIssueBound))
	case p.MaxCampaignTerminals > 64:
		return bad("max_campaign_terminals must be at most 64")
	case p.MaxTiers > 8:
		return bad("max_tiers must be at most 8")
	case p.MaxReferralBonusPoints > 1_000_000:
		return bad("max_referral_bonus_points must be at most 1000000")
	}
	return nil
}

// maxReturnWindowBound is SPEC §5.9's longest return window.
const maxReturnWindowBound = 30 * 86400

// Upper bounds on the governed amount limits: whatever governance chooses,
// 100 sellers issuing at the cap every epoch for a year of lots hold
// 3.65e17 paise in escrow, 25 times below the int64 range of positions.
const (
	maxPurchaseBound   = 1e12 // Rs 1,000 crore per purchase
	maxEpochIssueBound = 1e11 // points per seller per epoch
	// Ten years of block time: state then holds ten years of bookings.
	maxRecordRetention = 3650 * 86400
)

// paramsCache holds the parameters of the last committed height: CheckTx
// and the decision query read them on every call, and decoding them each
// time cost a third of a decision query.
type paramsCache struct {
	mu     sync.Mutex
	height int64
	p      *types.Params
}

// at returns the parameters of a committed view (nil before InitChain
// committed). The result is shared: callers must not modify it.
func (x *paramsCache) at(v *store.View) *types.Params {
	x.mu.Lock()
	if x.p != nil && x.height == v.Height {
		p := x.p
		x.mu.Unlock()
		return p
	}
	x.mu.Unlock()
	p := state.Params(v)
	if p != nil {
		x.mu.Lock()
		x.height, x.p = v.Height, p
		x.mu.Unlock()
	}
	return p
}

// MaxImportRowsPerBlock is the governed number of import rows a proposer
// puts in one block (0: no limit beyond max_block_txs), as of the last commit.
func (a *App) MaxImportRowsPerBlock() int {
	view := a.db.View()
	defer view.Discard()
	if p := a.params.at(view); p != nil {
		return int(p.MaxImportRowsPerBlock)
	}
	return int(DefaultParams().MaxImportRowsPerBlock)
}

// MaxBlockTxs is the governed number of transactions a block may hold, as
// of the last commit (a default before the first).
func (a *App) MaxBlockTxs() int {
	view := a.db.View()
	defer view.Discard()
	if p := a.params.at(view); p != nil {
		return int(p.MaxBlockTxs)
	}
	return int(DefaultParams().MaxBlockTxs)
}
