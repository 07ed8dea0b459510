// Package upgrade owns governed software upgrades (SPEC §7b, modelled on
// Cosmos SDK x/upgrade): the scheduled plan and the applied upgrades in
// state, the checks and effects of the software_upgrade and cancel_upgrade
// proposals, the per-block step that runs a handler's migration once at the
// plan's height, and the /upgrade query.
//
// Handlers are compiled in, not read from state: a binary carries the
// handlers of the upgrades it knows (Handlers), production ones in
// handlers.go and the test-only v2-test behind the upgradetest build tag.
// Whether a binary can apply a block at a plan's height is the one place
// where two binaries legitimately differ; the chain's state never depends
// on it, because a binary without the handler applies no block at that
// height at all (Begin refuses, the node stops: docs/upgrades.md).
package upgrade
