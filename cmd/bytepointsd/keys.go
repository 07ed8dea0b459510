package main

import (
	"bufio"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/keyring"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// addKeyringFlags registers the keyring's persistent flags on root.
func addKeyringFlags(root *cobra.Command, g *globals) {
	root.PersistentFlags().StringVar(&g.keyringBackend, "keyring-backend", "", "keyring backend: file, test or os (default: app.toml's keyring_backend)")
	root.PersistentFlags().StringVar(&g.passphraseFile, "keyring-passphrase-file", "", "file whose first line is the file keyring's passphrase (else env "+node.KeyringPassphraseEnv+", else a prompt on a terminal)")
}

// keyringOptions are the keyring flags; the prompt is offered only when
// stdin is a terminal.
func (g *globals) keyringOptions() node.KeyringOptions {
	o := node.KeyringOptions{Backend: g.keyringBackend, PassphraseFile: g.passphraseFile}
	if stdinIsTerminal() {
		o.Prompt = func() (string, error) { return promptSecret("Keyring passphrase: ") }
	}
	return o
}

func stdinIsTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// promptSecret reads a line from the terminal without echo.
func promptSecret(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	bz, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	return string(bz), nil
}

// loadKey reads a key of --home's keyring with the keyring flags.
func loadKey(g *globals, name string) (ed25519.PrivateKey, error) {
	return node.LoadKeyWith(g.home, name, g.keyringOptions())
}

func openKeyring(g *globals) (keyring.Backend, error) {
	return node.OpenKeyring(g.home, g.keyringOptions())
}

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the home's Ed25519 signing keys (operator, terminals, wallets)",
		Long: `Keys live in HOME/keyring/<name>.json, readable only by their owner (0600).
The key called "operator" signs for the seller (terminal registration,
settlement, governance). Create one key per terminal and register its public
key with "tx register-terminal"; a terminal's key may then sign purchases and
redemptions for that terminal only.

The keyring backend (app.toml keyring_backend, or --keyring-backend) is
  file  keys encrypted with a passphrase (scrypt + XChaCha20-Poly1305); the
        passphrase comes from --keyring-passphrase-file, else the environment
        variable ` + node.KeyringPassphraseEnv + `, else a prompt on a terminal
  test  plaintext keys (local chains only; what "testnet" writes)
  os    the platform's secret store (not available in this build)
See docs/keys.md.`,
	}
	cmd.AddCommand(newKeysAddCmd(g), newKeysListCmd(g), newKeysShowCmd(g), newKeysDeleteCmd(g),
		newKeysExportCmd(g), newKeysImportCmd(g), newKeysMigrateCmd(g))
	return cmd
}

func newKeysAddCmd(g *globals) *cobra.Command {
	var recover bool
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a new key called NAME (printing its recovery mnemonic once), or --recover one",
		Long: `Creates a key from a fresh 24-word BIP-39 mnemonic and prints the mnemonic
once: write it down, it is the only way to recover the key if the keyring is
lost. With --recover the mnemonic is read from stdin (or asked for on a
terminal) and the same key is stored again.`,
		Example: "  bytepointsd keys add till-1 --home ./net/seller-0\n  bytepointsd keys add till-1 --recover --home ./new-home < mnemonic.txt",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := keyring.ValidName(name); err != nil {
				return err
			}
			kr, err := openKeyring(g)
			if err != nil {
				return err
			}
			if kr.Has(name) {
				return fmt.Errorf("key %q already exists in %s/%s", name, g.home, node.KeyringDir)
			}
			var mnemonic string
			var priv ed25519.PrivateKey
			if recover {
				words, err := readMnemonic(cmd.InOrStdin())
				if err != nil {
					return err
				}
				if priv, err = keyring.FromMnemonic(words); err != nil {
					return err
				}
			} else if mnemonic, priv, err = keyring.NewMnemonic(); err != nil {
				return err
			}
			if err := kr.Save(name, priv); err != nil {
				return err
			}
			pub := priv.Public().(ed25519.PublicKey)
			if g.output == "json" {
				out := map[string]string{"name": name, "type": "ed25519", "pub_key": hex.EncodeToString(pub), "backend": kr.Name()}
				if mnemonic != "" {
					out["mnemonic"] = mnemonic
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s  ed25519  %s\n", name, hex.EncodeToString(pub))
			if mnemonic != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "\nRecovery mnemonic (shown only now; anyone holding it holds the key):\n%s\n", mnemonic)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&recover, "recover", false, "recover the key from its BIP-39 mnemonic (read from stdin)")
	return cmd
}

