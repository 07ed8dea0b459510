package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

// exitUpgradeNeeded: `start` stopped, or refused to start, because this
// binary cannot apply the next block (a scheduled upgrade it has no
// handler for; upgrade-info.json names it) or the state's rules (an
// upgrade it does not carry was applied). docs/upgrades.md.
const exitUpgradeNeeded = 3

// upgradeExit turns an upgrade refusal into exit status 3 (printed once
// on stderr); other errors pass through.
func upgradeExit(cmd *cobra.Command, err error) error {
	var needed *app.UpgradeNeededError
	var missing *app.UpgradeMissingError
	if errors.As(err, &needed) || errors.As(err, &missing) {
		fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
		return &exitError{code: exitUpgradeNeeded}
	}
	return err
}

// newProposeUpgradeCmds are `tx propose software-upgrade` and
// `tx propose cancel-upgrade`.
func newProposeUpgradeCmds(propose func(*cobra.Command, *types.MsgPropose) error) []*cobra.Command {
	var plan types.UpgradePlan
	schedule := &cobra.Command{
		Use:   "software-upgrade",
		Short: "Propose a software upgrade: from block --height on, the chain runs the rules of handler --name",
		Long: `Once passed, the plan is in state (query upgrade). Nodes whose binary has no
handler named --name stop before applying block --height: they log one line,
write HOME/data/upgrade-info.json ({"name","height","info"}, what cosmovisor
reads) and exit with status 3. Restarted on a binary that has the handler,
they run its migration in block --height and go on. A later proposal replaces
the plan; cancel-upgrade drops it. See docs/upgrades.md.`,
		Example: `  bytepointsd tx propose software-upgrade --home ./net/seller-0 --name v2 --height 120000 --info "https://example.org/bytepointsd-v2"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if plan.Name == "" || plan.Height <= 0 {
				return usagef("give --name and a positive --height")
			}
			p := plan
			return propose(cmd, &types.MsgPropose{Action: &types.MsgPropose_SoftwareUpgrade{SoftwareUpgrade: &p}})
		},
	}
	schedule.Flags().StringVar(&plan.Name, "name", "", "the upgrade handler's name (e.g. v2)")
	schedule.Flags().Int64Var(&plan.Height, "height", 0, "the first block run under the new rules")
	schedule.Flags().StringVar(&plan.Info, "info", "", "a URL or text for operators (cosmovisor reads binary URLs from it)")

	var name string
	cancel := &cobra.Command{
		Use:     "cancel-upgrade",
		Short:   "Propose cancelling the scheduled software upgrade (before its height)",
		Example: `  bytepointsd tx propose cancel-upgrade --home ./net/seller-0 --name v2`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return propose(cmd, &types.MsgPropose{Action: &types.MsgPropose_CancelUpgrade{CancelUpgrade: &types.CancelUpgrade{Name: name}}})
		},
	}
	cancel.Flags().StringVar(&name, "name", "", "cancel only if the scheduled upgrade has this name")
	return []*cobra.Command{schedule, cancel}
}

// queryRun is newQueryCmd's runner: it queries path and renders the answer.
type queryRun func(cmd *cobra.Command, path string, render func(w io.Writer, q *client.QueryResult) (any, error)) error

func newQueryUpgradeCmd(run queryRun) *cobra.Command {
	return &cobra.Command{
		Use: "upgrade", Short: "The scheduled software upgrade, the applied ones and the app version", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, "/upgrade", func(w io.Writer, q *client.QueryResult) (any, error) {
				r, err := client.Decode[types.UpgradeStatus](q)
				if err != nil {
					return nil, err
				}
				out := map[string]any{"app_version": r.AppVersion, "plan": nil}
				if p := r.Plan; p != nil {
					out["plan"] = map[string]any{"name": p.Name, "height": p.Height, "info": p.Info, "proposal_id": p.ProposalId}
					fmt.Fprintf(w, "scheduled: %s at height %d (proposal %d)", p.Name, p.Height, p.ProposalId)
					if p.Info != "" {
						fmt.Fprintf(w, ", info: %s", p.Info)
					}
					fmt.Fprintln(w)
				} else {
					fmt.Fprintln(w, "no upgrade scheduled")
				}
				done := []map[string]any{}
				for _, d := range r.Done {
					done = append(done, map[string]any{"name": d.Name, "height": d.Height, "app_version": d.AppVersion})
					fmt.Fprintf(w, "applied: %s at height %d (app version %d)\n", d.Name, d.Height, d.AppVersion)
				}
				out["done"] = done
				fmt.Fprintf(w, "app version %d\n", r.AppVersion)
				return out, nil
			})
		},
	}
}
