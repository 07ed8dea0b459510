package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/bytepoints/bytepoints/node"
	"github.com/spf13/cobra"
)

func newExportCmd(g *globals) *cobra.Command {
	var height, out, chainID string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the whole application state as the genesis of a chain restarted from it",
		Long: `Reads the committed state of the stopped node at --home and writes a CometBFT
genesis (--out) for a new chain --chain-id that starts from it: app_state holds
every record (sellers, terminals, customers, lots, history, CRMS windows,
positions, statements, idempotency records, proposals, params, upgrades),
initial_height is the exported height + 1, the validators are the sellers
with voting power. A node started from it re-checks the invariants and that
the state hashes to the exported app hash, which is its genesis app hash.

Only the latest committed height can be exported (state history is not
kept): stop every member's node at the same height, export, compare the
printed app hash and file digest among members, then restart from the file
(docs/upgrades.md, "Export and restart").`,
		Example: "  bytepointsd export --home ./net/seller-0 --height latest --chain-id bytepoints-2 --out genesis.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if height != "latest" {
				return usagef("--height: only latest can be exported (state history is not kept), not %q", height)
			}
			if out == "" {
				return usagef("give --out FILE")
			}
			gen, e, err := node.ExportGenesis(g.home, chainID)
			if err != nil {
				return err
			}
			if err := gen.SaveAs(out); err != nil {
				return err
			}
			bz, err := os.ReadFile(out)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(bz)
			res := map[string]any{"height": e.Height, "app_hash": e.AppHash, "entries": len(e.Entries), "chain_id": gen.ChainID,
				"initial_height": gen.InitialHeight, "out": out, "sha256": hex.EncodeToString(sum[:])}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported height %d, app hash %s, %d records\nwrote %s (sha256 %x): chain %s from height %d\n",
				e.Height, e.AppHash, len(e.Entries), out, sum, gen.ChainID, gen.InitialHeight)
			return nil
		},
	}
	cmd.Flags().StringVar(&height, "height", "latest", "the height to export: latest (the last committed)")
	cmd.Flags().StringVar(&out, "out", "", "the genesis file to write")
	cmd.Flags().StringVar(&chainID, "chain-id", "", "the restarted chain's id (must differ from the old one)")
	return cmd
}
