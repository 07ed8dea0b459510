package node

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
)

// Gateway is the seller's REST API for POS integrators (SPEC §9). It signs
// with the seller's operator key, so it listens on loopback unless the
// configuration says otherwise, and every call needs the bearer token.
type Gateway struct {
	n     *Node
	cfg   GatewayConfig
	token []byte
	key   ed25519.PrivateKey
	srv   *http.Server
	ln    net.Listener
	tls   bool
}

// NewGateway prepares the gateway (not yet listening).
func NewGateway(n *Node) (*Gateway, error) {
	g := &Gateway{n: n, cfg: n.AppCfg.Gateway}
	tokPath := g.cfg.TokenFile
	if !filepath.IsAbs(tokPath) {
		tokPath = filepath.Join(n.Home, tokPath)
	}
	tok, err := os.ReadFile(tokPath)
	if err != nil {
		return nil, fmt.Errorf("gateway token file: %w (set gateway.token_file in %s, or disable the gateway)", err, AppConfigFile)
	}
	g.token = []byte(strings.TrimSpace(string(tok)))
	if len(g.token) < 16 {
		return nil, fmt.Errorf("gateway token in %s is shorter than 16 characters", tokPath)
	}
	if g.key, err = LoadKey(n.Home, OperatorKey); err != nil {
		return nil, fmt.Errorf("gateway signing key: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", g.health)
	mux.HandleFunc("POST /v1/issue", g.auth(g.issue))
	mux.HandleFunc("POST /v1/redeem", g.auth(g.redeem))
	mux.HandleFunc("POST /v1/refund", g.auth(g.refund))
	mux.HandleFunc("GET /v1/crms/decision", g.auth(g.decision))
	mux.HandleFunc("GET /v1/balance/{customer}", g.auth(g.balance))
	g.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	return g, nil
}

// Start listens and serves in the background.
func (g *Gateway) Start() error {
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway listen %s: %w", g.cfg.Listen, err)
	}
	g.ln = ln
	g.tls = g.cfg.TLSCert != "" && g.cfg.TLSKey != ""
	go func() {
		var err error
		if g.tls {
			err = g.srv.ServeTLS(ln, g.path(g.cfg.TLSCert), g.path(g.cfg.TLSKey))
		} else {
			err = g.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.n.Logger.Error("gateway stopped", "err", err)
		}
	}()
	g.n.Logger.Info("seller gateway listening", "url", g.URL())
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

func (g *Gateway) client() *client.Client {
	return &client.Client{RPC: rpclocal.New(g.n.Comet), ChainID: g.n.Genesis.ChainID, Key: g.key}
}

func (g *Gateway) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), g.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bytepoints"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "missing or wrong bearer token"})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func badRequest(w http.ResponseWriter, format string, a ...any) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf(format, a...)})
}

func (g *Gateway) health(w http.ResponseWriter, _ *http.Request) {
	h, hash := g.n.App.Info()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "height": h, "app_hash": hex.EncodeToString(hash), "seller_id": g.n.AppCfg.SellerID})
}

// decodeBody reads a JSON body strictly (numbers kept exact).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	return dec.Decode(v)
}

// rupees accepts "250.00" or 250.5 (a JSON number, read as text).
func rupees(field string, n json.Number) (uint64, error) {
	if n == "" {
		return 0, fmt.Errorf("%s is required", field)
	}
	p, err := types.ParseRupees(string(n))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return p, nil
}

func (g *Gateway) submit(w http.ResponseWriter, r *http.Request, msg any) {
	res, err := g.client().Submit(r.Context(), msg, client.Options{IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error()})
		return
	}
	status := http.StatusOK
	if !res.OK() {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, client.Fields(res))
}

type issueReq struct {
	CustomerID    string      `json:"customer_id"`
	Amount        json.Number `json:"amount"`
	TerminalID    string      `json:"terminal_id"`
	ReadType      int32       `json:"read_type"`
	CVM           int32       `json:"cvm"`
	Auth          int32       `json:"auth"`
	PaymentTimeMs int64       `json:"payment_time_ms"`
}

