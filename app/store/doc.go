// Package store is the ledger's storage: a small ordered key-value interface
// (KV) that the state machine reads and writes, an in-memory implementation
// for tests, a copy-on-write branch (Cache) that gives every transaction and
// every block its own view, and the committed store (DB): Badger underneath
// a 16-ary sparse Merkle trie over hashed keys (trie.go, after Aptos'
// Jellyfish Merkle tree) whose root is the app hash and which proves both
// membership and absence of a key (proof.go). docs/state.md says why this
// structure and what it costs.
//
// Badger is imported only here, in the files of the committed store:
// badger.go (DB, View, the commit), top.go (the journal and checkpoint of
// the trie's in-memory levels) and redo.go (commits too large for one
// Badger transaction). The rest of app/ sees KV and Reader. Open takes
// every setting as Options (cache sizes, memtable size, the crash tests'
// commit hook); the package has no mutable package-level state.
//
// A storage failure inside a read (disk error, corruption) is not a property
// of the transaction, so it must not turn into a deterministic-looking tx
// failure: readers panic with Fault, which the block runner lets through and
// the ABCI layer turns into a halting error.
package store
