// Package state is the typed view of the ledger's key-value state that the
// handlers share: the execution context of one transaction or block step
// (Ctx), and get/put helpers for every record kind, each going through the
// single key layout in package types.
package state
