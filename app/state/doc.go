// Package state is the typed view of the ledger's key-value state that the
// handlers share: the execution context of one transaction or block step
// (Ctx), the raw get/put of records (each key from the single layout in
// package types) and the chain's own records (parameters, totals, clock).
// Each module keeps its own records' accessors (its records.go).
package state
