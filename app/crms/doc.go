// Package crms is the Contextual Risk Management System of SPEC §6: the
// rating of payment flows, a card's reputation from its recent flows, and the
// decision whether a payment may skip cardholder verification. It is pure
// consensus code: functions of their arguments only, integer arithmetic only,
// so every validator on every CPU computes the same bits. The ledger calls it
// inside transactions, the node answers decision queries with it, and the
// simulator replays traces through the very same code.
//
// # What it owns
//
//   - the flow enums (read type, CVM, authorisation) with their wire numbers,
//     and the governed rating table with its lookup rule (rating.go);
//   - a card's history window: ordering, insertion of late payments,
//     truncation to N, a canonical byte encoding (history.go);
//   - the reputation R_n and the decision (engine.go, decide.go);
//   - the governed parameters and their bounds (params.go);
//   - the fixed-point kernel: exp, erfc, 128-bit helpers (fixed.go).
//
// It does not own storage, block time, the seller's epoch risk total or its
// Risk_max: callers pass them in.
//
// # Formulas
//
// For a payment at t_n by a card whose window holds flows i = 0..n−1 (sorted
// by time, newest last, at most N of them):
//
//	x_i  = (t_n − t_i) / (τ · AvgT)                      (0 if t_i > t_n)
//	w_i  = ½·exp(−x_i) · erfc(((n−i−1) − x_m) / (√2·x_d))
//	R_n  = clamp( Σ_i w_i·r_i / Σ_{k<N} ½·erfc((k − x_m)/(√2·x_d)), Rmin, Rmax )
//	AvgT = max( (t_last − t_first) / (n − 1), AvgTFloor )   (AvgTFloor if n < 2)
//
//	f(R) = ∞ if R ≤ Rmin, else a/(b·R)
//	risk = amount_rupees · p · f(R)                   (rounded up, nano)
//	skip ⇔ risk ≤ Risk_max·m ∧ used + risk ≤ EpochRiskBudget ∧ amount ≤ HardCap
//
// where m is the terminal's context multiplier clamped to [ContextMin,
// ContextMax] and t_first, t_last are the oldest and newest flow of the
// window. The payment being decided is not part of its own history, nor of
// AvgT: a card that goes quiet decays by exp(−silence/(τ·AvgT)). See
// Engine.ReputationAt for every convention (ties, late flows, order).
//
// # Representation
//
// At the API, every real number is an int64 in nano units (1e-9), money is
// uint64 paise and time is int64 ms: all storable in protobuf as they are.
// Inside, numbers are unsigned binary fixed point — Q63 for values in [0, 1]
// (1.0 = 2^63), Q56/Q58 for arguments — with exact 64×64→128-bit products
// and 128/64 quotients from math/bits. Every operation truncates (or rounds
// half up) in a fixed, documented way; nothing depends on the CPU.
//
//   - exp(−x): x·log2 e split into an integer and a 64-bit fraction;
//     2^−fraction from a 64-entry table of 2^(−j/64) and a degree-8
//     polynomial. Error ≤ 2 ulp of Q63 (2.2e-19) absolute, so ≤ 1e-6
//     relative for x ≤ 29; exactly 0 for x ≥ 45.
//   - ½erfc(z): for |z| < 2 from the all-positive series of erf; for |z| ≥ 2
//     from an 80-term continued fraction. Error ≤ 200 ulp (2.2e-17) for
//     |z| < 2 (value ≥ 2.3e-3, so ≤ 1e-14 relative) and ≤ 1 ulp beyond, so
//     ≤ 1e-6 relative down to 1.1e-13 (z ≈ 5.1); exactly 0 for z ≥ 7. A rank
//     weight that underflows is < 1e-22 of the normaliser (≥ ½ since x_m ≥ 0)
//     and cannot change R at 1e-9.
//   - Constants (ln 2, log2 e, 1/√π, 2/√π, 1/√2, the table) are correctly
//     rounded literals, recomputed with math/big by the tests.
//   - R: per flow, exp's mantissa is multiplied by the (unnormalised) rank
//     weight before the exponent shift; the sum of weight × rating is kept
//     in 128 bits and divided once by the normaliser — the exact sum of the
//     same Q63 rank weights — rounding down to nano. So a full window of
//     flows rated 1 at the decision time gives R = 1 exactly (the published
//     calibration to the paisa, SPEC §6.3). Worst observed |R − the
//     double-precision formula| is 1e-9, the last unit.
//   - risk = ceil(amount · P·A·1e7 / (B·R)) and the skip limit
//     floor(L · B·R / (P·A·1e7)) are exact integer quotients; the parameter
//     bounds keep every product within 128 bits, and any result beyond int64
//     saturates to MaxInt64 (∞) rather than wrapping.
//
// # Defaults
//
// See DefaultParams for values and reasons; in short p = 1e-6 and a/b = 100
// give the published calibration (skip limit ₹50 at Risk_max 0.005, ₹200 at
// 0.020, for R = 1); N = 20, x_m = 10, x_d = 3 make the ten newest flows
// count almost fully; τ = 20 card-gaps lets a steady customer keep R ≈ 0.75.
//
// # Cost
//
// Build an Engine once per parameter set (~6 µs) and share it. With N = 20
// a reputation is ~0.5 µs and a decision ~25 ns, allocation-free
// (go test -bench . -benchmem).
package crms
