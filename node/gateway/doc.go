// Package gateway is a seller node's REST API for POS integrators (SPEC
// §9): per-terminal bearer tokens (stored as hashes in the home), the
// HTTP routes with their request and response types, from which the
// OpenAPI 3.1 document is generated (huma), one error shape with the SPEC
// codes, per-token rate limits and the gateway's metrics.
//
// A request acts as the terminal its token names and is signed with that
// terminal's key, so the chain records which till did what; the seller's
// operator key is never used here. Idempotency is the chain's: the
// Idempotency-Key header becomes the transaction's idempotency key, and
// the (terminal key, idempotency key) pair books at most once (SPEC §4).
//
// Every answer carries an X-Request-Id; request bodies are read by package
// strictjson (one JSON object, no duplicate or unknown names); a path the
// ServeMux would redirect is refused instead; routes without a token
// (healthz, the OpenAPI documents and whatever is Mounted, such as the
// audit page) are limited per client address. The OpenAPI document is the
// contract: its enums come from types' vocabulary tables, its answer
// schemas are open to added fields and its request schemas closed
// (openapi.go), and node's tests validate every captured answer against it.
//
// The package serves an http.Handler; package node listens (loopback by
// default, TLS when configured) and gives it the running node's state.
package gateway
