// Package auditpage is the auditor's web page each node serves at /audit/
// on its gateway's HTTP server: read-only public chain data, no login.
// Network status, validators and members, totals and escrow, settlement
// statements with each seller's confirmation, seller positions and a chart
// of the cards' CRMS reputation. Each group of figures says whether it was
// proof-verified (client.Query with prove: Merkle proofs checked against
// the app hash of a signed header) and by whom; the page's one script
// checks the proof of /totals again in the browser with WebCrypto.
//
// GET /audit/ is the HTML page (html/template, inline CSS and SVG, no
// external resources); GET /audit/data.json is the same data as JSON.
// See docs/audit.md, "Auditor web page".
package auditpage

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

//go:embed page.html.tmpl
var pageSource string

//go:embed verify.js
var verifyScript string

var (
	page = template.Must(template.New("audit").Funcs(template.FuncMap{
		"short":  short,
		"pct":    func(a, b int64) string { return percent(a, b) },
		"rupees": types.FormatPaise,
		"signed": types.FormatSignedPaise,
		"does":   func(netPaise int64) string { return types.DirectionOf(netPaise).Does() },
		"script": func() template.JS { return template.JS(verifyScript) },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
	}).Parse(pageSource))
	// The page allows its one inline script by hash, and nothing external.
	csp = fmt.Sprintf("default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-%s'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		base64.StdEncoding.EncodeToString(sha256sum(verifyScript)))
)

func sha256sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// Handler serves /audit/ and /audit/data.json.
type Handler struct {
	d Deps

	mu sync.Mutex
	// The last gathering: complete data is reused while the chain is at
	// its height; data with errors, or an error, for FailureTTL.
	height   int64
	last     *Data
	lastErr  error
	failedAt time.Time
	// flight is the gathering under way: concurrent requests wait for it
	// instead of starting their own.
	flight *flight
	// cl is the page's verifying client, made on first use and made again
	// from a recent header of the node when its trust expires. Only the
	// one gathering under way uses it.
	cl *client.Client

	gathers atomic.Int64 // gatherings started
	waiting atomic.Int64 // requests waiting for one
}

// flight is one gathering; done closes when d and err are set.
type flight struct {
	done chan struct{}
	d    *Data
	err  error
}

// New returns the page's handler over a running node.
func New(d Deps) *Handler {
	if d.Timeout <= 0 {
		d.Timeout = 20 * time.Second
	}
	if d.FailureTTL <= 0 {
		d.FailureTTL = DefaultFailureTTL
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{d: d}
}

// DefaultFailureTTL is how long a failed gathering is served again before
// the next is tried: a public page under load must not retry the node's
// proof checks on every request while they fail.
const DefaultFailureTTL = 2 * time.Second

// Routes are the paths to mount (Go 1.22 mux patterns).
var Routes = []string{"/audit", "/audit/"}

// ServeHTTP routes the page's requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the audit page is read-only: use GET", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/audit":
		http.Redirect(w, r, "/audit/", http.StatusMovedPermanently)
	case "/audit/", "/audit/index.html":
		h.serve(w, r, false)
	case "/audit/data.json":
		h.serve(w, r, true)
	default:
		http.Error(w, "not found: the audit page is /audit/ and its data /audit/data.json", http.StatusNotFound)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, asJSON bool) {
	ctx, cancel := context.WithTimeout(r.Context(), h.d.Timeout)
	defer cancel()
	d, err := h.data(ctx)
	if err != nil {
		http.Error(w, "audit data unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	var buf bytes.Buffer
	if asJSON {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		err = enc.Encode(d)
		hd.Set("Content-Type", "application/json")
	} else {
		err = page.Execute(&buf, view(d))
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Referrer-Policy", "no-referrer")
	}
	if err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// data returns the page's data for the latest height. It is gathered
// once per height however many requests ask (the page is public, and each
// gathering costs a few proof verifications); requests that arrive while a
// gathering is under way wait for it; a failed gathering is served for
// FailureTTL before another is tried.
func (h *Handler) data(ctx context.Context) (*Data, error) {
	st, err := h.d.RPC.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("node status: %w", err)
	}
	latest := st.SyncInfo.LatestBlockHeight
	h.mu.Lock()
	failed := h.lastErr != nil || (h.last != nil && len(h.last.Errors) > 0)
	switch {
	case failed && h.d.Now().Sub(h.failedAt) < h.d.FailureTTL:
		d, err := h.last, h.lastErr
		h.mu.Unlock()
		return d, err
	case !failed && h.last != nil && h.height >= latest:
		d := h.last
		h.mu.Unlock()
		return d, nil
	}
	f := h.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		h.flight = f
		h.gathers.Add(1)
		go h.run(f, latest)
	}
	h.mu.Unlock()
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case <-f.done:
		return f.d, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("gathering the page's data: %w", ctx.Err())
	}
}

// run gathers the data for latest, for every request waiting on f. It has
// its own deadline: the request that started it may go away.
func (h *Handler) run(f *flight, latest int64) {
	ctx, cancel := context.WithTimeout(context.Background(), h.d.Timeout)
	defer cancel()
	var d *Data
	cl, err := h.client(ctx, latest)
	if err == nil {
		d = gather(ctx, h.d, cl)
	}
	h.mu.Lock()
	h.flight = nil
	h.height, h.last, h.lastErr = latest, d, err
	if err != nil || len(d.Errors) > 0 {
		h.failedAt = h.d.Now()
	}
	h.mu.Unlock()
	f.d, f.err = d, err
	close(f.done)
}

// client is the page's verifying client. A new one trusts a recent header
// of the node when there is none yet, or when the old one's latest verified
// header is about to leave the trusting period (the page was not asked for
// longer than that): from an expired root nothing verifies.
func (h *Handler) client(ctx context.Context, latest int64) (*client.Client, error) {
	if h.cl != nil {
		exp, err := h.cl.TrustExpires()
		if err == nil && h.d.Now().Add(h.cl.TrustingPeriod()/10).Before(exp) {
			return h.cl, nil
		}
		h.cl.Close()
		h.cl = nil
	}
	cl, err := lightClient(ctx, h.d, latest)
	if err != nil {
		return nil, err
	}
	h.cl = cl
	return cl, nil
}

func short(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-8:]
}

