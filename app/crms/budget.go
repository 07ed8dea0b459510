package crms

// ChargeBudget is the one rule for a seller's epoch risk budget (SPEC §6.4):
// it returns the epoch's risk total after charging risk (nano) to used, the
// total so far, saturating at budget so the total never exceeds what the
// seller may take. The chain calls it for every skip it grants and every
// claimed skip it re-checks (a violation's risk may be "infinite",
// math.MaxInt64: it exhausts the budget); the simulator and the replay's
// expectations call it for the skips they count. A skip that Decide allowed
// has risk ≤ budget − used, so for those the charge is exact.
//
// A negative risk charges nothing. A total already at or above the budget
// (the budget was lowered by governance during the epoch) is kept as it is.
func ChargeBudget(used, risk, budget int64) int64 {
	if risk <= 0 {
		return used
	}
	if used >= budget || risk > budget-used {
		return max(used, budget)
	}
	return used + risk
}
