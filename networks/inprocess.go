package networks

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bytepoints/bytepoints/node"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// StartInProcess starts the founding homes of m as nodes in this process
// (the demo and in-process tests). Logs go to logs; metrics are off.
func StartInProcess(m *node.Manifest, logs io.Writer, level string, check bool) ([]*node.Node, error) {
	var nodes []*node.Node
	for _, h := range m.Homes {
		if !h.Founding {
			continue
		}
		n, err := node.New(h.Dir, node.Options{LogOut: logs, LogLevel: level, NoMetrics: true, CheckInvariants: check})
		if err != nil {
			StopAll(nodes)
			return nil, fmt.Errorf("node %s: %w", h.SellerID, err)
		}
		if err := n.Start(); err != nil {
			StopAll(nodes)
			return nil, fmt.Errorf("start %s: %w", h.SellerID, err)
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// StopAll stops nodes in reverse order.
func StopAll(nodes []*node.Node) {
	for i := len(nodes) - 1; i >= 0; i-- {
		nodes[i].Stop()
	}
}

// WaitHeight polls rpcURL until the chain reaches height h.
func WaitHeight(ctx context.Context, rpcURL string, h int64) error {
	c, err := rpchttp.New(rpcURL, "/websocket")
	if err != nil {
		return err
	}
	for {
		st, err := c.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%s did not reach height %d: %w", rpcURL, h, err)
			}
			return fmt.Errorf("%s did not reach height %d (at %d)", rpcURL, h, st.SyncInfo.LatestBlockHeight)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
