package program

import (
	"fmt"
	"sort"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/program/tiers"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// MaxNameLen bounds a campaign's name.
const MaxNameLen = 64

// Create records a new active campaign of seller (SPEC §5.7) after
// checking it against the governed bounds. Campaigns whose window has
// closed leave the active index first, so they do not count.
func Create(c *state.Ctx, seller string, m *types.MsgCreateCampaign) (*types.Campaign, error) {
	p := c.Params
	bad := func(f string, a ...any) error { return types.Errorf(types.CodeInvalidArgument, f, a...) }
	if len(m.Name) == 0 {
		return nil, bad("a campaign needs a name")
	}
	if err := types.ValidateText("campaign name", m.Name, MaxNameLen); err != nil {
		return nil, err
	}
	if m.Tier != "" && tiers.Rank(tiers.Table(c.KV), m.Tier) < 0 {
		return nil, bad("campaign tier %q is not in the coalition's tier table", m.Tier)
	}
	switch {
	case (m.MultiplierBps == 0) == (m.BonusPoints == 0):
		return nil, bad("give exactly one of a multiplier or a fixed bonus")
	case m.MultiplierBps != 0 && (m.MultiplierBps <= fullBill || m.MultiplierBps > p.MaxCampaignMultiplierBps):
		return nil, types.Errorf(types.CodeInvalidAmount, "multiplier %d bps is outside (10000, %d] (10000 bps = the base points alone)",
			m.MultiplierBps, p.MaxCampaignMultiplierBps)
	case m.BonusPoints > p.MaxCampaignBonusPoints:
		return nil, types.Errorf(types.CodeInvalidAmount, "a fixed bonus of %s is above the governed maximum of %s per purchase",
			pointsAndRupees(m.BonusPoints), pointsAndRupees(p.MaxCampaignBonusPoints))
	case m.BudgetPoints == 0 || m.BudgetPoints > p.MaxCampaignBudgetPoints:
		return nil, types.Errorf(types.CodeInvalidAmount, "a budget of %s is outside the governed bounds [1 point, %s]",
			pointsAndRupees(m.BudgetPoints), pointsAndRupees(p.MaxCampaignBudgetPoints))
	case m.MinAmountPaise > p.MaxPurchasePaise:
		return nil, types.Errorf(types.CodeInvalidAmount, "a minimum amount of %s is above the maximum purchase of %s",
			types.RupeesText(m.MinAmountPaise), types.RupeesText(p.MaxPurchasePaise))
	}
	from := max(m.From, c.Time) // 0 (or a time already past) = now
	if m.To != 0 && m.To <= from {
		return nil, bad("campaign window ends at %s, not after its start %s", types.TimeText(m.To), types.TimeText(from))
	}
	if len(m.Terminals) > int(p.MaxCampaignTerminals) {
		return nil, bad("%d terminals listed; at most %d", len(m.Terminals), p.MaxCampaignTerminals)
	}
	terms := append([]string(nil), m.Terminals...)
	sort.Strings(terms)
	for i, t := range terms {
		if err := types.ValidateTerminalID(t); err != nil {
			return nil, err
		}
		if i > 0 && terms[i-1] == t {
			return nil, bad("terminal %s is listed twice", t)
		}
		if rec, ok := members.Terminal(c.KV, seller, t); !ok || rec.Status != types.TerminalStatus_TERMINAL_STATUS_ACTIVE {
			return nil, types.Errorf(types.CodeNotFound, "%s has no active terminal %s", seller, t)
		}
	}
	sp := Program(c.KV, seller)
	var live []*types.Campaign
	for _, x := range Active(c.KV, seller) {
		if x.To != 0 && x.To <= c.Time {
			end(c, sp, x, "window closed")
			continue
		}
		live = append(live, x)
	}
	if len(live) >= int(p.MaxActiveCampaigns) {
		return nil, bad("%s has %d active campaigns, the governed maximum; end one first", seller, len(live))
	}
	for _, x := range live {
		if x.Name == m.Name {
			return nil, bad("%s already has an active campaign named %q (id %d)", seller, m.Name, x.Id)
		}
	}
	if sp.NextCampaignId == 0 {
		sp.NextCampaignId = 1
	}
	x := &types.Campaign{
		SellerId: seller, Id: sp.NextCampaignId, Name: m.Name, From: from, To: m.To,
		MultiplierBps: m.MultiplierBps, BonusPoints: m.BonusPoints, MinAmountPaise: m.MinAmountPaise,
		Terminals: terms, BudgetPoints: m.BudgetPoints, Status: types.CampaignStatus_CAMPAIGN_STATUS_ACTIVE, Tier: m.Tier,
		CreatedHeight: c.Height,
	}
	sp.NextCampaignId++
	sp.ActiveCampaigns++
	putCampaign(c.KV, x)
	markActive(c.KV, x)
	PutProgram(c.KV, sp)
	c.Emit(types.EventCampaign, "seller", seller, "campaign_id", state.U(x.Id), "name", x.Name, "status", "active",
		"budget_points", state.U(x.BudgetPoints), "actor", c.Actor)
	return x, nil
}

// End ends one of the seller's active campaigns.
func End(c *state.Ctx, seller string, id uint64) (*types.Campaign, error) {
	x, ok := Campaign(c.KV, seller, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "%s has no campaign %d", seller, id)
	}
	if x.Status != types.CampaignStatus_CAMPAIGN_STATUS_ACTIVE {
		return nil, types.Errorf(types.CodeInvalidArgument, "campaign %d (%q) of %s has already ended", id, x.Name, seller)
	}
	sp := Program(c.KV, seller)
	end(c, sp, x, "ended by the seller")
	PutProgram(c.KV, sp)
	return x, nil
}

