package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/spf13/cobra"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of bytepointsd, its app protocol and CometBFT",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hs := upgrade.Handlers()
			av := upgrade.MaxAppVersion(hs)
			v := map[string]any{"bytepointsd": abci.Version, "app_version": av, "upgrades": upgrade.Names(hs), "cometbft": cometVersion(), "go": runtime.Version()}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bytepointsd %s (app protocol %d, CometBFT %s, %s)\n", abci.Version, av, cometVersion(), runtime.Version())
			return nil
		},
	}
}

// cometVersion is the CometBFT module version this binary was built with.
func cometVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/cometbft/cometbft" {
				return d.Version
			}
		}
	}
	return "unknown"
}
