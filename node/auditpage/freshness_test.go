package auditpage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/auditpage"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"
)

// evidenceAge is the test chain's evidence max age: the light client's
// trusting period is two thirds of it.
const evidenceAge = 3 * time.Second

// startShortTrustChain starts a one-validator chain whose genesis has a
// short evidence max age, so a light client's trust expires within the
// test.
func startShortTrustChain(t *testing.T, ctx context.Context) *node.Node {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond})
	require.NoError(t, err)
	gen := filepath.Join(m.Homes[0].Dir, "config", "genesis.json")
	doc, err := cmttypes.GenesisDocFromFile(gen)
	require.NoError(t, err)
	doc.ConsensusParams.Evidence.MaxAgeDuration = evidenceAge
	require.NoError(t, doc.SaveAs(gen))
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	return n
}

func fetchData(t *testing.T, url string) (int, *auditpage.Data, string) {
	t.Helper()
	resp, err := http.Get(url + "/audit/data.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, string(body)
	}
	var d auditpage.Data
	require.NoError(t, json.Unmarshal(body, &d))
	return resp.StatusCode, &d, string(body)
}

func TestAuditPageTrustAndLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := startShortTrustChain(t, ctx)

	// The page's light client trusts a header of its node when first
	// asked; after a gap longer than the trusting period it must trust a
	// recent one again instead of failing every figure.
	t.Run("re-trusts after its root expires", func(t *testing.T) {
		code, d, body := fetchData(t, n.GatewayURL())
		require.Equal(t, http.StatusOK, code, body)
		require.Empty(t, d.Errors)
		require.True(t, d.Totals.Source.Verified)
		first := d.Totals.Source.HeaderHeight
		h := first
		res, err := rpclocal.New(n.Comet).Header(ctx, &h)
		require.NoError(t, err)
		// Every header the page's light client verified is at most this
		// one; wait until it is older than the whole evidence max age.
		for time.Since(res.Header.Time) <= evidenceAge { //wallclock:ok the trusting period is a clock property; the wait is bounded by ctx
			select {
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
		code, d, body = fetchData(t, n.GatewayURL())
		require.Equal(t, http.StatusOK, code, body)
		require.Empty(t, d.Errors, "after the trusting period the page verifies again")
		require.True(t, d.Totals.Source.Verified)
		require.True(t, d.Members.Source.Verified)
		require.Greater(t, d.Totals.Source.HeaderHeight, first)
	})

	// A proxy in front of the node's RPC (the page's light client's
	// provider) holds every request until released, or fails it.
	var hold atomic.Bool
	var fail atomic.Bool
	release := make(chan struct{})
	var relOnce sync.Once
	target := n.RPCURL()
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		if fail.Load() {
			http.Error(w, "gate: refused", http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	defer gate.Close()
	var offset atomic.Int64 // the handler's clock runs this far ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	newPage := func() (*auditpage.Handler, *httptest.Server) {
		h := auditpage.New(auditpage.Deps{SellerID: "seller-0", ChainID: n.Genesis.ChainID, RPC: rpclocal.New(n.Comet),
			RPCURL: gate.URL, App: n.App, FailureTTL: time.Minute, Now: clock})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return h, srv
	}
	const requests = 30
	// burst sends requests at once and returns once every one is waiting
	// on the handler, then lets the gate go; it returns their answers.
	burst := func(h *auditpage.Handler, srv *httptest.Server) []int {
		codes := make([]int, requests)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _, _ = fetchData(t, srv.URL)
			}()
		}
		for h.Waiting() < requests {
			select {
			case <-ctx.Done():
				t.Fatalf("only %d of %d requests reached the page", h.Waiting(), requests)
			case <-time.After(20 * time.Millisecond):
			}
		}
		relOnce.Do(func() { close(release) })
		wg.Wait()
		return codes
	}

	t.Run("concurrent requests share one gathering", func(t *testing.T) {
		hold.Store(true)
		h, srv := newPage()
		codes := burst(h, srv)
		for i, c := range codes {
			require.Equal(t, http.StatusOK, c, "request %d", i)
		}
		require.EqualValues(t, 1, h.Gathers(), "%d concurrent requests, one gathering", requests)
	})

	t.Run("a failure is served briefly, then tried again", func(t *testing.T) {
		release = make(chan struct{})
		relOnce = sync.Once{}
		hold.Store(true)
		fail.Store(true)
		h, srv := newPage()
		codes := burst(h, srv)
		for i, c := range codes {
			require.Equal(t, http.StatusServiceUnavailable, c, "request %d", i)
		}
		require.EqualValues(t, 1, h.Gathers(), "%d concurrent requests, one failed gathering", requests)
		hold.Store(false)
		fail.Store(false)
		// Within FailureTTL the failure is served again without asking.
		code, _, body := fetchData(t, srv.URL)
		require.Equal(t, http.StatusServiceUnavailable, code, body)
		require.EqualValues(t, 1, h.Gathers())
		// After it, the page tries again, and the node answers now.
		offset.Add(int64(time.Minute + time.Second))
		code, d, body := fetchData(t, srv.URL)
		require.Equal(t, http.StatusOK, code, body)
		require.Empty(t, d.Errors)
		require.True(t, d.Totals.Source.Verified)
		require.EqualValues(t, 2, h.Gathers())
	})
}
