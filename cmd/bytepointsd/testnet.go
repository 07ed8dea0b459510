package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node"
	"github.com/spf13/cobra"
)

func newTestnetCmd(g *globals) *cobra.Command {
	o := node.NetworkOptions{}
	var sellers string
	var epochSeconds int64
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Generate the homes of a multi-seller network on this machine (loopback only)",
		Long: `Writes one home per founding seller under --dir DIR/<seller-id>/: its operator key,
validator and p2p keys, CometBFT config (addresses on loopback only), the
app config (gateway tokens are then made per terminal with "gateway token
create"), and the shared genesis naming every seller
as a member and an equal-power validator. Each node lists the others as
peers: libp2p (QUIC) by default, or classic TCP with --p2p tcp.

Start each with "bytepointsd start --home DIR/<seller-id>". DIR/network.json
lists every node's addresses and ids.`,
		Example: `  bytepointsd testnet --validators 4 --dir ./net
  bytepointsd testnet --validators 2 --dir ./net --sellers acme,bazaar --p2p tcp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sellers != "" {
				o.Sellers = strings.Split(sellers, ",")
				if o.Validators == 0 {
					o.Validators = len(o.Sellers) - o.Joiners
				}
			}
			if epochSeconds > 0 {
				p := app.DefaultParams()
				p.EpochSeconds = epochSeconds
				// Records must outlive an epoch (a void finds its
				// redemption): a long test epoch lengthens the retention.
				p.RecordRetentionSeconds = max(p.RecordRetentionSeconds, epochSeconds)
				o.Params = p
			}
			if o.Output == "" {
				return usagef("--dir is required: the directory to write the homes into")
			}
			m, err := node.GenerateNetwork(o)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), m)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "chain %s, %d homes in %s (transport %s)\n", m.ChainID, len(m.Homes), o.Output, m.Transport)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SELLER\tROLE\tHOME\tP2P\tRPC\tGATEWAY")
			for _, h := range m.Homes {
				role := "validator"
				if !h.Founding {
					role = "candidate"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.SellerID, role, h.Dir, h.P2P, h.RPC, h.Gateway)
			}
			tw.Flush()
			fmt.Fprintf(cmd.OutOrStdout(), "\nstart each node with: bytepointsd start --home %s/<seller-id>\n", o.Output)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Validators, "validators", 0, "number of founding sellers (validators)")
	f.IntVar(&o.Joiners, "candidates", 0, "extra homes of sellers not in genesis, to be voted in later")
	f.StringVar(&o.Output, "dir", "", "directory to write the homes into (must be empty or absent)")
	f.StringVar(&sellers, "sellers", "", "comma-separated seller ids (default seller-0, seller-1, ...)")
	f.StringVar(&o.ChainID, "chain-id", "bytepoints-local", "chain id")
	f.StringVar(&o.Transport, "p2p", node.TransportLibP2P, "p2p transport: libp2p (QUIC) or tcp")
	f.BoolVar(&o.DistinctIPs, "distinct-ips", false, "give node i the address 127.0.0.(i+1) with the same ports (else ports step by 10 on 127.0.0.1)")
	f.IntVar(&o.BasePort, "base-port", 26656, "p2p port of the first node; rpc is +1, gateway +2, metrics +3")
	f.DurationVar(&o.TimeoutCommit, "timeout-commit", time.Second, "CometBFT timeout_commit (block interval)")
	f.Int64Var(&o.Snapshots, "snapshot-interval", 50, "take a state-sync snapshot every N blocks (0 = off)")
	f.Int64Var(&epochSeconds, "epoch-seconds", 0, "settlement epoch length (default: 86400, a UTC day)")
	f.BoolVar(&o.Invariants, "check-invariants", false, "turn on the per-block invariant check in every home")
	return cmd
}
