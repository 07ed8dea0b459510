package chainreplay

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
)

func engine(t *testing.T) *crms.Engine {
	t.Helper()
	e, err := crms.NewEngine(crms.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func fields(ms []Mismatch) string {
	var f []string
	for _, m := range ms {
		f = append(f, m.Kind+":"+m.Field)
	}
	return strings.Join(f, ",")
}

// chainRecheck is what a chain that agrees with the engine reports for a
// re-check: its verdict, R and risk.
func chainRecheck(e *crms.Engine, r int64, amount uint64, riskMax, used int64) *Outcome {
	d := e.Decide(r, amount, riskMax, 0, used)
	return &Outcome{Code: types.CodeOK, Purchase: &types.PurchaseResult{CrmsViolation: d.CVMRequired, CrmsReason: d.Reason},
		HasCRMS: true, CRMSReputation: d.R, CRMSRisk: d.Risk}
}

func TestCheckFlow7(t *testing.T) {
	e := engine(t)
	row := &Row{Trace: traceOf(cardA), Line: 9}
	const R, amount, rm = int64(600_000_000), uint64(2_500), int64(5_000_000) // risk 0.00417: skips at 0.005
	c := Flow7Check{R: R, RiskMax: rm, Used: 0, BudgetKnown: true}
	if ms := CheckFlow7(e, row, amount, c, chainRecheck(e, R, amount, rm, 0)); len(ms) != 0 {
		t.Fatalf("agreeing chain: %v", ms)
	}
	// The budget the offline mirror says was nearly used up: budget_exhausted.
	c.Used = e.Params().EpochRiskBudget - 1_000_000
	if ms := CheckFlow7(e, row, amount, c, chainRecheck(e, R, amount, rm, c.Used)); len(ms) != 0 {
		t.Fatalf("agreeing chain, exhausted budget: %v", ms)
	}
	// ... while the chain skipped: verdict and reason differ, R and risk agree.
	ms := CheckFlow7(e, row, amount, c, chainRecheck(e, R, amount, rm, 0))
	if got := fields(ms); got != "flow7:crms_violation,flow7:crms_reason" || ms[0].Line != 9 || ms[0].Card != cardA {
		t.Errorf("verdict mismatch: %s %+v", got, ms)
	}
	// Another R on chain: R and risk differ.
	c.Used = 0
	if got := fields(CheckFlow7(e, row, amount, c, chainRecheck(e, R+100_000_000, amount, rm, 0))); got != "flow7:reputation_nano,flow7:risk_nano" {
		t.Errorf("R mismatch: %s", got)
	}
	// No crms event: reported, nothing else compared.
	if got := fields(CheckFlow7(e, row, amount, c, &Outcome{Code: types.CodeOK, Purchase: &types.PurchaseResult{}})); got != "flow7:crms_event" {
		t.Errorf("missing event: %s", got)
	}

	// A replayed row: its budget input is gone. A budget refusal where an
	// unused budget would skip is consistent; a low_reputation verdict for a
	// card with R is not; a violation flag contradicting the reason is not.
	c = Flow7Check{R: R, RiskMax: rm, BudgetKnown: false}
	refused := chainRecheck(e, R, amount, rm, e.Params().EpochRiskBudget)
	if ms := CheckFlow7(e, row, amount, c, refused); len(ms) != 0 {
		t.Errorf("replayed budget refusal: %v", ms)
	}
	wrong := chainRecheck(e, R, amount, rm, 0)
	wrong.Purchase.CrmsReason = crms.ReasonLowReputation
	if got := fields(CheckFlow7(e, row, amount, c, wrong)); got != "flow7:crms_reason" {
		t.Errorf("replayed, inconsistent reason: %s", got)
	}
	flag := chainRecheck(e, R, amount, rm, 0)
	flag.Purchase.CrmsViolation = true
	if got := fields(CheckFlow7(e, row, amount, c, flag)); got != "flow7:crms_reason" {
		t.Errorf("replayed, violation flag on a skip: %s", got)
	}
}

func TestCheckFlow7RowsCounts(t *testing.T) {
	e := engine(t)
	rows := []Row{{Trace: traceOf(cardA)}, {Trace: traceOf(cardB)}, {Trace: traceOf(cardC)}}
	for i := range rows {
		rows[i].Trace.AmountPaise = 2_500
	}
	const R, rm = int64(600_000_000), int64(5_000_000)
	outcomes := []*Outcome{
		chainRecheck(e, R, 2_500, rm, 0),
		chainRecheck(e, R+100_000_000, 2_500, rm, 0),
		{Code: types.CodeInvalidArgument},
	}
	checks := []Flow7Check{{Row: 0, R: R, RiskMax: rm, BudgetKnown: true}, {Row: 1, R: R, RiskMax: rm}, {Row: 2, R: R, RiskMax: rm, BudgetKnown: true}}
	rep := &Report{Flow7Reasons: map[string]int{}}
	CheckFlow7Rows(rep, e, rows, outcomes, checks)
	if rep.Flow7Checked != 2 || rep.Flow7Matched != 1 || rep.Flow7BudgetUnverified != 1 || rep.Flow7Reasons[crms.ReasonSkip] != 2 || len(rep.Mismatches) != 2 {
		t.Errorf("%+v", rep)
	}
}

func TestCompareCard(t *testing.T) {
	e := engine(t)
	const probe, rm = uint64(2_000), int64(5_000_000)
	answer := func(r int64, used int64, payments uint64, newCard bool) *types.DecisionResponse {
		d := e.Decide(r, probe, rm, 0, used)
		if newCard {
			d.Reason = crms.ReasonNewCard
		}
		return &types.DecisionResponse{ReputationNano: d.R, CvmRequired: d.CVMRequired, Reason: d.Reason, RiskNano: d.Risk,
			RiskMaxNano: d.RiskMax, SkipLimitPaise: d.SkipLimitPaise, EpochRiskUsedNano: used, Payments: payments}
	}
	off := CardState{R: 700_000_000, HasHistory: true, Payments: 12}
	if ms := CompareCard(e, cardA, probe, rm, answer(off.R, 3_000_000, 12, false), off); len(ms) != 0 {
		t.Fatalf("agreeing chain: %v", ms)
	}
	// The epoch risk the answer reports is the one the offline decision uses:
	// a nearly exhausted budget moves the skip limit on both sides alike.
	if ms := CompareCard(e, cardA, probe, rm, answer(off.R, e.Params().EpochRiskBudget-1, 12, false), off); len(ms) != 0 {
		t.Fatalf("agreeing chain, budget nearly used: %v", ms)
	}
	if got := fields(CompareCard(e, cardA, probe, rm, answer(off.R, 0, 11, false), off)); got != "card:payments" {
		t.Errorf("payments: %s", got)
	}
	// R 0.5 on chain, 0.7 offline: both skip the probe, at other risks and limits.
	if got := fields(CompareCard(e, cardA, probe, rm, answer(500_000_000, 0, 12, false), off)); got != "card:reputation_nano,card:risk_nano,card:skip_limit_paise" {
		t.Errorf("R off by one: %s", got)
	}
	// Another Risk_max on chain: the risk max and the skip limit differ.
	if got := fields(CompareCard(e, cardA, probe, 2*rm, answer(off.R, 0, 12, false), off)); got != "card:risk_max_nano,card:skip_limit_paise" {
		t.Errorf("risk max: %s", got)
	}
	// A card with no history: new_card, and infinite risk as MaxInt64.
	none := CardState{}
	a := answer(0, 0, 0, true)
	if a.RiskNano != math.MaxInt64 {
		t.Fatalf("engine risk for R = 0: %d", a.RiskNano)
	}
	if ms := CompareCard(e, cardB, probe, rm, a, none); len(ms) != 0 {
		t.Errorf("new card: %v", ms)
	}
	if got := fields(CompareCard(e, cardB, probe, rm, answer(0, 0, 0, false), none)); got != "card:reason" {
		t.Errorf("new card reported as low_reputation: %s", got)
	}
}

func TestSellerRiskCharge(t *testing.T) {
	const budget = 10_000
	s := SellerRisk{Known: true, Epoch: 7, Used: 9_000}
	if before := s.Charge(7, 600, budget); before != 9_000 || s.Used != 9_600 {
		t.Errorf("charge: before %d used %d", before, s.Used)
	}
	// Saturates at the budget (an infinite-risk violation exhausts it).
	if before := s.Charge(7, math.MaxInt64, budget); before != 9_600 || s.Used != budget {
		t.Errorf("saturation: before %d used %d", before, s.Used)
	}
	// A new epoch starts at 0.
	if before := s.Charge(8, 100, budget); before != 0 || s.Used != 100 || s.Epoch != 8 {
		t.Errorf("new epoch: before %d %+v", before, s)
	}
}

func TestTally(t *testing.T) {
	rows := []Row{{Trace: traceOf(cardA), Line: 2}, {Trace: traceOf(cardB), Line: 3}, {Trace: traceOf(cardC), Line: 4}}
	outcomes := []*Outcome{
		{Code: types.CodeOK, Purchase: &types.PurchaseResult{PointsIssued: 12}},
		{Code: types.CodeOK, Replayed: true, Purchase: &types.PurchaseResult{PointsIssued: 99}},
		{Code: types.CodeExpired, Log: "not committed"},
	}
	rep := &Report{}
	Tally(rep, rows, outcomes)
	if rep.Committed != 1 || rep.Replayed != 1 || rep.Failed != 1 || rep.PointsIssued != 12 {
		t.Errorf("%+v", rep)
	}
	if len(rep.Mismatches) != 1 || rep.Mismatches[0].Kind != KindFailed || rep.Mismatches[0].Line != 4 || !strings.Contains(rep.Mismatches[0].Chain, "not committed") {
		t.Errorf("%+v", rep.Mismatches)
	}
}

func TestOriginalTx(t *testing.T) {
	h := make([]byte, 32)
	h[0], h[31] = 0xab, 0x01
	if got := OriginalTx(hex.EncodeToString(h)); hex.EncodeToString(got) != hex.EncodeToString(h) {
		t.Errorf("%x", got)
	}
	for _, bad := range []string{"", "zz", hex.EncodeToString(h[:31]), "idempotency key was already used by tx " + hex.EncodeToString(h)} {
		if OriginalTx(bad) != nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReportText(t *testing.T) {
	rep := &Report{ChainID: "c", Seller: "shop-a", Rows: 3, Flow7Reasons: map[string]int{"skip": 2}, Mismatches: []Mismatch{}}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "OK: the chain's CRMS agrees exactly") || !strings.Contains(b.String(), "chain: skip 2") {
		t.Errorf("%v\n%s", err, b.String())
	}
	for range 60 {
		rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: KindCard, Card: cardA, Field: "reason", Chain: "skip", Offline: "risk_above_max"})
	}
	b.Reset()
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "... 10 more") || strings.Contains(b.String(), "OK:") {
		t.Errorf("%v\n%s", err, b.String())
	}
}