func percent(a, b int64) string {
	if b <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f", 100*float64(a)/float64(b))
}

// ---- the page's view of the data ----

type bar struct {
	Bucket
	X, Y, W, H int
	LabelX     int
}

type pageView struct {
	*Data
	Bars     []bar
	ChartMax uint64
	Active   int
}

const (
	chartW, chartH, chartTop, chartLeft = 560, 180, 20, 40
)

func view(d *Data) pageView {
	v := pageView{Data: d}
	for _, b := range d.Reputation.Buckets {
		v.ChartMax = max(v.ChartMax, b.Count)
	}
	n := len(d.Reputation.Buckets)
	if n > 0 {
		slot := chartW / n
		for i, b := range d.Reputation.Buckets {
			hgt := 0
			if v.ChartMax > 0 {
				hgt = int(b.Count * chartH / v.ChartMax)
			}
			x := chartLeft + i*slot
			v.Bars = append(v.Bars, bar{Bucket: b, X: x + 4, W: slot - 8, H: hgt, Y: chartTop + chartH - hgt, LabelX: x + slot/2})
		}
	}
	for _, m := range d.Members.Sellers {
		if strings.EqualFold(m.Status, "active") {
			v.Active++
		}
	}
	return v
}

// lightClient is the page's verifying client: CometBFT's light client with
// the node's own RPC as primary, trusting the header the node had committed
// when the page was asked for (first, or after its trust expired). The
// node executed that block itself, so it is the node's own trust root;
// later headers are verified from it like any auditor's.
func lightClient(ctx context.Context, d Deps, latest int64) (*client.Client, error) {
	if d.RPCURL == "" {
		return nil, fmt.Errorf("the audit page needs the node's RPC URL")
	}
	cl := &client.Client{RPC: d.RPC, ChainID: d.ChainID, URL: d.RPCURL}
	if latest < 1 {
		latest = 1
	}
	trust, err := cl.TrustFromNode(ctx, latest)
	if err != nil {
		return nil, err
	}
	if err := cl.UseLightClient(ctx, trust); err != nil {
		return nil, err
	}
	return cl, nil
}
