package main

import "github.com/spf13/cobra"

// newAuditCmd groups the auditor's commands (docs/audit.md): they trust one
// header, obtained out of band, and verify everything else against it.
func newAuditCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "audit",
		Short: "Verify the ledger from one trusted header, and export what was verified",
		Long: `An auditor trusts one header (its height and hash, from any member, out of
band) and nothing else. The audit commands walk headers forward from it with
CometBFT's light client, check every answer's Merkle proofs against the
light-client-verified app hash, and say what they checked.`,
	}
	c.AddCommand(auditSubcommands(g)...)
	return c
}

// auditSubcommands lists the audit group's commands.
func auditSubcommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newAuditVerifyCmd(g), newAuditReportCmd(g)}
}
