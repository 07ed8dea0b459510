package main

import (
	"context"
	"strings"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/spf13/cobra"
)

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

// auditSource is where an audit command reads from and what it trusts.
type auditSource struct {
	rpc   string
	trust trustFlags
}

func (s *auditSource) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.rpc, "rpc", "", "primary node's RPC URL, http://host:port, then witnesses' URLs, comma-separated (default: --node, else the RPC address in the --home config)")
	s.trust.register(cmd.Flags())
}

func (s *auditSource) dial(ctx context.Context, g *globals) (*client.Client, string, error) {
	url := s.rpc
	if url == "" {
		var err error
		if url, err = rpcURL(g); err != nil {
			return nil, "", err
		}
	}
	urls := strings.Split(url, ",")
	cl, err := client.Dial(ctx, urls[0], nil)
	if err != nil {
		return nil, "", err
	}
	s.trust.witnesses = append(s.trust.witnesses, urls[1:]...)
	if err := s.trust.apply(ctx, g, cl); err != nil {
		return nil, "", err
	}
	return cl, urls[0], nil
}
