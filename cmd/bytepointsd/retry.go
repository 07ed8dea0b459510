package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

// A booking that timed out is retried by running the same command with the
// idempotency key it used: the ledger then books at most once, and the
// retry prints the original result ("replayed": true) once it committed.
// These build the commands printed for that.

// retryCommand is the command line as invoked, with --idempotency-key key
// (replacing any given) and without --timeout (a retry waits the default).
func retryCommand(g *globals, key string) string {
	args := withoutFlags(g.args, "--idempotency-key", "--timeout")
	args = append(args, "--idempotency-key", key)
	return shellJoin(g.prog, args)
}

// lookupCommand is the query tx command for hash, reaching the same node
// as the command line (its --home and --node).
func lookupCommand(g *globals, hash []byte) string {
	args := []string{"query", "tx", hex.EncodeToString(hash)}
	args = append(args, onlyFlags(g.args, "--home", "--node")...)
	return shellJoin(g.prog, args)
}

// withoutFlags drops the named flags (and their values) from args.
func withoutFlags(args []string, names ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name, hasValue := flagName(args[i])
		if !contains(names, name) {
			out = append(out, args[i])
			continue
		}
		if !hasValue {
			i++ // the value is the next argument
		}
	}
	return out
}

// onlyFlags keeps the named flags (with their values) from args.
func onlyFlags(args []string, names ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name, hasValue := flagName(args[i])
		if !contains(names, name) {
			continue
		}
		out = append(out, args[i])
		if !hasValue && i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}

// flagName splits "--name=value" or "--name"; hasValue reports the first.
func flagName(a string) (name string, hasValue bool) {
	if !strings.HasPrefix(a, "--") {
		return "", false
	}
	name, _, hasValue = strings.Cut(a, "=")
	return name, hasValue
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shellJoin quotes each word for a POSIX shell where it needs it.
func shellJoin(prog string, args []string) string {
	words := make([]string, 0, len(args)+1)
	for _, a := range append([]string{prog}, args...) {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printNotCommitted reports a booking that was not seen committed in time:
// its hash, the idempotency key and the commands to retry it safely and to
// look it up. JSON goes to stdout (the error shape plus those fields),
// text to stderr. The caller exits with exitNotCommitted.
func printNotCommitted(cmd *cobra.Command, g *globals, nc *client.ErrNotCommitted) error {
	retry, lookup := retryCommand(g, nc.IdempotencyKey), lookupCommand(g, nc.TxHash)
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), map[string]any{
			"error": nc.Error(), "code": uint32(types.CodeNotCommitted), "code_name": types.CodeNotCommitted.Name(),
			"tx_hash": hex.EncodeToString(nc.TxHash), "idempotency_key": nc.IdempotencyKey,
			"timeout": nc.Timeout.String(), "retry_command": retry, "query_command": lookup,
		})
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "Error: %v\n", nc)
	fmt.Fprintf(w, "idempotency key: %s\n", nc.IdempotencyKey)
	fmt.Fprintf(w, "retry (books at most once, prints the original result if it committed):\n  %s\n", retry)
	fmt.Fprintf(w, "or look it up:\n  %s\n", lookup)
	return nil
}
