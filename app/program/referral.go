package program

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Referrals (SPEC §5.7): a customer's referral code is derived from its
// token by a one-way hash (it does not reveal the token), registered at its
// purchases; a referred customer gives it at the till at its first
// purchase anywhere, at a seller with a referral offer, and the two are
// linked once and forever. The seller issues both bonuses.

var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CodeLen is a referral code's length (80 bits in base32).
const CodeLen = 16

// Code is customer's referral code.
func Code(customer string) string {
	h := sha256.Sum256([]byte("bytepoints/referral/v1\x00" + customer))
	return strings.ToLower(codeEncoding.EncodeToString(h[:10]))
}

// RegisterCode makes customer's code resolvable (the first customer with a
// code keeps it; a collision of 80-bit hashes is not expected).
func RegisterCode(kv store.KV, customer string) {
	if _, ok := codeOwner(kv, Code(customer)); !ok {
		putCode(kv, Code(customer), customer)
	}
}

// SetOffer sets (all zero: withdraws) a seller's referral offer.
func SetOffer(c *state.Ctx, seller string, m *types.MsgSetReferralOffer) error {
	max := c.Params.MaxReferralBonusPoints
	if m.ReferrerPoints > max || m.RefereePoints > max {
		return types.Errorf(types.CodeInvalidAmount, "referral bonuses of %s and %s: each may be at most %s",
			pointsAndRupees(m.ReferrerPoints), pointsAndRupees(m.RefereePoints), pointsAndRupees(max))
	}
	if m.MinAmountPaise > c.Params.MaxPurchasePaise {
		return types.Errorf(types.CodeInvalidAmount, "a minimum amount of %s is above the maximum purchase of %s",
			types.RupeesText(m.MinAmountPaise), types.RupeesText(c.Params.MaxPurchasePaise))
	}
	sp := Program(c.KV, seller)
	sp.ReferrerPoints, sp.RefereePoints, sp.ReferralMinAmountPaise = m.ReferrerPoints, m.RefereePoints, m.MinAmountPaise
	PutProgram(c.KV, sp)
	c.Emit(types.EventProgramConfig, "seller", seller, "referrer_points", state.U(sp.ReferrerPoints),
		"referee_points", state.U(sp.RefereePoints), "referral_min_amount_paise", state.U(sp.ReferralMinAmountPaise), "actor", c.Actor)
	return nil
}

// ReferralMatch is a referral a purchase makes: who referred, and the bonuses.
type ReferralMatch struct {
	Referrer                      string
	ReferrerPoints, RefereePoints uint64
}

// CheckReferral applies the rules to a code given at a purchase of amount
// paise by customer at seller; first says the customer never bought
// anywhere before. Refused: a code of no customer (not_found), the
// customer's own (invalid_argument), a customer already referred or that
// bought before (invalid_argument), a seller with no offer
// (invalid_argument), an amount below the offer's minimum (invalid_amount).
func CheckReferral(r store.Reader, p *types.Params, seller, customer string, amount uint64, code string, first bool) (ReferralMatch, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) != CodeLen {
		return ReferralMatch{}, types.Errorf(types.CodeInvalidArgument, "referral code %q must be %d characters", code, CodeLen)
	}
	referrer, ok := codeOwner(r, code)
	if !ok {
		return ReferralMatch{}, types.Errorf(types.CodeNotFound, "referral code %s belongs to no customer", code)
	}
	if referrer == customer {
		return ReferralMatch{}, types.Errorf(types.CodeInvalidArgument, "a customer cannot refer itself")
	}
	if x, ok := Referral(r, customer); ok {
		return ReferralMatch{}, types.Errorf(types.CodeInvalidArgument, "customer %s was already referred, by %s", customer, x.Referrer)
	}
	if !first {
		return ReferralMatch{}, types.Errorf(types.CodeInvalidArgument, "customer %s has bought before: a referral counts only at a first purchase", customer)
	}
	sp := Program(r, seller)
	if sp.ReferrerPoints == 0 && sp.RefereePoints == 0 {
		return ReferralMatch{}, types.Errorf(types.CodeInvalidArgument, "%s has no referral offer", seller)
	}
	if amount < sp.ReferralMinAmountPaise {
		return ReferralMatch{}, types.Errorf(types.CodeInvalidAmount, "%s's referral offer needs a purchase of at least %s; this one is %s",
			seller, types.RupeesText(sp.ReferralMinAmountPaise), types.RupeesText(amount))
	}
	max := p.MaxReferralBonusPoints // bounds that governance narrowed since apply now
	return ReferralMatch{Referrer: referrer, ReferrerPoints: min(sp.ReferrerPoints, max), RefereePoints: min(sp.RefereePoints, max)}, nil
}

// Link records the referral of customer made by purchase.
func Link(c *state.Ctx, seller, customer string, m ReferralMatch) {
	putReferral(c.KV, &types.Referral{
		Referee: customer, Referrer: m.Referrer, SellerId: seller, PurchaseId: c.TxHash,
		ReferrerPoints: m.ReferrerPoints, RefereePoints: m.RefereePoints, Height: c.Height,
	})
}
