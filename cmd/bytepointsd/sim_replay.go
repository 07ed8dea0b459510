package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newSimReplayCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "replay",
		Short: "Submit traces' purchases to a running network and compare on-chain CRMS with the offline simulation",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("not implemented yet")
		},
	}
}
