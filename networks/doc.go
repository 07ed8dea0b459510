// Package networks generates and runs multi-seller networks: one home per
// founding seller (keys, CometBFT config, shared genesis), all on loopback
// addresses, with libp2p (QUIC) or classic TCP transport; and the helpers
// that start those homes as separate processes and wait for blocks.
// networks/local holds the scripts behind `make localnet`.
package networks
