// Package sim is the offline CRMS what-if simulator of SPEC §8: it replays a
// year of payment traces through the very CRMS engine the chain runs
// (app/crms) and reports, for a sweep of Risk_max values, what skipping
// cardholder verification would have gained and risked. It also generates
// synthetic traces at the published scale, and exports what the on-chain
// replay needs to compare itself with the offline result.
//
// It is reporting code, not consensus code: floats are used for the
// statistics, the generator and the charts. Every decision, though, is made
// by crms.Engine in integer arithmetic, and the replay is single-threaded, so
// a report is a deterministic function of its input.
//
// # What it owns
//
//   - the trace CSV: Reader (streaming, allocation-free per row, errors with
//     line numbers) and Writer (trace.go); the flow a trace implies (flow.go);
//   - the synthetic generator (gen.go);
//   - the what-if: Simulate and its Report (simulate.go), with the tables,
//     CSV, JSON (report.go) and charts (charts.go);
//   - the offline twin of the on-chain replay: Replayer, ReplayOffline
//     (replay.go);
//   - what-if inputs: every CRMS parameter as a command-line override and
//     the rating table as a file (params.go), Risk_max sweeps (parse.go);
//   - a progress bar (progress.go).
//
// The cobra commands (`sim gen`, `sim crms`, `sim replay`) live in
// cmd/bytepointsd and only parse flags and print.
//
// # Trace format
//
// A header row, then one row per payment; columns are found by name:
//
//	card       card token (opaque; by convention 64 hex characters)
//	read_type  2 magstripe, 3 contact EMV, 5 contactless magstripe, 6 contactless EMV
//	date       local date YYYYMMDD
//	time       local time HHMMSS
//	type       1 sale, 6 refund
//	amount     in the traces' currency, up to 2 decimals (PLN for the published
//	           traces; inside, amounts are integer 1/100 units, the engine's
//	           "paise")
//	terminal   optional terminal id
//	shop       optional shop (seller) id: the owner of the risk budget
//	flow       optional CVM code 1..7 (crms.CVM: 1 PIN online OK, 2 PIN offline
//	           OK, 3 wrong PIN then OK, 4 wrong PIN aborted, 5 signature, 6 no
//	           CVM under the static limit, 7 no CVM granted by the CRMS)
//	cvm_ms     optional measured verification time, ms
//	auth       optional authorisation result, 1 approved, 2 declined (an
//	           addition to SPEC §8: the flow needs it and a decline rates 0)
//
// Local time is India Standard Time (UTC+05:30) unless told otherwise; the
// instant decides the card's history order and the UTC day decides the
// settlement epoch. Missing flow and auth are inferred (Trace.Flow): a
// contactless read at or under the 50.00 no-CVM limit had no CVM (the
// Polish limit of the published traces), another EMV read a PIN
// online, a magstripe swipe a signature; every payment is approved but one
// whose verification aborted after a wrong PIN (flow 4), which is declined.
// A row whose recorded flow contradicts itself (flow 4 with auth 1, refused
// by crms.ValidFlow as the chain refuses it) is an error with its line.
//
// # The replay
//
// Rows must be in time order (Simulate refuses a row earlier than the one
// before it, with its line number). For each row:
//
//   - A refund (type 6) changes nothing: it is not a payment decision and it
//     earns no reputation.
//   - A sale is a candidate when it went through a verification step the
//     CRMS could have skipped: its CVM is PIN (1-4), signature (5) or a
//     recorded CRMS skip (7). A contactless sale under the static limit (6)
//     had no verification to skip and gains nothing. Declined sales are
//     candidates too: the CRMS decides before authorisation.
//   - For a candidate, R = Engine.ReputationAt(card's window, t) is computed
//     once; then for every Risk_max of the sweep, Engine.Decide(R, amount,
//     Risk_max, context, used) with used = the risk that shop has already
//     taken at that Risk_max in the current UTC day (the settlement epoch).
//     A skip charges its risk to that counter with crms.ChargeBudget, the
//     chain's own rule (saturating at the budget), so the default 10.0-per-day
//     budget of crms.DefaultParams is exercised; a refusal for that reason is
//     counted as budget_refused. Sweeps are independent: each Risk_max has
//     its own budgets, as a chain running with that Risk_max would.
//   - Then every sale (candidate or not, approved or declined) appends the
//     trace's own flow, rated by the rating table, to the card's window
//     (crms.InsertInPlace, window N).
//
// The history is not rewritten by the what-if: a skipped payment still
// records the flow the trace observed (say a PIN, rating 1.0) rather than
// "no CVM granted by the CRMS" (0.7). The trace is what was observed; what
// the cardholder would have done without a PIN prompt is unknown. This makes
// R a property of the card alone, computed once and shared by all Risk_max
// values (so the sweep is monotone and cheap: one reputation and 16 decisions
// per candidate), and it is exactly what an on-chain replay submitting the
// traces' own flows computes, so the two can be compared bit for bit. Its
// bias is optimistic: a card that skips keeps rating 1.0 where a live system
// would record 0.7 and settle to a lower R.
//
// # Metrics (per Risk_max; per calendar month for the monthly series)
//
//	cards                 distinct cards with at least one sale (in the month:
//	                      active that month)
//	promoted cards        cards with at least one skipped verification, and %
//	                      of cards
//	sales, candidates     sales, and sales that had a verification (above)
//	skipped               candidates whose verification the CRMS skips; % of
//	                      all sales and % of candidates
//	amount skipped        Σ amount of the skipped sales, and % of the
//	                      amount of all sales
//	time gained           Σ over skipped sales of the trace's cvm_ms, or the
//	                      default 4.5 s when it has none (hours)
//	max loss with rep.    the theoretical maximum (expected) loss the CRMS
//	                      accepts: Σ over skipped sales of risk = amount · p ·
//	                      f(R), f(R) = a/(b·R), exactly Decision.Risk (the
//	                      engine rounds each risk up to 1e-9)
//	max loss without rep. the same bound for the policy one would run without
//	                      reputation: a static floor limit, skipping every
//	                      candidate whose amount is at most the limit a perfect
//	                      card gets (skip_limit_at_rmax: 50 at 0.005 … 200
//	                      at 0.020, context and hard cap included), whoever the
//	                      card. Each such payment is priced with the same risk
//	                      function at the card's actual reputation,
//	                      min(amount, amount · p · f(R)): a card with no usable
//	                      history (R = 0, f = ∞) can lose its whole amount. No
//	                      budget applies (the policy cannot price risk). The
//	                      naive policy's skips, amount and time gained are
//	                      reported next to it (naive_*), and its cost per
//	                      minute gained.
//	cost per minute       max loss with rep. / minutes gained
//	cost per skipped tx   max loss with rep. / skipped
//	cost per promoted card max loss with rep. / promoted cards
//	budget refused        decisions that passed every test but the shop's
//	                      epoch budget
//	skipped failed PIN    skips of attempts whose PIN was wrong and aborted
//	                      (CVM 4): the would-be fraud the CRMS let through
//	skip_limit_at_rmax    the calibration: the largest amount that skips at R
//	                      = Rmax (50 at 0.005, 200 at 0.020 by default)
//
// A ratio with a zero denominator is reported as 0. Why "without reputation"
// is defined this way: pricing the same skipped payments at R = Rmax would
// give a smaller bound than the CRMS's by construction (f(Rmax) is the least
// f) and say nothing; the question the figure answers is what the same
// calibrated limit costs when it cannot tell a regular customer from a card
// seen for the first time.
//
// The simulation starts with every history empty, so the first months show
// the reputation building up (few promotions in January, and the naive
// policy's bound dominated by first-time cards); read the later months for
// the steady state.
//
// # Generator
//
// Generate draws, with math/rand/v2's PCG seeded by the seed (same seed and
// options ⇒ byte-identical file on a given architecture; another CPU may
// fuse float operations differently). Amounts are in PLN, the published
// traces' currency. Since the paper's data is private, the distributions
// are calibrated to its published results (SPEC §8; targets, achieved
// figures and the reasoning in docs/crms-calibration.md; the values live in
// one place, genModel in gen.go):
//
//   - cards: 83 % occasional (1 + geometric(0.5) payments, at most 12: most
//     pay once or twice a year), 12 % regular (lognormal, median 13 a year),
//     5 % frequent (lognormal, median 91 a year, 37 to 700); the regular and
//     frequent cards' payments beyond their first are scaled by one common
//     factor (≈ 1.00 at the published scale) and rounded by largest
//     remainder, so the totals are exact. Occasional cards pay on random
//     days; regular and frequent cards at a steady rhythm over the year or,
//     for a fifth of them, a part of it (cards that arrive or leave);
//   - 18 shops of six kinds (5 grocery × 8 terminals, 3 pharmacy, 3 cafe, 2
//     fuel, 3 apparel, 2 electronics: 68 terminals), each with its share of
//     payments, opening hours and hourly profile, weekday rhythm; seasonal
//     factors; each card has a home shop and a second one;
//   - amounts lognormal per shop kind: median 24 zł at grocery, pharmacy and
//     cafe (σ 0.5, 0.35, 0.35), 180 zł for fuel, 155 zł apparel, 290 zł
//     electronics; overall median 26 zł, p90 145 zł, p99 ≈ 500 zł; some
//     rounded to whole złoty or 10 zł;
//   - read type and CVM: 5.6 % of cards have no contactless interface (chip
//     and PIN for every payment); the others tap 95.5 % of their payments at
//     or under the 50 zł no-CVM limit (70 % of all sales are contactless with
//     no CVM), and a tap asks for the PIN anyway when the card's offline
//     counters run out (15 consecutive taps, or 185 zł tapped since the last
//     PIN); above the limit they insert the chip, 6 % tap and PIN; 0.8 %
//     fallback swipes, a quarter of them signed;
//   - PIN outcomes: online (offline for 15 % of contact reads), wrong PIN
//     then OK (2.4 %), wrong PIN aborted (0.6 %, always declined); 3 % of
//     cards are five times as error-prone; 1.5 % other declines; 0.6 % of a
//     card's later payments are refunds of its previous sale;
//   - verification times lognormal: PIN ≈ 5 s (offline 4.2 s), wrong PIN
//     11 s, aborted 15 s, signature 18 s, clipped to [1.5 s, 60 s].
//
// Published-scale counts are exact: 2,463,203 traces, 293,795 cards, 68
// terminals, 18 shops, 2025-01-01 to 2025-12-31.
//
// # Comparing with the on-chain replay
//
// The replay itself (sample, time map, submission, comparison, report) is
// package sim/chainreplay. Reader and Trace.Flow give the rows and the PaymentFlow each implies;
// Trace.Rating the rating the ledger will freeze. Replayer (or ReplayOffline)
// applies Simulate's rules at one Risk_max and yields each purchase's
// crms.Decision and each card's final reputation (FinalReputations), for the
// chain's parameters passed in. For bit-exact agreement the chain must use
// the same Params and rating table, record the trace's own flow at the
// trace's TimeMs, and keep the same window N.
package sim
