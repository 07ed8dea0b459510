package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"text/tabwriter"

	"github.com/bytepoints/bytepoints/node"
	"github.com/spf13/cobra"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the home's Ed25519 signing keys (operator, terminals, wallets)",
		Long: `Keys live in HOME/keyring/<name>.json, readable only by their owner (0600).
The key called "operator" signs for the seller (terminal registration,
settlement, governance). Create one key per terminal and register its public
key with "tx register-terminal"; a terminal's key may then sign purchases and
redemptions for that terminal only.`,
	}
	add := &cobra.Command{
		Use:     "add NAME",
		Short:   "Create a new key called NAME",
		Example: "  bytepointsd keys add till-1 --home ./net/seller-0",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := node.AddKey(g.home, args[0])
			if err != nil {
				return err
			}
			return showKey(cmd, g, args[0], pub)
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys in the home's keyring",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := node.ListKeys(g.home)
			if err != nil {
				return err
			}
			if g.output == "json" {
				out := make([]map[string]string, 0, len(keys))
				for _, k := range keys {
					out = append(out, map[string]string{"name": k.Name, "type": k.Type, "pub_key": k.PubKey})
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(keys) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no keys in %s\n", g.home)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tPUBLIC KEY")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, k.Type, k.PubKey)
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key's public part",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := node.LoadKey(g.home, args[0])
			if err != nil {
				return err
			}
			return showKey(cmd, g, args[0], k.Public().(ed25519.PublicKey))
		},
	}
	cmd.AddCommand(add, list, show)
	return cmd
}

func showKey(cmd *cobra.Command, g *globals, name string, pub ed25519.PublicKey) error {
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), map[string]string{"name": name, "type": "ed25519", "pub_key": hex.EncodeToString(pub)})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s  ed25519  %s\n", name, hex.EncodeToString(pub))
	return nil
}
