package main

import (
	"fmt"
	"strings"

	"github.com/bytepoints/bytepoints/node"
	"github.com/spf13/cobra"
)

func newJoinCmd(g *globals) *cobra.Command {
	var rpcs string
	cmd := &cobra.Command{
		Use:   "join",
		Short: "Configure a newly voted-in seller's home to start by state sync",
		Long: `Run this on the new seller's home once the members have voted it in
("tx propose add-seller" + "tx vote"). It takes a recent signed header from a
member's RPC as the light client's root of trust and enables state sync, so
the node downloads and verifies the latest snapshot instead of replaying the
chain from genesis. Then start the node: until a member has taken a snapshot
(every snapshots.interval blocks of its app.toml, 50 by default) and the
node has restored it, it stays at height 0 and its log prints "state sync:
waiting for a snapshot" every few seconds.`,
		Example: "  bytepointsd join --home ./net/seller-4 --rpc http://127.0.0.1:26657,http://127.0.0.1:26667",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, hash, err := node.ConfigureStateSync(cmd.Context(), g.home, strings.Split(rpcs, ","))
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{"trust_height": h, "trust_hash": hash})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "state sync enabled in %s: trusting header %d (%s)\nstart the node with: bytepointsd start --home %s\n"+
				"it stays at height 0 until the members' next snapshot is taken and restored (its log says so meanwhile)\n", g.home, h, hash, g.home)
			return nil
		},
	}
	cmd.Flags().StringVar(&rpcs, "rpc", "", "comma-separated RPC URLs of running members")
	must(cmd.MarkFlagRequired("rpc"))
	return cmd
}
