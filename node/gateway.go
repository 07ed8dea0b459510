package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/node/auditpage"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/types"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	"github.com/prometheus/client_golang/prometheus"
)

// Gateway is the seller's REST API for POS integrators (SPEC §9, package
// node/gateway): per-terminal tokens, each request signed with its
// terminal's key, never the operator's. It listens on loopback unless the
// configuration says otherwise, with TLS when given a certificate and key.
type Gateway struct {
	n   *Node
	cfg GatewayConfig
	srv *http.Server
	ln  net.Listener
	tls bool
}

// NewGateway prepares the gateway (not yet listening).
func NewGateway(n *Node) (*Gateway, error) {
	g := &Gateway{n: n, cfg: n.AppCfg.Gateway}
	if (g.cfg.TLSCert == "") != (g.cfg.TLSKey == "") {
		return nil, fmt.Errorf("gateway: set both tls_cert and tls_key in %s, or neither", AppConfigFile)
	}
	if g.cfg.Listen == "" {
		return nil, fmt.Errorf("gateway: no listen address in %s (e.g. listen = \"127.0.0.1:8080\")", AppConfigFile)
	}
	g.tls = g.cfg.TLSCert != ""
	return g, nil
}

// Start builds the handler over the running node and serves it in the
// background.
func (g *Gateway) Start() error {
	n := g.n
	commit := time.Duration(g.cfg.CommitTimeoutSeconds) * time.Second
	var reg prometheus.Registerer
	if n.metrics {
		reg = prometheus.DefaultRegisterer
	}
	logger := n.Logger.With("module", "gateway")
	mem := n.Comet.Mempool()
	h, err := gateway.New(gateway.Config{
		SellerID: n.AppCfg.SellerID, TokensPath: g.cfg.TokensPath(n.Home),
		RatePerSecond: g.cfg.RatePerSecond, Burst: g.cfg.RateBurst, MaxBodyBytes: g.cfg.MaxBodyBytes, CommitTimeout: commit,
		IntentTTL: time.Duration(g.cfg.IntentTTLSeconds) * time.Second,
	}, gateway.Deps{
		App: n.App, RPC: rpclocal.New(n.Comet), ChainID: n.Genesis.ChainID,
		Pending: func(hash []byte) bool {
			for _, tx := range mem.ReapMaxTxs(-1) {
				if bytes.Equal(types.TxHash(tx), hash) {
					return true
				}
			}
			return false
		},
		LoadKey:    n.LoadKey,
		LogError:   logger.Error,
		LogRequest: logger.Debug,
		Registerer: reg,
		Decisions:  n.decisionSeconds,
	})
	if err != nil {
		return err
	}
	if commit <= 0 {
		commit = gateway.DefaultCommitTimeout
	}
	// The auditor's page is public like /healthz: it is mounted beside the
	// gateway's API, outside its token authentication, only reads, and is
	// limited per client address like the gateway's other public routes.
	audit := auditpage.New(auditpage.Deps{SellerID: n.AppCfg.SellerID, ChainID: n.Genesis.ChainID, RPC: rpclocal.New(n.Comet), RPCURL: n.RPCURL(), App: n.App})
	for _, p := range auditpage.Routes {
		h.Mount(p, audit)
	}
	g.srv = &http.Server{
		Handler:           h.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      commit + 15*time.Second, // a booking waits for its commit
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    16 << 10,
		// TLS handshake failures and the like: the node's log, not stderr.
		ErrorLog: stdlog.New(logWriter{logger.Info}, "", 0),
	}
	if g.tls {
		cert, err := tls.LoadX509KeyPair(g.path(g.cfg.TLSCert), g.path(g.cfg.TLSKey))
		if err != nil {
			return fmt.Errorf("gateway TLS: %w", err)
		}
		g.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway listen %s: %w", g.cfg.Listen, err)
	}
	if g.tls {
		ln = tls.NewListener(ln, g.srv.TLSConfig)
	}
	g.ln = ln
	go func() {
		if err := g.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.Logger.Error("gateway stopped", "err", err)
		}
	}()
	n.Logger.Info("seller gateway listening", "url", g.URL(), "tokens", g.cfg.TokensPath(n.Home))
	return nil
}

func (g *Gateway) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(g.n.Home, p)
}

// Stop shuts the gateway down.
func (g *Gateway) Stop() {
	if g.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.srv.Shutdown(ctx)
}

// URL is the gateway's base URL.
func (g *Gateway) URL() string {
	if g.ln == nil {
		return ""
	}
	scheme := "http"
	if g.tls {
		scheme = "https"
	}
	return scheme + "://" + g.ln.Addr().String()
}

// logWriter turns net/http's log lines into node log entries.
type logWriter struct{ log func(msg string, kv ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	w.log("gateway http", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}
