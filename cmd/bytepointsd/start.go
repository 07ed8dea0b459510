package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bytepoints/bytepoints/node"
	"github.com/spf13/cobra"
)

func newStartCmd(g *globals) *cobra.Command {
	var o node.Options
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run this seller's node in the foreground (Ctrl-C stops it cleanly)",
		Long: `Runs the node whose home is --home: CometBFT consensus and p2p, the ledger
application, the CometBFT RPC, the seller gateway and Prometheus metrics, as
configured in HOME/config/config.toml and HOME/config/app.toml.

On start the node replays any block its state missed (for instance after the
machine lost power mid-commit), so it always resumes at the same height and
app hash as before. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.`,
		Example: "  bytepointsd start --home ./net/seller-0 --check-invariants",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Keyring = g.keyringOptions()
			n, err := node.New(g.home, o)
			if err != nil {
				return err
			}
			if err := n.Start(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "node %s started: rpc %s", n.AppCfg.SellerID, n.RPCURL())
			if u := n.GatewayURL(); u != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), ", gateway %s", u)
			}
			fmt.Fprintln(cmd.ErrOrStderr())
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			select {
			case s := <-sig:
				fmt.Fprintf(cmd.ErrOrStderr(), "received %s, stopping\n", s)
			case <-n.Comet.Quit():
				fmt.Fprintln(cmd.ErrOrStderr(), "node stopped")
			case err := <-n.Halted():
				n.Stop()
				return fmt.Errorf("node halted: %w", err)
			}
			n.Stop()
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.CheckInvariants, "check-invariants", false, "check the conservation invariants after every block; halt with the broken one's name")
	cmd.Flags().BoolVar(&o.ForceTestKeyring, "force-test-keyring", false, "run with plaintext keys (keyring backend test) on a chain that is not local")
	cmd.Flags().StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, error or none")
	return cmd
}
