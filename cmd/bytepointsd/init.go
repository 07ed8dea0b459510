package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/keyring"
	"github.com/spf13/cobra"
)

func newInitCmd(g *globals) *cobra.Command {
	var seller, chainID, transport string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a single-seller development chain in --home",
		Long: `Creates a home for a one-seller chain: keys, config, and a genesis with this
seller as the only member and validator. On a chain id that is not local
(see docs/keys.md) the keys are encrypted (keyring backend file) with the
passphrase from --keyring-passphrase-file, BYTEPOINTS_KEYRING_PASSPHRASE or a
prompt. Good for trying the CLI; a real
coalition is generated with "testnet" (or joins by governance).`,
		Example: "  bytepointsd init --home ./dev --seller my-shop && bytepointsd start --home ./dev",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(filepath.Join(g.home, "config")); err == nil {
				return fmt.Errorf("%s already holds a node home", g.home)
			}
			// A local chain (node.LocalChainID) keeps plaintext keys; any
			// other gets the encrypted file keyring unless told otherwise.
			backend := g.keyringBackend
			if backend == "" {
				backend = keyring.BackendTest
				if !node.LocalChainID(chainID) {
					backend = keyring.BackendFile
				}
			}
			var pass string
			switch backend {
			case keyring.BackendTest:
			case keyring.BackendFile:
				p, err := newPassphrase(g)()
				if err != nil {
					return fmt.Errorf("chain %s is not local, so its keys are encrypted: %w (or pass --keyring-backend test)", chainID, err)
				}
				pass = p
			default:
				if _, err := keyring.Open(backend, "", nil); err != nil {
					return err
				}
			}
			tmp := g.home + ".init-tmp"
			defer os.RemoveAll(tmp)
			m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: tmp, Sellers: []string{seller}, ChainID: chainID, Transport: transport})
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(g.home), 0o755); err != nil {
				return err
			}
			if err := os.Rename(m.Homes[0].Dir, g.home); err != nil {
				return err
			}
			h := m.Homes[0]
			h.Dir = g.home
			if backend == keyring.BackendFile {
				if _, err := migrateKeyring(g, func() (string, error) { return pass, nil }); err != nil {
					return err
				}
			}
			// Paths inside the home are relative to it, so the move is safe.
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), h)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s for seller %s on chain %s\n  rpc %s, gateway %s\nstart it with: bytepointsd start --home %s\n",
				g.home, seller, chainID, h.RPC, h.Gateway, g.home)
			fmt.Fprintf(cmd.OutOrStdout(), "gateway tokens are per terminal: register a terminal (keys add, tx register-terminal), then bytepointsd gateway token create --terminal T --home %s\n", g.home)
			return nil
		},
	}
	cmd.Flags().StringVar(&seller, "seller", "my-shop", "seller id")
	cmd.Flags().StringVar(&chainID, "chain-id", "bytepoints-dev", "chain id")
	cmd.Flags().StringVar(&transport, "p2p", node.TransportTCP, "p2p transport: tcp or libp2p")
	return cmd
}
