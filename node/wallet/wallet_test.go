package wallet_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/node/wallet"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, method, path string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// TestShell: every file of the shell is served with the strict policy,
// the page has no inline script or style and no external resource, and
// the service worker's cache list names files that exist.
func TestShell(t *testing.T) {
	h := wallet.New("test-chain")
	res, body := get(t, h, "GET", "/wallet/")
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, wallet.CSP, res.Header.Get("Content-Security-Policy"))
	require.NotContains(t, wallet.CSP, "unsafe-inline")
	require.Contains(t, wallet.CSP, "script-src 'self'")
	require.Contains(t, wallet.CSP, "frame-ancestors 'none'")
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	page := string(body)
	require.Contains(t, page, `data-chain-id="test-chain"`)
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		require.Contains(t, m, `src="`, "no inline script: %s", m)
	}
	require.NotContains(t, page, "<style")
	require.NotContains(t, page, " style=")
	require.NotRegexp(t, `(src|href)="(https?:)?//`, page, "nothing from another origin")

	res, sw := get(t, h, "GET", "/wallet/sw.js")
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	require.NotContains(t, string(sw), "__VERSION__")
	list := regexp.MustCompile(`const SHELL = \[([^\]]*)\]`).FindStringSubmatch(string(sw))
	require.Len(t, list, 2)
	for _, f := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(list[1], -1) {
		p := "/wallet/" + strings.TrimPrefix(f[1], "./")
		res, _ := get(t, h, "GET", p)
		require.Equal(t, 200, res.StatusCode, "the service worker caches %s", p)
	}
	res, _ = get(t, h, "GET", "/wallet/manifest.webmanifest")
	require.Equal(t, "application/manifest+json", res.Header.Get("Content-Type"))

	res, _ = get(t, h, "POST", "/wallet/")
	require.Equal(t, 405, res.StatusCode)
	res, _ = get(t, h, "GET", "/wallet/nothing.js")
	require.Equal(t, 404, res.StatusCode)
	res, _ = get(t, h, "GET", "/wallet")
	require.Equal(t, 301, res.StatusCode)
}

// TestQR: the QR route draws a PNG of a short text, and refuses long ones.
func TestQR(t *testing.T) {
	h := wallet.New("c")
	res, body := get(t, h, "GET", "/wallet/qr.png?text="+url.QueryEscape("bpwallet:1:"+strings.Repeat("ab", 32)))
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "image/png", res.Header.Get("Content-Type"))
	img, err := png.Decode(bytes.NewReader(body))
	require.NoError(t, err)
	require.Equal(t, 280, img.Bounds().Dx())
	res, _ = get(t, h, "GET", "/wallet/qr.png?text="+strings.Repeat("x", wallet.MaxQRText+1))
	require.Equal(t, 400, res.StatusCode)
	res, _ = get(t, h, "GET", "/wallet/qr.png")
	require.Equal(t, 400, res.StatusCode)
}
