// Command bytepointsd is the Byte Points node and its command-line client:
// one binary to generate networks, run a seller's node, manage keys, submit
// transactions, query (with Merkle proofs), run the demo and the CRMS
// simulator.
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

func main() {
	os.Exit(runAs(os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses, documented in the root command's help (exitStatusHelp).
const (
	exitOK = 0
	// exitFailed: a refused transaction, a bad command line, any error.
	exitFailed = 1
	// exitNotCommitted: a broadcast transaction was not seen committed
	// within --timeout. It may still commit: retry with the printed
	// command (the same idempotency key books at most once) or look it up
	// with query tx. 75 is EX_TEMPFAIL of sysexits.h: try again later.
	exitNotCommitted = 75
)

const exitStatusHelp = `Exit status:
  0   success (a booking committed, or replayed the original result)
  1   a refused transaction (its code and log are printed), a bad command
      line, or any other error
  3   start: this binary cannot go on (a scheduled software upgrade it has
      no handler for, named in HOME/data/upgrade-info.json; or an applied
      upgrade it does not carry): switch binaries (docs/upgrades.md)
  75  not committed within --timeout: the transaction may still commit.
      The idempotency key, the command to retry safely and the query tx
      command to look it up are printed (stderr, or stdout with -o json).`

// run executes the command line as "bytepointsd" would.
func run(args []string, stdout, stderr io.Writer) int {
	return runAs("bytepointsd", args, stdout, stderr)
}

// runAs executes the command line, prog being how the binary was invoked
// (for the commands it prints), and returns the process's exit status. An
// error is printed once: as {"error", "code", "code_name"} on stdout when
// the output is JSON (-o json), else as text on stderr.
func runAs(prog string, args []string, stdout, stderr io.Writer) int {
	root, g := newRootCmd()
	g.prog, g.args = prog, args
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.code // the result was printed already
	}
	code := errorCode(err)
	if g.output == "json" || wantsJSON(args) {
		out := map[string]any{"error": err.Error(), "code": uint32(code), "code_name": code.Name()}
		var nc *client.ErrNotCommitted
		if errors.As(err, &nc) {
			out["tx_hash"] = hex.EncodeToString(nc.TxHash) // to poll
		}
		_ = printJSON(stdout, out)
	} else {
		fmt.Fprintln(stderr, "Error:", err)
	}
	var nc *client.ErrNotCommitted
	if errors.As(err, &nc) {
		return exitNotCommitted
	}
	return exitFailed
}

// errorCode classifies a command's error with the SPEC's codes: a refusal
// keeps its code, a commit not seen in time is not_committed, a usage
// error (unknown command or flag, bad flag value) is invalid_argument, and
// anything else (a node that does not answer, a file that cannot be read)
// is internal.
func errorCode(err error) types.Code {
	var te *types.Error
	var qe *client.QueryError
	var nc *client.ErrNotCommitted
	var ue *usageError
	var ve *client.VerificationError
	switch {
	case errors.As(err, &ve):
		return types.CodeVerificationFailed
	case errors.Is(err, client.ErrNoTrustRoot):
		return types.CodeInvalidArgument
	case errors.As(err, &te):
		return te.Code
	case errors.As(err, &qe):
		return qe.Code
	case errors.As(err, &nc):
		return types.CodeNotCommitted
	case errors.As(err, &ue), isCobraUsageError(err):
		return types.CodeInvalidArgument
	}
	return types.CodeInternal
}

// usageError is a bad command line found by a command itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef reports a bad command line (invalid_argument, exit status 1).
func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// isCobraUsageError recognises cobra's and pflag's parse errors, which
// carry no type of their own.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument",
		"flag needs an argument", "required flag(s)", "accepts ", "bad flag syntax", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

// wantsJSON finds -o json on a command line that failed before its flags
// were parsed (an unknown command or flag).
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-ojson" || a == "--output=json" || a == "-o=json":
			return true
		case (a == "-o" || a == "--output") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// exitError ends the process with a code after its output was printed
// (a rejected transaction prints its result and exits non-zero).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }
