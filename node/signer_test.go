package node_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"
)

// TestRemoteSignerNode: a one-validator node whose home holds no
// validator key (priv_validator_laddr set) produces blocks signed through
// CometBFT's privval SignerServer, which holds the key elsewhere.
func TestRemoteSignerNode(t *testing.T) {
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Transport: node.TransportTCP})
	require.NoError(t, err)
	home := m.Homes[0].Dir
	conf, err := node.LoadCometConfig(home)
	require.NoError(t, err)

	// Move the validator key out of the home, to the signer.
	signerDir := t.TempDir()
	keyFile, stateFile := filepath.Join(signerDir, "key.json"), filepath.Join(signerDir, "state.json")
	require.NoError(t, os.Rename(conf.PrivValidatorKeyFile(), keyFile))
	require.NoError(t, os.Rename(conf.PrivValidatorStateFile(), stateFile))
	pv := privval.LoadFilePV(keyFile, stateFile)
	ports, err := node.FreePorts(1)
	require.NoError(t, err)
	laddr := fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])
	conf.PrivValidatorListenAddr = laddr
	cfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), conf)

	dialer := privval.DialTCPFn(fmt.Sprintf("127.0.0.1:%d", ports[0]), 3*time.Second, ed25519.GenPrivKey())
	ep := privval.NewSignerDialerEndpoint(log.NewNopLogger(), dialer,
		privval.SignerDialerEndpointRetryWaitInterval(50*time.Millisecond), privval.SignerDialerEndpointConnRetries(400))
	ss := privval.NewSignerServer(ep, m.ChainID, pv)
	require.NoError(t, ss.Start())
	t.Cleanup(func() { _ = ss.Stop() })

	n, err := node.New(home, node.Options{LogOut: io.Discard, NoMetrics: true})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	_, remote := n.Comet.PrivValidator().(*privval.RetrySignerClient)
	require.True(t, remote, "the node signs with %T, not the remote signer", n.Comet.PrivValidator())
	_, err = os.Stat(conf.PrivValidatorKeyFile())
	require.True(t, os.IsNotExist(err), "the home has a validator key")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 3))
	c := n.Comet.BlockStore().LoadBlockCommit(2)
	require.NotNil(t, c)
	require.Len(t, c.Signatures, 1)
	require.Equal(t, cmttypes.BlockIDFlagCommit, c.Signatures[0].BlockIDFlag)
	require.Equal(t, pv.GetAddress(), c.Signatures[0].ValidatorAddress)
	pub, err := pv.GetPubKey()
	require.NoError(t, err)
	vals := cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(pub, 10)})
	require.NoError(t, vals.VerifyCommitLight(m.ChainID, c.BlockID, 2, c), "the remote signer's commit signature verifies")
}
