package main

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/spf13/pflag"
)

// trustFlags name the root a proven read starts from (docs/audit.md).
type trustFlags struct {
	height    int64
	hash      string
	witnesses []string
	lightDir  string
	maxLag    int64
}

func (t *trustFlags) register(fs *pflag.FlagSet) {
	fs.Int64Var(&t.height, "trust-height", 0, "height of the header you trust (from a member, out of band); stored for later runs")
	fs.StringVar(&t.hash, "trust-hash", "", "hash of that header, 64 hex characters")
	fs.StringSliceVar(&t.witnesses, "witness", nil, "other nodes' RPC URLs that cross-check every verified header (repeat or comma-separate)")
	fs.StringVar(&t.lightDir, "light-dir", "", "where verified headers are kept between runs, per chain id and genesis (default: HOME/light)")
	fs.Int64Var(&t.maxLag, "max-lag", client.DefaultMaxLag, "refuse a proven answer whose state is more than this many blocks behind the latest header a node reported (then verified)")
}

// apply starts cl's light client from the flags, or from the root stored
// in the light directory by an earlier run.
func (t *trustFlags) apply(ctx context.Context, g *globals, cl *client.Client) error {
	if t.maxLag < 1 {
		return usagef("--max-lag %d: give at least 1 block (an honest node may answer a block behind a witness's latest header)", t.maxLag)
	}
	tr := client.Trust{Height: t.height, Witnesses: t.witnesses, Dir: t.lightDir, MaxLag: t.maxLag}
	if tr.Dir == "" {
		tr.Dir = client.LightDir(g.home)
	}
	if t.hash != "" {
		h, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(t.hash), "0x"))
		if err != nil || len(h) != 32 {
			return usagef("--trust-hash must be 64 hex characters, not %q", t.hash)
		}
		tr.Hash = h
	}
	if (tr.Height == 0) != (tr.Hash == nil) {
		return usagef("--trust-height and --trust-hash go together")
	}
	if t.height < 0 {
		return usagef("--trust-height must be positive")
	}
	return cl.UseLightClient(ctx, tr)
}
