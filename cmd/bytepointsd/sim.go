package main

import "github.com/spf13/cobra"

// newSimCmd is the CRMS what-if simulator (package sim): `sim gen` and
// `sim crms` run offline; `sim replay` submits traces to a running network.
func newSimCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Offline CRMS what-if simulation over payment traces",
		Long: `sim replays a year of payment traces through the same CRMS code the chain
runs (reputation and skip decision, SPEC §6) and reports what skipping
cardholder verification would have gained and risked, for a sweep of
Risk_max values (SPEC §8). gen and crms run offline: no node, no chain.

  bytepointsd sim gen  --out traces.csv --seed 1            synthetic year, published scale
  bytepointsd sim crms --traces traces.csv --out ./sim-out  the what-if report
  bytepointsd sim replay --traces traces.csv --home H       on-chain vs offline, exact

Amounts are in the traces' own currency (the published traces are in PLN;
the default sweep's skip limits, 50 to 200 at R = 1, are in that unit).`,
	}
	cmd.AddCommand(newSimGenCmd(g), newSimCRMSCmd(g), newSimReplayCmd(g))
	return cmd
}
