package main

import (
	"github.com/bytepoints/bytepoints/sim"
	"github.com/spf13/cobra"
)

// newSimCmd is the CRMS what-if simulator (package sim) plus `sim replay`,
// which submits traces to a running network.
func newSimCmd(g *globals) *cobra.Command {
	cmd := sim.Command()
	cmd.AddCommand(newSimReplayCmd(g))
	return cmd
}
