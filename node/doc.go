// Package node runs one seller's node: a CometBFT v0.40 node in-process with
// the Byte Points application (local ABCI client), its Badger state, the
// seller gateway (REST), Prometheus metrics and the member-only peer policy.
// It also owns the layout of a node's home directory, its app
// configuration and its key files, and a joining seller's state-sync
// configuration (join.go). No globals: everything hangs off a Node.
package node
