// Package types holds what every layer shares: the generated protobuf
// messages (proto/bytepoints/v1), identifier validation, the fixed ABCI error
// codes, the state key layout, events, sign bytes and checked arithmetic.
//
// It imports nothing from the rest of the module, so the state machine
// (app), the ABCI adapter (abci), the node and the CLI can all depend on it.
package types
