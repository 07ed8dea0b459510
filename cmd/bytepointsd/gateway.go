package main

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

func newGatewayCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Manage the seller gateway's per-terminal API tokens",
		Long: `The seller gateway (docs/gateway.md) authenticates every request with a
bearer token of one terminal of this home's seller; the request is signed with
that terminal's key, so the chain records which till did what. Tokens are kept
only as SHA-256 hashes in the home (gateway.tokens_file, default
config/gateway_tokens.json, mode 0600). The running gateway sees a new or
revoked token at once, without a restart.`,
	}
	token := &cobra.Command{Use: "token", Short: "Create, list and revoke terminal tokens"}
	token.AddCommand(newGatewayTokenCreateCmd(g), newGatewayTokenListCmd(g), newGatewayTokenRevokeCmd(g))
	cmd.AddCommand(token)
	return cmd
}

// gatewayHome is the home's seller and token file.
func gatewayHome(g *globals) (string, string, error) {
	c, err := node.LoadAppConfig(g.home)
	if err != nil {
		return "", "", err
	}
	if c.SellerID == "" {
		return "", "", fmt.Errorf("%s names no seller_id", node.AppConfigFile)
	}
	return c.SellerID, c.Gateway.TokensPath(g.home), nil
}

func newGatewayTokenCreateCmd(g *globals) *cobra.Command {
	var terminal, keyName string
	var ratePerSecond float64
	var burst int
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a token for one of this seller's terminals; it is printed once",
		Long: `Creates an API token for --terminal and prints it once: only its hash is kept.
It first asks the home's node (or --node) that the terminal is an active
terminal of this home's seller whose key on chain is the keyring key --key
(default: the key named like the terminal), which will sign the terminal's
gateway requests. Register the terminal first:

  bytepointsd keys add till-1 --home H
  bytepointsd tx register-terminal --id till-1 --home H
  bytepointsd gateway token create --terminal till-1 --home H`,
		Example: "  bytepointsd gateway token create --terminal till-1 --home ./dev -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			seller, path, err := gatewayHome(g)
			if err != nil {
				return err
			}
			if err := types.ValidateTerminalID(terminal); err != nil {
				return fmt.Errorf("--terminal: %w", err)
			}
			if keyName == "" {
				keyName = terminal
			}
			key, err := loadKey(g, keyName)
			if err != nil {
				return fmt.Errorf("--key: %w (create it with `bytepointsd keys add %s` and register it with `bytepointsd tx register-terminal --id %s`)", err, keyName, terminal)
			}
			pub := key.Public().(ed25519.PublicKey)
			if err := checkTerminalOnChain(cmd, g, seller, terminal, keyName, pub); err != nil {
				return err
			}
			if ratePerSecond < 0 || burst < 0 {
				return fmt.Errorf("--rate-per-second and --burst must not be negative")
			}
			tok, rec, err := gateway.NewToken(seller, terminal, keyName, pub, time.Now())
			if err != nil {
				return err
			}
			rec.RatePerSecond, rec.Burst = ratePerSecond, burst
			if err := gateway.AddToken(path, rec); err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{
					"token": tok, "id": rec.ID, "seller_id": seller, "terminal_id": terminal, "key": keyName,
					"pubkey": rec.PubKey, "created_at": rec.CreatedAt.Format(time.RFC3339), "tokens_file": path,
				})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "token %s for terminal %s/%s (signs with key %q):\n\n  %s\n\n", rec.ID, seller, terminal, keyName, tok)
			fmt.Fprintf(w, "It is shown only now: store it in the terminal's configuration. %s keeps its hash.\n", path)
			fmt.Fprintf(w, "Use it as: Authorization: Bearer <token>. Revoke it with: bytepointsd gateway token revoke --id %s\n", rec.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&terminal, "terminal", "", "terminal id (registered with `tx register-terminal`)")
	cmd.Flags().StringVar(&keyName, "key", "", "keyring key that signs for the terminal (default: the key named like the terminal)")
	cmd.Flags().Float64Var(&ratePerSecond, "rate-per-second", 0, "this token's request rate limit (default: the gateway's rate_per_second)")
	cmd.Flags().IntVar(&burst, "burst", 0, "this token's burst (default: the gateway's rate_burst)")
	must(cmd.MarkFlagRequired("terminal"))
	return cmd
}

