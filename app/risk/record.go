package risk

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// CheckFlow validates a payment flow from a transaction: defined enum
// values and no contradiction (an aborted verification reported as
// approved), by crms.ValidFlow. A nil flow is valid: it means no verified
// cardholder verification, never an assumed one.
func CheckFlow(f *types.PaymentFlow) error {
	if f == nil {
		return nil
	}
	err := crms.ValidFlow(crms.ReadType(f.ReadType), crms.CVM(f.Cvm), crms.Auth(f.Auth))
	if err == nil {
		return nil
	}
	bad := func(format string, a ...any) error {
		return types.Errorf(types.CodeInvalidArgument, "payment flow: "+format, a...)
	}
	// The message names the values as the CLI and the gateway spell them
	// (types/names.go), never the enum numbers.
	switch {
	case !crms.ReadType(f.ReadType).Valid():
		return bad("unknown card read type %d; one of %s", f.ReadType, strings.Join(types.ReadTypeNames(), ", "))
	case !crms.CVM(f.Cvm).Valid():
		return bad("unknown cardholder verification %d; one of %s", f.Cvm, strings.Join(types.CVMNames(), ", "))
	case !crms.Auth(f.Auth).Valid():
		return bad("unknown authorisation result %d; one of %s", f.Auth, strings.Join(types.AuthNames(), ", "))
	case errors.Is(err, crms.ErrContradictoryFlow):
		return bad("a verification aborted after a wrong PIN (%s) cannot be %s; an approval after a wrong PIN is %s",
			types.CVMName(f.Cvm), types.AuthName(f.Auth), types.CVMName(types.CVM_CVM_WRONG_PIN_THEN_OK))
	}
	return bad("%s", strings.TrimPrefix(err.Error(), "crms: "))
}

// PinVerified reports whether a flow shows a verified PIN on an approved
// payment. A nil or invalid flow verified nothing.
func PinVerified(f *types.PaymentFlow) bool {
	if f == nil || f.Auth != types.AuthResult_AUTH_RESULT_APPROVED || CheckFlow(f) != nil {
		return false
	}
	return f.Cvm == types.CVM_CVM_PIN_ONLINE_OK || f.Cvm == types.CVM_CVM_PIN_OFFLINE_OK
}

// Window is the card's CRMS window, oldest first.
func Window(r store.Reader, customer string) (*types.CardHistory, []crms.Flow) {
	h := Card(r, customer)
	if len(h.Window) == 0 {
		return h, nil // a card never seen
	}
	w, err := crms.DecodeHistory(h.Window, nil)
	if err != nil {
		panic(store.Fault{Err: fmt.Errorf("card history of %s: %w", customer, err)})
	}
	return h, w
}

// Payment is a purchase's payment as the CRMS records it.
type Payment struct {
	Seller      *types.SellerRecord
	CustomerID  string
	AmountPaise uint64
	Flow        *types.PaymentFlow // nil: nothing verified, rated 0
	TimeMs      int64              // terminal time, already within the accepted window
	ContextNano int64              // the context the till decided with, already checked (CheckContext)
}

// RecordPayment appends a purchase's flow to the card's window. A flow
// claiming "no CVM granted by the CRMS" is first re-checked against the
// decision the state before it gives, with the context the till decided
// with and by the same Evaluate as the decision query (a never-seen card
// is new_card on both paths): the payment happened, so its points
// stand, but a wrong skip is recorded as a violation against the seller,
// and the claimed skip's risk is charged to the seller's budget either way.
// The result reports the re-check's reason.
func (k *Keeper) RecordPayment(c *state.Ctx, p Payment, res *types.PurchaseResult) error {
	cp := c.Params.Crms
	eng, table, err := k.Engine(cp)
	if err != nil {
		return err
	}
	h, w := Window(c.KV, p.CustomerID)
	rating := int64(0)
	if f := p.Flow; f != nil {
		if f.Cvm == types.CVM_CVM_NO_CVM_CRMS {
			used := settle.SellerEpoch(c.KV, p.Seller.SellerId).RiskUsedNano
			riskMax, _, _ := RiskMaxOf(cp, p.Seller)
			d := eng.Evaluate(w, p.TimeMs, p.AmountPaise, riskMax, p.ContextNano, used)
			res.CrmsReason = d.Reason
			res.CrmsViolation = d.CVMRequired
			if err := charge(c, p.Seller.SellerId, d.Risk, !d.CVMRequired, d.CVMRequired); err != nil {
				return err
			}
			c.Emit(types.EventCRMS, "customer", p.CustomerID, "seller", p.Seller.SellerId, "decision", verdict(d),
				"reason", d.Reason, "reputation_nano", state.I(d.R), "risk_nano", state.I(d.Risk), "actor", c.Actor)
		}
		rating = table.Rating(crms.ReadType(f.ReadType), crms.CVM(f.Cvm), crms.Auth(f.Auth))
	}
	w = crms.Insert(w, crms.Flow{TimeMs: p.TimeMs, RatingNano: rating}, int(cp.N))
	h.Window = crms.AppendHistory(nil, w)
	h.Payments++
	putCard(c.KV, p.CustomerID, h)
	return nil
}

func verdict(d crms.Decision) string {
	if d.CVMRequired {
		return "violation"
	}
	return "skip_ok"
}

// charge adds a skip's risk to the seller's epoch total by the one budget
// rule, crms.ChargeBudget, and counts the skip or violation.
func charge(c *state.Ctx, seller string, risk int64, skip, violation bool) error {
	budget := c.Params.Crms.EpochRiskBudgetNano
	return settle.Activity(c, seller, func(e *types.SellerEpoch) error {
		e.RiskUsedNano = crms.ChargeBudget(e.RiskUsedNano, risk, budget)
		if skip {
			e.CrmsSkips++
		}
		if violation {
			e.CrmsViolations++
		}
		return nil
	})
}