func readMnemonic(in io.Reader) (string, error) {
	if stdinIsTerminal() {
		return promptSecret("Mnemonic: ")
	}
	bz, err := io.ReadAll(bufio.NewReader(io.LimitReader(in, 4096)))
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(string(bz)) == "" {
		return "", errors.New("--recover: no mnemonic on stdin")
	}
	return string(bz), nil
}

func newKeysListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys in the home's keyring (no passphrase needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kr, err := openKeyring(g)
			if err != nil {
				return err
			}
			keys, err := kr.List()
			if err != nil {
				return err
			}
			if g.output == "json" {
				out := make([]map[string]string, 0, len(keys))
				for _, k := range keys {
					out = append(out, map[string]string{"name": k.Name, "type": k.Type, "pub_key": k.PubKeyHex()})
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(keys) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no keys in %s\n", g.home)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tPUBLIC KEY")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, k.Type, k.PubKeyHex())
			}
			return tw.Flush()
		},
	}
}

// publicKey finds name's public key without unlocking it.
func publicKey(kr keyring.Backend, name string) (ed25519.PublicKey, error) {
	infos, err := kr.List()
	if err != nil {
		return nil, err
	}
	for _, in := range infos {
		if in.Name == name {
			return in.PubKey, nil
		}
	}
	return nil, fmt.Errorf("no key %q in the keyring (list keys with `bytepointsd keys list`)", name)
}

func newKeysShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key's public part",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring(g)
			if err != nil {
				return err
			}
			pub, err := publicKey(kr, args[0])
			if err != nil {
				return err
			}
			return showKey(cmd, g, args[0], pub)
		},
	}
}

func newKeysDeleteCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a key (refusing the operator key of an active member without --force)",
		Long: `Deletes a key from the keyring, overwriting its file first. The key that is
the on-chain operator key of this home's seller, while the seller is an
active member, is refused without --force (the seller could no longer sign
settlement or governance); so is the key called "operator" when the node
cannot be asked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			kr, err := openKeyring(g)
			if err != nil {
				return err
			}
			pub, err := publicKey(kr, name)
			if err != nil {
				return err
			}
			if !force {
				if err := refuseActiveOperator(cmd, g, name, pub); err != nil {
					return err
				}
			}
			if err := kr.Delete(name); err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": name, "pub_key": hex.EncodeToString(pub)})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted key %s (%s)\n", name, hex.EncodeToString(pub))
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even the operator key of an active member")
	return cmd
}

// refuseActiveOperator errs when pub is the operator key of this home's
// seller and the seller is active, or (for the key called operator) when
// the chain cannot say.
func refuseActiveOperator(cmd *cobra.Command, g *globals, name string, pub ed25519.PublicKey) error {
	seller := homeSeller(g)
	if seller == "" {
		return nil
	}
	check := func() (*types.SellerResponse, error) {
		url, err := rpcURL(g)
		if err != nil {
			return nil, err
		}
		cl, err := client.Dial(cmd.Context(), url, nil)
		if err != nil {
			return nil, err
		}
		cl.Timeout = 10 * time.Second
		q, err := cl.Query(cmd.Context(), "/seller/"+seller, false)
		if err != nil {
			return nil, err
		}
		return client.Decode[types.SellerResponse](q)
	}
	s, err := check()
	if err != nil {
		if client.IsNotFound(err) {
			return nil
		}
		if name == node.OperatorKey {
			return fmt.Errorf("refusing to delete key %q: cannot check whether it is seller %s's operator key (%v); pass --force to delete it anyway", name, seller, err)
		}
		return nil
	}
	if s.Seller != nil && s.Seller.Status == types.SellerStatus_SELLER_STATUS_ACTIVE && string(s.Seller.OperatorPubkey) == string(pub) {
		return fmt.Errorf("refusing to delete key %q: it is the operator key of %s, an active member; export it first (keys export) and pass --force", name, seller)
	}
	return nil
}

// armorPassphrase reads the export/import passphrase from file, else asks
// on a terminal (twice when exporting).
func armorPassphrase(file string, confirm bool) (string, error) {
	if file != "" {
		o := node.KeyringOptions{PassphraseFile: file}
		return o.Passphrase()
	}
	if !stdinIsTerminal() {
		return "", errors.New("give the export passphrase with --passphrase-file (no terminal to ask on)")
	}
	p, err := promptSecret("Export passphrase: ")
	if err != nil || !confirm {
		return p, err
	}
	again, err := promptSecret("Repeat it: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", errors.New("the passphrases differ")
	}
	return p, nil
}

func newKeysExportCmd(g *globals) *cobra.Command {
	var passFile string
	cmd := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a key armored and encrypted with an export passphrase",
		Long: `Prints the key as a "BYTEPOINTS PRIVATE KEY" PEM block whose body is the
