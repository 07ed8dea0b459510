package app

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The CRMS in consensus (SPEC §6.4): purchases feed each card's history,
// claimed CRMS skips are re-checked, redemptions are authorised, and the
// decision query is answered from committed state. The maths lives in
// package crms; this file maps chain state and parameters onto it.

// DefaultCrmsParams are the CRMS defaults: crms.DefaultParams (the published
// calibration) with Risk_max 0.005 per seller, governed between 0.001 and
// 0.05, and the default rating table.
func DefaultCrmsParams() *types.CrmsParams {
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

// CrmsParams converts governed parameters to the engine's.
func CrmsParams(c *types.CrmsParams) crms.Params {
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

func validateCrms(c *types.CrmsParams) error {
	if err := CrmsParams(c).Validate(); err != nil {
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
		return types.Errorf(types.CodeInvalidArgument, "crms Risk_max bounds [%d, %d] / default %d are inconsistent",
			c.MinRiskMaxNano, c.MaxRiskMaxNano, c.DefaultRiskMaxNano)
	}
	return nil
}

// engines caches one Engine per parameter set. Building one costs a few
// microseconds (rank weights, normaliser); the cache only saves that work,
// it never changes a result, so it is safe in consensus code.
type engines struct {
	mu    sync.Mutex
	key   string
	last  *types.CrmsParams // the params object key was computed from
	e     *crms.Engine
	table crms.RatingTable

	// Parameters of the last committed height, for the decision query:
	// decoding them per call cost a third of the query's time.
	qHeight int64
	qParams *types.Params
}

// paramsAt returns the parameters of a committed view, cached per height.
func (x *engines) paramsAt(v *store.View) *types.Params {
	x.mu.Lock()
	if x.qParams != nil && x.qHeight == v.Height {
		p := x.qParams
		x.mu.Unlock()
		return p
	}
	x.mu.Unlock()
	p := state.Params(v)
	if p != nil {
		x.mu.Lock()
		x.qHeight, x.qParams = v.Height, p
		x.mu.Unlock()
	}
	return p
}

func (x *engines) get(c *types.CrmsParams) (*crms.Engine, crms.RatingTable, error) {
	x.mu.Lock()
	if x.e != nil && x.last == c {
		e, t := x.e, x.table
		x.mu.Unlock()
		return e, t, nil
	}
	x.mu.Unlock()
	bz, err := c.Marshal()
	if err != nil {
		return nil, nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.e != nil && x.key == string(bz) {
		x.last = c
		return x.e, x.table, nil
	}
	e, err := crms.NewEngine(CrmsParams(c))
	if err != nil {
		return nil, nil, err
	}
	x.key, x.last, x.e, x.table = string(bz), c, e, Ratings(c)
	return e, x.table, nil
}

// flows extracts the engine's view of a card history.
func flows(h *types.CardHistory, buf []crms.Flow) []crms.Flow {
	buf = buf[:0]
	for _, f := range h.Flows {
		buf = append(buf, crms.Flow{TimeMs: f.TimeMs, RatingNano: f.RatingNano})
	}
	return buf
}

// insertFlow places rec by time (after equal times) and keeps the newest n,
// exactly as crms.Insert does for the engine's flows.
func insertFlow(h *types.CardHistory, rec *types.FlowRecord, n int) {
	pos := len(h.Flows)
	for pos > 0 && h.Flows[pos-1].TimeMs > rec.TimeMs {
		pos--
	}
	h.Flows = append(h.Flows, nil)
	copy(h.Flows[pos+1:], h.Flows[pos:])
	h.Flows[pos] = rec
	if len(h.Flows) > n {
		h.Flows = h.Flows[len(h.Flows)-n:]
	}
}

// RiskMaxOf is the seller's Risk_max, or the chain default when unset.
func RiskMaxOf(c *types.CrmsParams, s *types.SellerRecord) int64 {
	if s.RiskMaxNano != 0 {
		return s.RiskMaxNano
	}
	return c.DefaultRiskMaxNano
}

// addRisk charges risk to the seller's epoch total, saturating at the
// budget: the total never exceeds what the seller may take.
func addRisk(c *state.Ctx, seller string, risk int64, skip, violation bool) error {
	budget := c.Params.Crms.EpochRiskBudgetNano
	return settle.Activity(c, seller, func(e *types.SellerEpoch) error {
		if risk > budget-e.RiskUsedNano {
			e.RiskUsedNano = budget
		} else {
			e.RiskUsedNano += risk
		}
		if skip {
			e.CrmsSkips++
		}
		if violation {
			e.CrmsViolations++
		}
		return nil
	})
}

// recordFlow appends the purchase's payment flow to the card's history.
// A flow claiming "no CVM granted by the CRMS" is re-checked against the
// decision the state before it gives: the payment happened, so the points
// stand, but a wrong skip is recorded as a violation against the seller and
// its risk counts in the seller's budget either way.
func (a *App) recordFlow(c *state.Ctx, seller *types.SellerRecord, m *types.MsgPurchase, payMs int64, res *types.PurchaseResult) error {
	cp := c.Params.Crms
	eng, table, err := a.engines.get(cp)
	if err != nil {
		return types.Errorf(types.CodeInternal, "crms engine: %v", err)
	}
	h := state.Card(c.KV, m.CustomerId)
	f := m.Flow
	if f.Cvm == types.CVM_CVM_NO_CVM_CRMS {
		used := state.SellerEpoch(c.KV, seller.SellerId).RiskUsedNano
		r := eng.ReputationAt(flows(h, nil), payMs)
		d := eng.Decide(r, m.AmountPaise, RiskMaxOf(cp, seller), 0, used)
		res.CrmsReason = d.Reason
		res.CrmsViolation = d.CVMRequired
		if err := addRisk(c, seller.SellerId, d.Risk, !d.CVMRequired, d.CVMRequired); err != nil {
			return err
		}
		c.Emit(types.EventCRMS, "customer", m.CustomerId, "seller", seller.SellerId, "decision", verdict(d),
			"reason", d.Reason, "reputation_nano", state.I(d.R), "risk_nano", state.I(d.Risk), "actor", c.Actor)
	}
	rating := table.Rating(crms.ReadType(f.ReadType), crms.CVM(f.Cvm), crms.Auth(f.Auth))
	insertFlow(h, &types.FlowRecord{TimeMs: payMs, RatingNano: rating, Flow: f, SellerId: seller.SellerId}, int(cp.N))
	h.Payments++
	state.PutCard(c.KV, m.CustomerId, h)
	return nil
}

func verdict(d crms.Decision) string {
	if d.CVMRequired {
		return "violation"
	}
	return "skip_ok"
}

// authoriseRedeem decides who vouches for the customer at a redemption: a
// verified PIN at the till, else the CRMS (skip allowed for the value at
// this seller now), else the customer's bound wallet signing the same
// transaction. Otherwise cvm_required.
func (a *App) authoriseRedeem(c *state.Ctx, seller *types.SellerRecord, m *types.MsgRedeem, tx *types.Tx) (string, error) {
	if f := m.Flow; f != nil {
		if err := checkFlow(f); err != nil {
			return "", err
		}
		if (f.Cvm == types.CVM_CVM_PIN_ONLINE_OK || f.Cvm == types.CVM_CVM_PIN_OFFLINE_OK) && f.Auth == types.AuthResult_AUTH_RESULT_APPROVED {
			return "cvm", nil
		}
	}
	cp := c.Params.Crms
	if m.ContextNano != 0 && (m.ContextNano < cp.ContextMinNano || m.ContextNano > cp.ContextMaxNano) {
		return "", types.Errorf(types.CodeInvalidArgument, "context multiplier %d nano is outside [%d, %d]", m.ContextNano, cp.ContextMinNano, cp.ContextMaxNano)
	}
	eng, _, err := a.engines.get(cp)
	if err != nil {
		return "", types.Errorf(types.CodeInternal, "crms engine: %v", err)
	}
	value := m.Points * 100 // checked by CheckRedeemAmount
	used := state.SellerEpoch(c.KV, seller.SellerId).RiskUsedNano
	d := eng.Evaluate(flows(state.Card(c.KV, m.CustomerId), nil), c.TimeMs, value, RiskMaxOf(cp, seller), m.ContextNano, used)
	if !d.CVMRequired {
		if err := addRisk(c, seller.SellerId, d.Risk, true, false); err != nil {
			return "", err
		}
		return "crms", nil
	}
	if len(tx.WalletSignature) > 0 {
		cust, _ := state.Customer(c.KV, m.CustomerId)
		if len(cust.WalletPubkey) != ed25519.PublicKeySize {
			return "", types.Errorf(types.CodeCVMRequired, "customer %s has no wallet key bound; verify by PIN", m.CustomerId)
		}
		if !ed25519.Verify(cust.WalletPubkey, types.SignBytes(tx.Body), tx.WalletSignature) {
			return "", types.Errorf(types.CodeBadSignature, "wallet signature does not verify for customer %s", m.CustomerId)
		}
		return "wallet", nil
	}
	return "", types.Errorf(types.CodeCVMRequired,
		"redeeming %d points needs cardholder verification (CRMS: %s, reputation %s, skip limit %s paise): verify by PIN or have the customer's wallet sign",
		m.Points, d.Reason, nanoStr(d.R), strconv.FormatUint(d.SkipLimitPaise, 10))
}

func nanoStr(v int64) string { return fmt.Sprintf("%d.%09d", v/1e9, v%1e9) }

// queryCRMS answers /crms/{customer}/{amount_paise}[/{seller}/{context_nano}]
// from committed state: no consensus round, no proof (a decision is
// advice for the till, recomputed in consensus when it matters).
func (a *App) queryCRMS(view *store.View, args []string) QueryResult {
	fail := func(err error) QueryResult {
		return QueryResult{Code: types.CodeOf(err), Log: err.Error(), Height: view.Height}
	}
	if len(args) < 2 {
		return fail(types.Errorf(types.CodeInvalidArgument, "usage: /crms/{customer}/{amount_paise}[/{seller}/{context_nano}]"))
	}
	if err := types.ValidateCustomerID(args[0]); err != nil {
		return fail(err)
	}
	amount, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return fail(types.Errorf(types.CodeInvalidArgument, "amount %q must be paise, a non-negative integer", args[1]))
	}
	p := a.engines.paramsAt(view)
	if p == nil {
		return fail(types.Errorf(types.CodeNotFound, "chain not initialised"))
	}
	cp := p.Crms
	riskMax := cp.DefaultRiskMaxNano
	out := &types.DecisionResponse{CustomerId: args[0], AmountPaise: amount}
	var used int64
	if len(args) >= 3 && args[2] != "" {
		s, ok := state.Seller(view, args[2])
		if !ok {
			return fail(types.Errorf(types.CodeNotFound, "seller %s does not exist", args[2]))
		}
		riskMax, out.SellerId = RiskMaxOf(cp, s), s.SellerId
		used = state.SellerEpoch(view, s.SellerId).RiskUsedNano
	}
	if len(args) >= 4 {
		if out.ContextNano, err = strconv.ParseInt(args[3], 10, 64); err != nil {
			return fail(types.Errorf(types.CodeInvalidArgument, "context %q must be an integer in 1e-9 units", args[3]))
		}
	}
	eng, _, err := a.engines.get(cp)
	if err != nil {
		return fail(err)
	}
	h := state.Card(view, args[0])
	now := lastBlockTimeMs(view)
	d := eng.Evaluate(flows(h, make([]crms.Flow, 0, len(h.Flows))), now, amount, riskMax, out.ContextNano, used)
	out.CvmRequired, out.ReputationNano, out.RiskNano, out.RiskMaxNano = d.CVMRequired, d.R, d.Risk, d.RiskMax
	out.SkipLimitPaise, out.Reason, out.EpochRiskUsedNano, out.Payments = d.SkipLimitPaise, d.Reason, used, h.Payments
	if d.Risk < 0 || d.Risk == math.MaxInt64 {
		out.RiskNano = math.MaxInt64
	}
	bz, err := out.Marshal()
	if err != nil {
		return fail(err)
	}
	return QueryResult{Value: bz, Height: view.Height}
}
