// Package risk is the chain's CRMS wiring (SPEC §6.4): it keeps each card's
// history window in state, re-checks purchases that claim a CRMS skip,
// authorises redemptions, charges every skip to the seller's epoch risk
// budget (through crms.ChargeBudget, the one budget rule) and answers the
// decision query. The maths lives in package crms; this package maps chain
// state and governed parameters onto it.
//
// What it owns:
//
//   - the governed CRMS parameters: defaults, validation and conversion to
//     crms.Params and crms.RatingTable (params.go);
//   - the engine cache, one crms.Engine per parameter set (keeper.go);
//   - flow validation, history records and purchase re-checks (record.go);
//   - redemption authorisation (redeem.go) and the decision (decide.go).
package risk
