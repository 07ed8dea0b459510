// Command bytepointsd is the Byte Points node and its command-line client:
// one binary to generate networks, run a seller's node, manage keys, submit
// transactions, query (with Merkle proofs), run the demo and the CRMS
// simulator.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		var ex *exitError
		if errors.As(err, &ex) {
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// exitError ends the process with a code after its output was printed
// (a rejected transaction prints its result and exits non-zero).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }
