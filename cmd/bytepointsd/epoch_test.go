package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/stretchr/testify/require"
)

// startChain starts a one-seller in-process chain with epochs of
// epochSeconds and returns a client of its node.
func startChain(t *testing.T, epochSeconds int64) *client.Client {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	params := app.DefaultParams()
	params.EpochSeconds = epochSeconds
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, Params: params, TimeoutCommit: 200 * time.Millisecond, Transport: node.TransportTCP})
	require.NoError(t, err)
	nodes, err := networks.StartInProcess(m, io.Discard, "none", false)
	require.NoError(t, err)
	t.Cleanup(func() { networks.StopAll(nodes) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, nodes[0].RPCURL(), 2))
	cl, err := client.Dial(ctx, nodes[0].RPCURL(), nil)
	require.NoError(t, err)
	return cl
}

// TestEpochOfDateFromChainParams: an epoch flag given as a date is
// resolved on the chain's epoch length read from the node's params (the
// rule the chain numbers epochs by, settle.EpochOf), and refused, naming
// the length, on a chain whose epochs are not days. Numbers pass as they
// are, without asking the node.
func TestEpochOfDateFromChainParams(t *testing.T) {
	ctx := context.Background()
	daily := startChain(t, 86400)
	short := startChain(t, 5)

	arg, err := parseEpochArg("--epoch", "2025-11-23")
	require.NoError(t, err)
	e, err := arg.resolve(ctx, daily)
	require.NoError(t, err)
	day := time.Date(2025, 11, 23, 0, 0, 0, 0, time.UTC).Unix()
	require.Equal(t, settle.EpochOf(day, 86400), e)
	require.Equal(t, uint64(20415), e)

	_, err = arg.resolve(ctx, short)
	var ue *usageError
	require.True(t, errors.As(err, &ue), "%v", err)
	require.Contains(t, err.Error(), "daily epoch")
	require.Contains(t, err.Error(), "5 s")

	num, err := parseEpochArg("--epoch", "42")
	require.NoError(t, err)
	e, err = num.resolve(ctx, nil) // a number needs no node
	require.NoError(t, err)
	require.Equal(t, uint64(42), e)

	for _, bad := range []string{"2025-13-40", "yesterday", "-1", "1969-12-31"} {
		_, err := parseEpochArg("--epoch", bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "--epoch", bad)
	}
}
