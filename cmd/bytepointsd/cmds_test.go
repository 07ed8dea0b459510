package main

import "github.com/spf13/cobra"

type cobraCommand = cobra.Command

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, s := range c.Commands() {
		if s.Name() == "help" || s.Name() == "completion" {
			continue
		}
		out = append(out, allCommands(s)...)
	}
	return out
}
