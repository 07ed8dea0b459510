// Package lint holds checks over the repository's own source that `make
// test` runs as ordinary tests (test support, like the rest of internal/:
// never imported by product code).
//
// wallclock.go: tests under networks/, node/ and cmd/ must not judge by
// elapsed wall time. They wait on heights, events or results; a clock may
// only bound a wait (a deadline whose expiry fails the test as a timeout) or
// pace a poll, and such a use says so with a marker comment on its line or
// the line above:
//
//	time.Sleep(100 * time.Millisecond) //wallclock:ok polls query tx until the hash is committed
package lint
