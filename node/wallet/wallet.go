// Package wallet is the customer's wallet web app that every gateway
// serves at /wallet/ (issue 19, docs/wallet.md): static files embedded in
// the binary, plain ES modules with no build step, a web app manifest and
// a service worker that caches the app shell.
//
// The app keeps an Ed25519 key made with WebCrypto (non-extractable, in
// IndexedDB), shows its public key and proof of possession as a QR code
// for a till to bind, reads the customer's balance, lots and history from
// the gateway's proven wallet routes and checks their Merkle proofs
// itself, and approves a redemption intent by decoding the intent's sign
// bytes (the protobuf TxBody) in the browser and signing exactly them.
//
// The handler adds what the files cannot say themselves: a strict
// Content-Security-Policy (scripts, styles and connections from this
// origin only; no inline script), and GET /wallet/qr.png, a QR code of a
// short text rendered on the server (the app's only image of its key).
package wallet

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

//go:embed static
var files embed.FS

// Routes are the ServeMux patterns to mount (the gateway mounts them
// beside its API, per-address rate limited like its other public routes).
var Routes = []string{"/wallet", "/wallet/"}

// CSP is the policy of every answer: nothing inline, nothing from another
// origin, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// MaxQRText bounds what /wallet/qr.png renders.
const MaxQRText = 512

// Handler serves the app.
type Handler struct {
	static  fs.FS
	version string // hash of the shell: names the service worker's cache
	chainID string
}

// New returns the app's handler for the chain the gateway serves.
func New(chainID string) *Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			bz, _ := fs.ReadFile(sub, p)
			h.Write([]byte(p))
			h.Write(bz)
		}
		return nil
	})
	return &Handler{static: sub, version: hex.EncodeToString(h.Sum(nil))[:16], chainID: chainID}
}

var types = map[string]string{
	".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
	".webmanifest": "application/manifest+json", ".svg": "image/svg+xml", ".png": "image/png",
}

// ServeHTTP routes the app's requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the wallet app is static: use GET", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/wallet":
		http.Redirect(w, r, "/wallet/", http.StatusMovedPermanently)
		return
	case p == "/wallet/qr.png":
		h.qr(w, r)
		return
	case p == "/wallet/":
		p = "/wallet/index.html"
	}
	name := strings.TrimPrefix(p, "/wallet/")
	bz, err := fs.ReadFile(h.static, name)
	if err != nil || strings.Contains(name, "/") {
		http.Error(w, "not found: the wallet app is /wallet/", http.StatusNotFound)
		return
	}
	if name == "sw.js" {
		// The cache's name follows the shell, so a new build replaces it.
		bz = bytes.ReplaceAll(bz, []byte("__VERSION__"), []byte(h.version))
		hd.Set("Service-Worker-Allowed", "/wallet/")
	}
	if name == "index.html" {
		bz = bytes.ReplaceAll(bz, []byte("__CHAIN_ID__"), []byte(htmlEscape(h.chainID)))
	}
	if ct, ok := types[path.Ext(name)]; ok {
		hd.Set("Content-Type", ct)
	}
	// Revalidated every time: the service worker is what serves offline.
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(bz))
}

func (h *Handler) qr(w http.ResponseWriter, r *http.Request) {
	text := r.URL.Query().Get("text")
	if text == "" || len(text) > MaxQRText {
		http.Error(w, "qr.png?text= takes 1 to 512 bytes", http.StatusBadRequest)
		return
	}
	png, err := qrcode.Encode(text, qrcode.Medium, 280)
	if err != nil {
		http.Error(w, "qr: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(png)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}
