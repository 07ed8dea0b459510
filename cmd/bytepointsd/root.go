package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// globals holds the persistent flags; commands read it, never package vars.
type globals struct {
	home   string
	output string
	node   string

	// prog and args are the command line as invoked, to print a command
	// that retries it.
	prog string
	args []string
	// keyring flags (keys.go)
	keyringBackend string
	passphraseFile string
}

func defaultHome() string {
	if h := os.Getenv("BYTEPOINTS_HOME"); h != "" {
		return h
	}
	d, err := os.UserHomeDir()
	if err != nil {
		return ".bytepoints"
	}
	return filepath.Join(d, ".bytepoints")
}

func newRootCmd() (*cobra.Command, *globals) {
	g := &globals{}
	root := &cobra.Command{
		Use:   "bytepointsd",
		Short: "Byte Points: a coalition loyalty ledger run by its sellers",
		Long: `bytepointsd runs a Byte Points seller node (a CometBFT validator with the
ledger application in-process) and is also its command-line client.

Customers earn points at any participating seller (1 point = ₹1; the issuer
pays their value into a shared escrow) and spend them at any seller (the
escrow reimburses whoever accepts them). Every seller runs a node; the nodes
agree block by block on every issuance, redemption and settlement statement.

Start here:
  bytepointsd demo                              the worked example, self-contained
  bytepointsd testnet --validators 4 --dir ./net
  bytepointsd start --home ./net/seller-0
  bytepointsd tx purchase --home ./net/seller-0 --customer C --amount 100.00

` + exitStatusHelp,
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once
	}
	root.PersistentFlags().StringVar(&g.home, "home", defaultHome(), "node home directory (env BYTEPOINTS_HOME)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&g.node, "node", "", "node RPC URL (default: the RPC address in the home's config)")
	addKeyringFlags(root, g)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.output != "text" && g.output != "json" {
			return usagef("--output must be text or json, not %q", g.output)
		}
		return nil
	}
	root.AddCommand(
		newVersionCmd(g),
		newInitCmd(g),
		newJoinCmd(g),
		newStartCmd(g),
		newKeysCmd(g),
		newTxCmd(g),
		newQueryCmd(g),
		newTestnetCmd(g),
		newDemoCmd(g),
		newSimCmd(g),
		newBenchCmd(g),
		newGatewayCmd(g),
		newAuditCmd(g),
		newReportCmd(g),
		newExportCmd(g),
		newImportCmd(g),
	)
	strictGroups(root)
	return root, g
}

// strictGroups makes every command that only groups others (the root, tx,
// query, keys, ...) refuse a mistyped subcommand with an error and a
// non-zero exit status, instead of printing its help and exiting 0; given
// no subcommand it prints its help.
func strictGroups(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.NoArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	for _, s := range c.Commands() {
		strictGroups(s)
	}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
