// Package harness runs bytepointsd as separate OS processes for tests and
// the network benchmark: it builds (or finds) the binary, starts and stops
// nodes, and finds free port ranges. Product code never imports it.
package harness
