// Package chainreplay is the on-chain replay of `bytepointsd sim replay`: a
// sample of a trace file goes to a running chain as Purchases, each carrying
// the trace's own payment flow, and the chain's CRMS is compared EXACTLY with
// the offline engine (sim.Replayer) run over the same rows with the chain's
// own CRMS parameters and rating table (read from /params, never the
// defaults).
//
// # What it owns
//
//   - the sample: which rows of a trace file are replayed, their
//     idempotency keys, their order (sample.go);
//   - the time map from trace time to payment time (timemap.go);
//   - the comparison of what the chain did with what the offline engine
//     decides, pure functions of both (compare.go);
//   - the submission pipeline over node/client and the chain's RPC
//     (submit.go), and the chain's parameters as the engine needs them
//     (chain.go);
//   - the report (report.go).
//
// # Sample
//
// The trace rows in file order, keeping only the first Cards cards if given,
// up to Limit rows. Refunds (type 6) are left out (they record no flow and
// are no payment decision) and so are zero-amount sales (a Purchase must be
// positive); declined sales are submitted (their flow rates 0). The sample is
// replayed in time order (file order among equal times). Customer id = the
// card token, amount = the trace amount, flow = the trace's flow (inferred
// when the file has no flow column), as `sim crms` reads it.
//
// # Time
//
// A purchase's payment time must lie within [block time − max_payment_lag,
// block time + max_payment_lead] and traces are from the past, so every
// trace time t is mapped to
//
//	t' = base + (t − t0) / K          (integer ms, K a whole number)
//
// t0 the sample's first time, base chosen so the newest row lands a minute
// before the chain's latest block time and the oldest at least Margin inside
// the lag window. K = 1 (real spacing) when the sample spans less than the
// window, else the smallest K that fits (or Options.TimeScale). The map is
// monotone, so the order is kept. Reputation depends on gaps (AvgT, its
// floor, τ), so a compressed replay does not reproduce the uncompressed
// what-if's R values; the offline side is therefore run over the same t',
// which makes the comparison exact.
//
// # Submission
//
// Transactions are broadcast one at a time, up to Window of them awaiting
// their commit, in time order, except that a row which has to wait lets
// other cards' rows go first (a card's rows always keep their order, and so
// do the flow-7 rows, which share the seller's budget). A card never has two
// purchases of the same t' in flight: ties in a history are broken by
// arrival, on chain and offline alike. A row whose flow is 7 ("no CVM granted
// by the CRMS") is re-checked by the chain against the card's history and
// the seller's epoch risk budget: it is sent when none of its card's rows is
// in flight and the card's later rows wait for its commit, so the chain sees
// exactly the card's earlier rows. The seller's epoch risk is read from the
// chain once (and again after a replayed re-check), then mirrored as the app
// keeps it (crms.ChargeBudget), in the order the blocks executed the
// re-checks; a new epoch (by block time) starts at 0. Replay through a
// seller that is otherwise idle: anything else charging its budget
// (CRMS-authorised redemptions) would show as mismatches.
//
// # Idempotency
//
// Each row's key is a hash of the row's fields and its occurrence number, so
// running the same replay again books nothing twice: rows come back
// "replayed" with their original results (a duplicate's result names the
// original transaction in its Info field), and the time map is read back
// from the first row's original transaction (its memo). Keys are remembered
// for ValidFor blocks (default: the chain's max_valid_ahead_blocks); a re-run
// after that would issue again, so a fresh run refuses cards that already
// have on-chain payments.
//
// # Checks
//
// After every purchase committed:
//
//	per flow-7 purchase   crms_violation and crms_reason of the
//	                      PurchaseResult, and R and risk of its crms event,
//	                      against the offline decision (CheckFlow7)
//	per card              /crms/{card}/{probe}/{seller}/0: reputation at the
//	                      answer's block time, the decision for the probe
//	                      amount (cvm required, reason, risk, risk max, skip
//	                      limit, with the epoch risk the answer reports) and
//	                      the number of payments on record (CompareCard)
//
// Any mismatch (or a purchase that was not booked) is listed and the report
// is not OK.
package chainreplay