func (g *Gateway) issue(w http.ResponseWriter, r *http.Request) {
	var req issueReq
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, "body: %v", err)
		return
	}
	amount, err := rupees("amount", req.Amount)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	flow := defaultFlow()
	if req.ReadType != 0 {
		flow.ReadType = types.ReadType(req.ReadType)
	}
	if req.CVM != 0 {
		flow.Cvm = types.CVM(req.CVM)
	}
	if req.Auth != 0 {
		flow.Auth = types.AuthResult(req.Auth)
	}
	g.submit(w, r, &types.MsgPurchase{CustomerId: req.CustomerID, AmountPaise: amount, TerminalId: req.TerminalID,
		Flow: flow, PaymentTimeMs: req.PaymentTimeMs})
}

func defaultFlow() *types.PaymentFlow {
	return &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
}

type redeemReq struct {
	CustomerID  string      `json:"customer_id"`
	Points      uint64      `json:"points"`
	BillAmount  json.Number `json:"bill_amount"`
	TerminalID  string      `json:"terminal_id"`
	PinVerified *bool       `json:"pin_verified"`
	ContextNano int64       `json:"context_nano"`
}

func (g *Gateway) redeem(w http.ResponseWriter, r *http.Request) {
	var req redeemReq
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, "body: %v", err)
		return
	}
	bill, err := rupees("bill_amount", req.BillAmount)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	m := &types.MsgRedeem{CustomerId: req.CustomerID, Points: req.Points, BillPaise: bill, TerminalId: req.TerminalID, ContextNano: req.ContextNano}
	if req.PinVerified == nil || *req.PinVerified {
		m.Flow = defaultFlow()
	}
	g.submit(w, r, m)
}

type refundReq struct {
	PurchaseID string      `json:"purchase_id"`
	Amount     json.Number `json:"amount"`
	TerminalID string      `json:"terminal_id"`
}

func (g *Gateway) refund(w http.ResponseWriter, r *http.Request) {
	var req refundReq
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, "body: %v", err)
		return
	}
	id, err := hex.DecodeString(req.PurchaseID)
	if err != nil || len(id) != 32 {
		badRequest(w, "purchase_id must be the 64-hex tx hash of the purchase")
		return
	}
	var amount uint64
	if req.Amount != "" {
		if amount, err = rupees("amount", req.Amount); err != nil {
			badRequest(w, "%v", err)
			return
		}
	}
	g.submit(w, r, &types.MsgRefund{PurchaseId: id, AmountPaise: amount, TerminalId: req.TerminalID})
}

func (g *Gateway) balance(w http.ResponseWriter, r *http.Request) {
	cust := r.PathValue("customer")
	res := g.n.App.Query("/balance/"+cust, false)
	if res.Code != types.CodeOK {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": uint32(res.Code), "code_name": res.Code.Name(), "log": res.Log})
		return
	}
	var b types.BalanceResponse
	if err := b.Unmarshal(res.Value); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, client.BalanceFields(&b, res.Height))
}

func (g *Gateway) decision(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	amount, err := rupees("amount", json.Number(q.Get("amount")))
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	seller := q.Get("seller_id")
	if seller == "" {
		seller = g.n.AppCfg.SellerID
	}
	ctxNano := int64(0)
	if c := q.Get("context_nano"); c != "" {
		if ctxNano, err = strconv.ParseInt(c, 10, 64); err != nil {
			badRequest(w, "context_nano must be an integer (1e-9 units)")
			return
		}
	}
	path := fmt.Sprintf("/crms/%s/%d/%s/%d", q.Get("customer_id"), amount, seller, ctxNano)
	res := g.n.App.Query(path, false)
	if res.Code != types.CodeOK {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": uint32(res.Code), "code_name": res.Code.Name(), "log": res.Log})
		return
	}
	var d types.DecisionResponse
	if err := d.Unmarshal(res.Value); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, client.DecisionFields(&d))
}
