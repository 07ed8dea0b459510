package node_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/node/keyring"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// TestKeyringNodeSignsGatewayBooking: a home whose operator and terminal
// keys are encrypted (file backend) refuses to start with a wrong
// passphrase (one line, naming the key and where the passphrase came
// from), starts with the right passphrase file, and its gateway signs a
// booking with the unlocked terminal key.
func TestKeyringNodeSignsGatewayBooking(t *testing.T) {
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Invariants: true, Transport: node.TransportTCP})
	require.NoError(t, err)
	home := m.Homes[0]
	termPub, err := node.AddKey(home.Dir, "till-1")
	require.NoError(t, err)

	// Encrypt the keyring in place, as `keys migrate` does.
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "pass"), filepath.Join(dir, "wrong")
	require.NoError(t, os.WriteFile(good, []byte("s3cret passphrase\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("not it\n"), 0o600))
	done, err := keyring.NewFile(filepath.Join(home.Dir, node.KeyringDir), node.KeyringOptions{PassphraseFile: good}.Passphrase).Migrate()
	require.NoError(t, err)
	require.Len(t, done, 2)
	c, err := node.LoadAppConfig(home.Dir)
	require.NoError(t, err)
	c.KeyringBackend = keyring.BackendFile
	require.NoError(t, node.WriteAppConfig(home.Dir, c))
	t.Setenv(node.KeyringPassphraseEnv, "") // the file, not the environment, unlocks
	os.Unsetenv(node.KeyringPassphraseEnv)

	_, err = node.New(home.Dir, node.Options{LogLevel: "none", NoMetrics: true, Keyring: node.KeyringOptions{PassphraseFile: bad}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "\n")
	require.Contains(t, err.Error(), "wrong keyring passphrase")
	require.Contains(t, err.Error(), bad)
	require.NotContains(t, err.Error(), "not it")
	_, err = node.New(home.Dir, node.Options{LogLevel: "none", NoMetrics: true})
	require.ErrorContains(t, err, "--keyring-passphrase-file or "+node.KeyringPassphraseEnv)

	opts := node.KeyringOptions{PassphraseFile: good}
	n, err := node.New(home.Dir, node.Options{LogOut: io.Discard, LogLevel: "info", NoMetrics: true, Keyring: opts})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	g := gwNode{n: n, home: home}

	op, err := node.LoadKeyWith(home.Dir, node.OperatorKey, opts)
	require.NoError(t, err)
	cl, err := client.Dial(ctx, n.RPCURL(), op)
	require.NoError(t, err)
	res, err := cl.Submit(ctx, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: termPub}, client.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), res.Log)
	tok, rec, err := gateway.NewToken(home.SellerID, "till-1", "till-1", termPub, time.Now())
	require.NoError(t, err)
	require.NoError(t, gateway.AddToken(g.tokensPath(t), rec))

	issue := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: "k-1",
		body: `{"customer_id":"` + customerID(7) + `","amount":"100.00","flow":` + pinFlow + `}`})
	require.Equal(t, 200, issue.status, issue.raw)
	require.Equal(t, float64(100), issue.num("points_issued"))
	require.Equal(t, "till-1", issue.str("terminal_id"))
	require.NotEmpty(t, issue.str("purchase_id"), issue.raw)
}

func TestKeyringTestBackendRefusedOnRealChain(t *testing.T) {
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, ChainID: "bytepoints-mainnet", Transport: node.TransportTCP})
	require.NoError(t, err)
	_, err = node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true})
	require.ErrorContains(t, err, "keys migrate")
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true, ForceTestKeyring: true})
	require.NoError(t, err, "forced")
	require.NoError(t, n.Start())
	n.Stop()
	for id, local := range map[string]bool{"bytepoints-local": true, "bytepoints-dev": true, "bytepoints-demo": true, "test": true,
		"bytepoints-mainnet": false, "bytepoints-testnet": false, "coalition-1": false, "localhost": false} {
		require.Equal(t, local, node.LocalChainID(id), id)
	}
}