// checkTerminalOnChain asks the node that terminal is an active terminal
// of seller registered with pub.
func checkTerminalOnChain(cmd *cobra.Command, g *globals, seller, terminal, keyName string, pub []byte) error {
	url, err := rpcURL(g)
	if err != nil {
		return err
	}
	cl, err := client.Dial(cmd.Context(), url, nil)
	if err != nil {
		return fmt.Errorf("checking the terminal on chain: %w", err)
	}
	q, err := cl.Query(cmd.Context(), "/seller/"+seller, false)
	if err != nil {
		return fmt.Errorf("checking the terminal on chain: %w", err)
	}
	r, err := client.Decode[types.SellerResponse](q)
	if err != nil {
		return err
	}
	for _, t := range r.Terminals {
		if t.TerminalId != terminal {
			continue
		}
		if t.Status != types.TerminalStatus_TERMINAL_STATUS_ACTIVE {
			return fmt.Errorf("terminal %s/%s was revoked on chain at height %d; register a new terminal id", seller, terminal, t.RevokedHeight)
		}
		if !bytes.Equal(t.Pubkey, pub) {
			return fmt.Errorf("terminal %s/%s is registered with key %x, not with keyring key %q (%x); pass the right --key",
				seller, terminal, t.Pubkey, keyName, pub)
		}
		return nil
	}
	return fmt.Errorf("terminal %s is not a terminal of seller %s on chain (height %d); register it first: bytepointsd tx register-terminal --id %s --pubkey %s",
		terminal, seller, q.Height, terminal, keyName)
}

func newGatewayTokenListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the gateway tokens of this home (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, path, err := gatewayHome(g)
			if err != nil {
				return err
			}
			recs, err := gateway.LoadTokens(path)
			if err != nil {
				return err
			}
			if g.output == "json" {
				out := make([]map[string]any, 0, len(recs))
				for _, r := range recs {
					m := map[string]any{"id": r.ID, "seller_id": r.SellerID, "terminal_id": r.TerminalID, "key": r.KeyName,
						"pubkey": r.PubKey, "created_at": r.CreatedAt.Format(time.RFC3339), "status": tokenStatus(&r)}
					if r.RevokedAt != nil {
						m["revoked_at"] = r.RevokedAt.Format(time.RFC3339)
					}
					out = append(out, m)
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(recs) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no gateway tokens in %s (create one with `bytepointsd gateway token create --terminal T`)\n", path)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTERMINAL\tKEY\tCREATED\tSTATUS")
			for _, r := range recs {
				st := tokenStatus(&r)
				if r.RevokedAt != nil {
					st += " " + r.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.TerminalID, r.KeyName, r.CreatedAt.Format(time.RFC3339), st)
			}
			return tw.Flush()
		},
	}
}

func tokenStatus(r *gateway.TokenRecord) string {
	if r.Active() {
		return "active"
	}
	return "revoked"
}

func newGatewayTokenRevokeCmd(g *globals) *cobra.Command {
	var terminal, id string
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke one token (--id) or every token of a terminal (--terminal)",
		Long: `Revokes tokens in the home's token file. The running gateway refuses them with
401 from its next request on, without a restart. To stop a terminal for every
path (CLI and raw transactions too), also revoke it on chain with
"tx revoke-terminal".`,
		Example: "  bytepointsd gateway token revoke --terminal till-1 --home ./dev",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (terminal == "") == (id == "") {
				return fmt.Errorf("give exactly one of --terminal and --id")
			}
			_, path, err := gatewayHome(g)
			if err != nil {
				return err
			}
			revoked, err := gateway.RevokeTokens(path, func(r *gateway.TokenRecord) bool {
				return (id != "" && r.ID == id) || (terminal != "" && r.TerminalID == terminal)
			}, time.Now())
			if err != nil {
				return err
			}
			if len(revoked) == 0 {
				return fmt.Errorf("no active token matches (see `bytepointsd gateway token list`)")
			}
			if g.output == "json" {
				ids := make([]string, 0, len(revoked))
				for _, r := range revoked {
					ids = append(ids, r.ID)
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{"revoked": ids})
			}
			for _, r := range revoked {
				fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s of terminal %s\n", r.ID, r.TerminalID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&terminal, "terminal", "", "revoke every active token of this terminal")
	cmd.Flags().StringVar(&id, "id", "", "revoke the token with this id")
	return cmd
}
