// Package app is the Byte Points state machine: it turns genesis, blocks of
// transactions and queries into state, results and events. It is what every
// validator must compute identically, so it reads no clock, draws no random
// numbers, starts no goroutines, uses no floats and never lets map order
// reach state: block height and time come in from the ABCI adapter.
//
// The app knows nothing of CometBFT; package abci translates. Handlers live
// in ledger (points), settle (money and epochs), members (who may act) and
// crms (risk); this package decodes and authenticates transactions,
// dispatches them, runs each in its own branch of the block's state, drives
// block-level work (expiry, epoch close, governance), commits, and answers
// queries with optional Merkle proofs.
package app