key sealed with the export passphrase (scrypt + XChaCha20-Poly1305); the
headers carry its name and public key. Import it with "keys import".`,
		Example: "  bytepointsd keys export operator --passphrase-file ./export-pass > operator.armor",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := loadKey(g, args[0])
			if err != nil {
				return err
			}
			p, err := armorPassphrase(passFile, true)
			if err != nil {
				return err
			}
			arm, err := keyring.Export(args[0], k, p)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), arm)
			return err
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file whose first line is the export passphrase")
	return cmd
}

func newKeysImportCmd(g *globals) *cobra.Command {
	var passFile, name string
	cmd := &cobra.Command{
		Use:     "import FILE",
		Short:   "Import an armored key (from keys export) into the keyring",
		Example: "  bytepointsd keys import operator.armor --passphrase-file ./export-pass --home ./new-home",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bz, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			p, err := armorPassphrase(passFile, false)
			if err != nil {
				return err
			}
			exported, k, err := keyring.Import(bz, p)
			if err != nil {
				return err
			}
			if name == "" {
				name = exported
			}
			kr, err := openKeyring(g)
			if err != nil {
				return err
			}
			if err := kr.Save(name, k); err != nil {
				return err
			}
			return showKey(cmd, g, name, k.Public().(ed25519.PublicKey))
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file whose first line is the export passphrase")
	cmd.Flags().StringVar(&name, "name", "", "store the key under this name (default: the name it was exported under)")
	return cmd
}

func newKeysMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Encrypt the home's plaintext keys (test backend) with a passphrase and switch it to the file backend",
		Long: `Re-writes every plaintext key file of HOME/keyring encrypted with the
keyring passphrase (--keyring-passphrase-file, ` + node.KeyringPassphraseEnv + `, or
a prompt), overwriting the plaintext before replacing it, and sets
keyring_backend = "file" in config/app.toml. Keys already encrypted must
open with the same passphrase. Running it twice is harmless.`,
		Example: "  bytepointsd keys migrate --home ./seller --keyring-passphrase-file ./pass",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			done, err := migrateKeyring(g, newPassphrase(g))
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{"migrated": done, "backend": keyring.BackendFile})
			}
			for _, m := range done {
				what := "encrypted"
				if m.Already {
					what = "already encrypted"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", m.Name, what)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s now uses the file keyring backend\n", g.home)
			return nil
		},
	}
}

// newPassphrase is the keyring passphrase source for a keyring being
// encrypted now: on a terminal (no file, no environment) it asks twice.
func newPassphrase(g *globals) keyring.Passphrase {
	o := g.keyringOptions()
	if o.Prompt != nil && o.PassphraseFile == "" && os.Getenv(node.KeyringPassphraseEnv) == "" {
		o.Prompt = func() (string, error) {
			p, err := promptSecret("New keyring passphrase: ")
			if err != nil {
				return "", err
			}
			if again, err := promptSecret("Repeat it: "); err != nil || again != p {
				return "", errors.New("the passphrases differ")
			}
			return p, nil
		}
	}
	return o.Passphrase
}

// migrateKeyring encrypts the home's keys and switches app.toml to file.
func migrateKeyring(g *globals, pass keyring.Passphrase) ([]keyring.Migrated, error) {
	acfg, err := node.LoadAppConfig(g.home)
	if err != nil {
		return nil, err
	}
	fb := keyring.NewFile(filepath.Join(g.home, node.KeyringDir), pass)
	done, err := fb.Migrate()
	if err != nil {
		return done, err
	}
	if done == nil {
		done = []keyring.Migrated{}
	}
	acfg.KeyringBackend = keyring.BackendFile
	return done, node.WriteAppConfig(g.home, acfg)
}

func showKey(cmd *cobra.Command, g *globals, name string, pub ed25519.PublicKey) error {
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), map[string]string{"name": name, "type": "ed25519", "pub_key": hex.EncodeToString(pub)})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s  ed25519  %s\n", name, hex.EncodeToString(pub))
	return nil
}
