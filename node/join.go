package node

import (
	"context"
	"fmt"
	"path/filepath"

	cfg "github.com/cometbft/cometbft/config"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// ConfigureStateSync points a new seller's home at running nodes so it
// starts from their latest snapshot instead of replaying every block: it
// takes a recent header from the first RPC server as the light client's
// root of trust (the joining seller trusts the members it was voted in
// by) and enables state sync in config.toml.
func ConfigureStateSync(ctx context.Context, home string, rpcs []string) (int64, string, error) {
	if len(rpcs) == 0 {
		return 0, "", fmt.Errorf("give at least one RPC server of a running member")
	}
	c, err := rpchttp.New(rpcs[0], "/websocket")
	if err != nil {
		return 0, "", err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("rpc %s: %w", rpcs[0], err)
	}
	h := st.SyncInfo.LatestBlockHeight
	if h > 1 {
		h-- // a header whose successor surely exists
	}
	commit, err := c.Commit(ctx, &h)
	if err != nil {
		return 0, "", err
	}
	hash := commit.SignedHeader.Header.Hash().String()
	conf, err := LoadCometConfig(home)
	if err != nil {
		return 0, "", err
	}
	servers := append([]string(nil), rpcs...)
	if len(servers) == 1 {
		servers = append(servers, servers[0]) // CometBFT wants two entries
	}
	conf.StateSync.Enable = true
	conf.StateSync.RPCServers = servers
	conf.StateSync.TrustHeight = h
	conf.StateSync.TrustHash = hash
	cfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), conf)
	return h, hash, nil
}