// Match is the campaign bonus a purchase earns.
type Match struct {
	Campaign *types.Campaign // nil: no bonus
	Bonus    uint64
	// Why the bonus is smaller than the offer, or why a campaign whose
	// conditions the purchase met gave nothing (its budget is spent).
	Reason string
}

// Offer is what campaign x offers a purchase of base points, before its
// budget: the bonus of its multiplier or its fixed bonus.
func Offer(x *types.Campaign, base uint64) (uint64, error) {
	if x.MultiplierBps != 0 {
		return types.MulDivU64("campaign bonus", base, uint64(x.MultiplierBps-fullBill), fullBill)
	}
	return x.BonusPoints, nil
}

// Buyer is who buys, where: the till ("" for the seller's operator), the
// amount, and the customer's tier rank before the purchase (-1 below the
// first tier) in the table tiers.
type Buyer struct {
	Terminal string
	Amount   uint64
	TierRank int
	Tiers    *types.TierTable
}

// Qualifies reports whether a purchase by b at block time now meets x's
// conditions. A tier condition admits that tier and those above it; a
// tier no longer in the table admits no one.
func Qualifies(x *types.Campaign, b Buyer, now int64) bool {
	if x.Status != types.CampaignStatus_CAMPAIGN_STATUS_ACTIVE || now < x.From || (x.To != 0 && now >= x.To) {
		return false
	}
	if b.Amount < x.MinAmountPaise {
		return false
	}
	if x.Tier != "" {
		if need := tiers.Rank(b.Tiers, x.Tier); need < 0 || b.TierRank < need {
			return false
		}
	}
	terminal := b.Terminal
	if len(x.Terminals) == 0 {
		return true
	}
	i := sort.SearchStrings(x.Terminals, terminal)
	return terminal != "" && i < len(x.Terminals) && x.Terminals[i] == terminal
}

// Find picks the bonus for a purchase of base points: among the seller's
// active campaigns whose conditions it meets, the one giving the most
// (what is left of its budget at most; the lowest id on a tie). Nothing
// is written; Spend books the bonus once the ledger has issued it.
func Find(c *state.Ctx, seller string, b Buyer, base uint64) (Match, error) {
	var best Match
	var shortReason string
	for _, x := range Active(c.KV, seller) {
		if !Qualifies(x, b, c.Time) {
			continue
		}
		want, err := Offer(x, base)
		if err != nil {
			return Match{}, err
		}
		if want == 0 {
			continue
		}
		left := x.BudgetPoints - x.SpentPoints
		got := min(want, left)
		why := ""
		switch {
		case got == 0:
			why = fmt.Sprintf("campaign %q's budget of %s is spent", x.Name, types.PointsText(x.BudgetPoints))
		case got < want:
			why = fmt.Sprintf("campaign %q had %s of its budget left, not the %s offered", x.Name, types.PointsText(left), types.PointsText(want))
		}
		if shortReason == "" {
			shortReason = why
		}
		if got > best.Bonus {
			best = Match{Campaign: x, Bonus: got, Reason: why}
		}
	}
	if best.Campaign == nil {
		best.Reason = shortReason
	}
	return best, nil
}

// Spend charges n bonus points issued by the ledger to campaign x's budget.
func Spend(c *state.Ctx, x *types.Campaign, n uint64) error {
	if n > x.BudgetPoints-x.SpentPoints {
		return types.Errorf(types.CodeInternal, "campaign %s/%d: %d bonus points exceed the %d left", x.SellerId, x.Id, n, x.BudgetPoints-x.SpentPoints)
	}
	x.SpentPoints += n
	x.Purchases++
	putCampaign(c.KV, x)
	return nil
}
