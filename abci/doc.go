// Package abci adapts the state machine (package app) to CometBFT's ABCI
// Application interface. It only translates: requests in, codes, events,
// validator updates and snapshots out. No ledger rule lives here.
package abci
