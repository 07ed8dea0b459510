package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/loadgen"
	"github.com/spf13/cobra"
)

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a network with pre-signed transactions and measure what it commits",
		Long: `gen-txs writes pre-signed purchases (one hex transaction per line, so any
tool can send them); load submits them to one or more nodes and measures the
committed throughput and submit-to-commit latency from the committed blocks.
make bench-network runs both against CometBFT's kvstore on the same homes.`,
	}
	cmd.AddCommand(newBenchGenCmd(g), newBenchLoadCmd(g))
	return cmd
}

func newBenchGenCmd(g *globals) *cobra.Command {
	o := loadgen.GenOptions{}
	var out string
	var extraHomes []string
	var kvstore bool
	var kvValue int
	cmd := &cobra.Command{
		Use:   "gen-txs",
		Short: "Write pre-signed purchases spread over sellers and terminals, one hex tx per line",
		Long: `Makes sure each seller home (--home, and every --seller-home) has
--terminals active terminals named bench-t0, bench-t1, ... (keys created in
its keyring, registered on chain by its operator when missing; the node must
be running), then writes --count purchases signed by those terminals, round
robin, with PIN-verified flows, customers drawn from a pool of --customers and
amounts from ₹1 to ₹5,000. All stay valid for --valid-for blocks (at most
the chain's 1,000), so generate them shortly before the load.

With --kvstore it writes "key=value" transactions for CometBFT's kvstore
example application instead (no node needed): the benchmark's baseline.`,
		Example: `  bytepointsd bench gen-txs --home ./net/seller-0 --seller-home ./net/seller-1 --count 100000 --out txs.hex
  bytepointsd bench gen-txs --kvstore --count 100000 --out kv.hex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			if o.Count <= 0 {
				return usagef("--count must be positive")
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			if kvstore {
				if err := loadgen.GenerateKVStore(f, o.Count, o.Seed, kvValue); err != nil {
					return err
				}
				return printResult(cmd, g, map[string]any{"txs": o.Count, "format": "kvstore", "out": out},
					fmt.Sprintf("wrote %d kvstore transactions to %s", o.Count, out))
			}
			o.Homes = append([]string{g.home}, extraHomes...)
			o.RPC = g.node
			if o.RPC == "" {
				if o.RPC, err = rpcURL(g); err != nil {
					return err
				}
			}
			o.Progress = func(done, total int) { fmt.Fprintf(cmd.ErrOrStderr(), "\rsigned %d / %d", done, total) }
			st, err := loadgen.GeneratePurchases(cmd.Context(), o, f)
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			return printResult(cmd, g, st, fmt.Sprintf("wrote %d purchases by %d terminals of %d sellers to %s (valid until height %d; %d terminals newly registered)",
				st.Txs, st.Terminals, st.Sellers, out, st.ValidUntil, st.Registered))
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "file to write (one hex transaction per line)")
	f.IntVar(&o.Count, "count", 0, "transactions to write")
	f.StringArrayVar(&extraHomes, "seller-home", nil, "another seller's home whose terminals also sign (repeatable)")
	f.IntVar(&o.TerminalsPerSeller, "terminals", 4, "terminals per seller")
	f.IntVar(&o.Customers, "customers", 50_000, "size of the customer pool")
	f.Uint64Var(&o.ValidFor, "valid-for", 900, "blocks the transactions stay valid")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of customers, amounts and idempotency keys (vary it between runs)")
	f.BoolVar(&kvstore, "kvstore", false, "write CometBFT kvstore transactions instead of purchases")
	f.IntVar(&kvValue, "kvstore-value-bytes", 200, "value size of kvstore transactions (a purchase envelope is about 250 bytes)")
	return cmd
}

func newBenchLoadCmd(g *globals) *cobra.Command {
	o := loadgen.LoadOptions{}
	var nodes, files string
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Submit pre-signed transactions to nodes and measure committed throughput and latency",
		Long: `Reads --files (hex transactions, one per line; comma-separated files are
sent in turn), submits each once with --concurrency workers spread over
--nodes (RPC URLs; default this home's node) for --duration, at --rate tx/s if
given, and walks every new block of the first node. It reports the offered
rate, the committed unique tx/s (from the blocks: each transaction counted
once by hash, however often it was delivered), refusals by code and by
"mempool full", and submit-to-commit p50/p90/p99.`,
		Example: "  bytepointsd bench load --nodes http://127.0.0.1:26657,http://127.0.0.2:26657 --files txs.hex --duration 30s --concurrency 64",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if files == "" {
				return usagef("--files is required")
			}
			if nodes == "" {
				u, err := rpcURL(g)
				if err != nil {
					return err
				}
				nodes = u
			}
			for _, n := range strings.Split(nodes, ",") {
				o.Nodes = append(o.Nodes, node.RPCURL(strings.TrimSpace(n)))
			}
			for _, p := range strings.Split(files, ",") {
				txs, err := loadgen.ReadTxFile(strings.TrimSpace(p))
				if err != nil {
					return err
				}
				o.Txs = append(o.Txs, txs...)
			}
			rep, err := loadgen.Load(cmd.Context(), o)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			rep.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&nodes, "nodes", "", "comma-separated node RPC URLs (default: this home's)")
	f.StringVar(&files, "files", "", "comma-separated files of hex transactions")
	f.DurationVar(&o.Duration, "duration", 30*time.Second, "how long to submit")
	f.IntVar(&o.Concurrency, "concurrency", 64, "concurrent submitters")
	f.Float64Var(&o.Rate, "rate", 0, "offered tx/s (0: as fast as accepted)")
	f.DurationVar(&o.Drain, "drain", 10*time.Second, "how long to watch blocks after submission for late commits")
	return cmd
}

// printResult prints v as JSON with -o json, else the text line.
func printResult(cmd *cobra.Command, g *globals, v any, text string) error {
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), v)
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), text)
	return err
}
