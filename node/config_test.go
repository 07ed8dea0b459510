package node_test

import (
	"path/filepath"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node"
)

// The mempool admits nothing the app would refuse for its size: the
// generated config.toml says mempool.max_tx_bytes = app.MaxTxBytes (read
// from the file itself, not through the defaults LoadCometConfig fills in).
func TestGeneratedConfigMempoolMaxTxBytes(t *testing.T) {
	plan, err := node.FreePortPlan(1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"), Ports: plan})
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Mempool struct {
			MaxTxBytes int `toml:"max_tx_bytes"`
		} `toml:"mempool"`
	}
	if _, err := toml.DecodeFile(filepath.Join(m.Homes[0].Dir, "config", "config.toml"), &file); err != nil {
		t.Fatal(err)
	}
	if file.Mempool.MaxTxBytes != app.MaxTxBytes {
		t.Fatalf("config.toml mempool.max_tx_bytes = %d, the app accepts at most %d", file.Mempool.MaxTxBytes, app.MaxTxBytes)
	}
	conf, err := node.LoadCometConfig(m.Homes[0].Dir)
	if err != nil {
		t.Fatal(err)
	}
	if conf.Mempool.MaxTxBytes != app.MaxTxBytes {
		t.Fatalf("loaded mempool.max_tx_bytes = %d, want %d", conf.Mempool.MaxTxBytes, app.MaxTxBytes)
	}
}
