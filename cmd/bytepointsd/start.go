package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bytepoints/bytepoints/app"
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
				return upgradeExit(cmd, err)
			}
			if err := n.Start(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "node %s started: rpc %s", n.AppCfg.SellerID, n.RPCURL())
			if u := n.GatewayURL(); u != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), ", gateway %s", u)
			}
			fmt.Fprintln(cmd.ErrOrStderr())
			done := make(chan struct{})
			defer close(done)
			if n.Config.StateSync.Enable && n.Comet.BlockStore().Height() == 0 {
				go reportStateSync(cmd.ErrOrStderr(), n, done)
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			select {
			case s := <-sig:
				fmt.Fprintf(cmd.ErrOrStderr(), "received %s, stopping\n", s)
			case <-n.Comet.Quit():
				fmt.Fprintln(cmd.ErrOrStderr(), "node stopped")
			case err := <-n.Halted():
				n.Stop()
				if errors.As(err, new(*app.UpgradeNeededError)) {
					return &exitError{code: exitUpgradeNeeded} // its line is logged
				}
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

// reportStateSync says, every few seconds, what a node started by state
// sync (after join) waits for, until it has a block: a snapshot the members
// offer (they take one every snapshots.interval blocks), then its chunks.
func reportStateSync(w io.Writer, n *node.Node, done <-chan struct{}) {
	start := time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	fmt.Fprintln(w, "state sync: waiting for a snapshot from the members (they take one every snapshots.interval blocks of their app.toml); the node stays at height 0 until one is restored")
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		if h := n.Comet.BlockStore().Height(); h > 0 {
			fmt.Fprintf(w, "state sync: snapshot restored after %s; at height %d, following the chain\n", time.Since(start).Round(time.Second), h)
			return
		}
		fmt.Fprintf(w, "state sync: still waiting for a snapshot (%s so far, height 0)\n", time.Since(start).Round(time.Second))
	}
}
