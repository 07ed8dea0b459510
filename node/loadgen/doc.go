// Package loadgen drives a network with pre-signed transactions and
// measures what it commits: the engine of `bytepointsd bench gen-txs` and
// `bytepointsd bench load`, and of the kvstore comparison in `make
// bench-network`. Throughput is counted from the committed blocks, each
// transaction once by its hash, so a transport that delivers a transaction
// twice, or a node that includes it twice, cannot inflate the figure.
package loadgen
