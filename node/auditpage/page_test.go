package auditpage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/auditpage"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The auditor's page is tested on a real one-validator chain in this
// process, over the node's real gateway socket: purchases commit, an epoch
// closes and its statement line is confirmed, then the page's figures (the
// JSON and what Chromium shows) must equal proof-verified answers that the
// test obtains itself with client.Query(ctx, path, true).

const bankRef = "UTR-AUDIT-0001"

type chain struct {
	n   *node.Node
	cl  *client.Client
	url string // gateway base URL
	// epoch whose statement line of seller-0 the test confirmed
	confirmed uint64
}

func startChain(t *testing.T) *chain {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	p := app.DefaultParams()
	p.EpochSeconds = 2 // statements close within the test
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Invariants: true, Params: p})
	require.NoError(t, err)
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Height 2: the first commit must be in state before any tx.
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	key, err := node.LoadKey(m.Homes[0].Dir, node.OperatorKey)
	require.NoError(t, err)
	cl, err := client.Dial(ctx, n.RPCURL(), key)
	require.NoError(t, err)
	// The test's own proven reads trust the chain's first header.
	trust, err := cl.TrustFromNode(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, cl.UseLightClient(ctx, trust))
	t.Cleanup(func() { cl.Close() })
	c := &chain{n: n, cl: cl, url: n.GatewayURL()}
	require.NotEmpty(t, c.url, "the gateway (which serves the page) is enabled in generated homes")

	// Cards with 1 to 12 verified payments spread over the last days, and
	// one whose payments verified nothing: reputations across the chart.
	pin := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	cards := []struct {
		id       string
		payments int
		flow     *types.PaymentFlow
	}{{"asha", 12, pin}, {"bilal", 6, pin}, {"chitra", 3, pin}, {"dev", 1, pin}, {"esha", 2, nil}}
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(cards))
	for i, cd := range cards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < cd.payments; k++ {
				at := now.Add(-time.Duration(cd.payments-k) * 12 * time.Hour).Add(time.Duration(i) * time.Minute)
				r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: cd.id, AmountPaise: uint64(10_000 + 2_550*k + 100*i),
					Flow: cd.flow, PaymentTimeMs: at.UnixMilli()}, client.Options{})
				if err == nil && !r.OK() {
					err = fmt.Errorf("purchase for %s: code %d %s", cd.id, r.Code, r.Log)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	// An import approved (a coalition of one passes it at once) and one
	// file of two rows booked: the page's imports section.
	r, err := cl.Submit(ctx, &types.MsgPropose{Action: &types.MsgPropose_ApproveImport{ApproveImport: &types.ApproveImport{SellerId: "seller-0", MaxPoints: 5000}}}, client.Options{})
	require.NoError(t, err)
	require.True(t, r.OK() && r.Data.GetPropose().Executed, "approve-import: %d %s", r.Code, r.Log)
	exp := now.Add(30 * 24 * time.Hour).Unix()
	r, err = cl.Submit(ctx, &types.MsgImportBalances{FileDigest: importDigest[:], FileRows: 2, Rows: []*types.ImportRow{
		{CustomerId: "farah", Points: 300, ExpiresAt: exp}, {CustomerId: "gopal", Points: 45, ExpiresAt: exp}}}, client.Options{})
	require.NoError(t, err)
	require.True(t, r.OK(), "import: %d %s", r.Code, r.Log)

	// Every purchase is in the open epoch or before it: wait for that
	// epoch to close, then confirm seller-0's newest line with money due.
	st := statements(t, cl)
	open := st.Open.Epoch
	for st.Open.Epoch <= open {
		select {
		case <-ctx.Done():
			t.Fatalf("epoch %d did not close", open)
		case <-time.After(100 * time.Millisecond):
		}
		st = statements(t, cl)
	}
	for _, s := range st.Statements {
		for _, l := range s.Lines {
			if c.confirmed == 0 && l.SellerId == "seller-0" && l.Status == types.LineStatus_LINE_STATUS_OUTSTANDING {
				c.confirmed = s.Epoch
			}
		}
	}
	require.NotZero(t, c.confirmed, "no statement with money due among %d", len(st.Statements))
	r, err = cl.Submit(ctx, &types.MsgConfirmSettlement{SellerId: "seller-0", Epoch: c.confirmed, BankReference: bankRef}, client.Options{})
	require.NoError(t, err)
	require.True(t, r.OK(), "confirm: %d %s", r.Code, r.Log)
	return c
}

func statements(t *testing.T, cl *client.Client) *types.StatementsResponse {
	t.Helper()
	// Without proof: /statements' proofs do not cover the statements it
	// lists (see statements in data.go); each statement is proven alone.
	q, err := cl.Query(context.Background(), "/statements", false)
	require.NoError(t, err)
	s, err := client.Decode[types.StatementsResponse](q)
	require.NoError(t, err)
	return s
}

// proven is the test's own verified answer for path.
func proven[T any, PT interface {
	*T
	Unmarshal([]byte) error
}](t *testing.T, cl *client.Client, path string) (*T, *client.QueryResult) {
	t.Helper()
	q, err := cl.Query(context.Background(), path, true)
	require.NoError(t, err, path)
	require.NotNil(t, q.Verified, path)
	v, err := client.Decode[T, PT](q)
	require.NoError(t, err, path)
	return v, q
}

func getData(t *testing.T, base string) *auditpage.Data {
	t.Helper()
	resp, err := http.Get(base + "/audit/data.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var d auditpage.Data
	require.NoError(t, json.Unmarshal(body, &d))
	return &d
}

func TestAuditPage(t *testing.T) {
	c := startChain(t)

	t.Run("json", func(t *testing.T) {
		d := getData(t, c.url)
		require.Empty(t, d.Errors)
		checkAgainstChain(t, c, d)
		// The reputation chart counts every card once, and each card's R
		// is what the CRMS decision query computes for it.
		require.EqualValues(t, 5, d.Reputation.Cards)
		require.False(t, d.Reputation.Source.Verified)
		var sum uint64
		for _, b := range d.Reputation.Buckets {
			sum += b.Count
		}
		require.EqualValues(t, 5, sum)
		for _, id := range []string{"asha", "dev", "esha"} {
			q, err := c.cl.Query(context.Background(), "/crms/"+id+"/100", false)
			require.NoError(t, err)
			dr, err := client.Decode[types.DecisionResponse](q)
			require.NoError(t, err)
			// A few blocks later R has decayed by a few millionths at
			// most (silence counts in days), far from a bucket's edge.
			require.NotZero(t, d.Reputation.Buckets[auditpage.BucketOf(dr.ReputationNano)].Count, "bucket of %s (R %d)", id, dr.ReputationNano)
		}
		require.False(t, d.Status.Source.Verified)
		require.False(t, d.Validators.Source.Verified)
		require.Len(t, d.Validators.Validators, 1)
		require.Equal(t, "seller-0", d.Validators.Validators[0].SellerID)
	})

	t.Run("public and read-only", func(t *testing.T) {
		resp, err := http.Post(c.url+"/audit/data.json", "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		resp, err = http.Get(c.url + "/audit/")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "no token needed")
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'sha256-")
		require.Contains(t, string(body), `data-testid="totals-escrow"`)
		// The gateway's own API still wants its token.
		resp, err = http.Get(c.url + "/v1/statements")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})

	t.Run("chromium", func(t *testing.T) {
		browserCheck(t, c)
	})

	// Last: it changes state. A coalition of one passes its own proposal.
	t.Run("upgrade plan", func(t *testing.T) {
		require.False(t, getData(t, c.url).Upgrade.Planned)
		st := c.n.Comet.BlockStore().Height()
		r, err := c.cl.Submit(context.Background(), &types.MsgPropose{Action: &types.MsgPropose_SoftwareUpgrade{
			SoftwareUpgrade: &types.UpgradePlan{Name: "v9", Height: st + 1000, Info: "see the release notes"}}}, client.Options{})
		require.NoError(t, err)
		require.True(t, r.OK(), r.Log)
		d := getData(t, c.url)
		require.Empty(t, d.Errors)
		require.True(t, d.Upgrade.Planned)
		require.Equal(t, "v9", d.Upgrade.Name)
		require.Equal(t, st+1000, d.Upgrade.Height)
		require.EqualValues(t, 1, d.Upgrade.AppVersion)
		require.True(t, d.Upgrade.Source.Verified, "the plan is proven")
		resp, err := http.Get(c.url + "/audit/")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Contains(t, string(body), `data-testid="upgrade-plan" data-name="v9"`)
	})
}

// checkAgainstChain compares the page's data with the test's own
// proof-verified answers. Totals and positions cannot change after the
// setup (no more bookings); a closed statement changes only by
// confirmation, which the setup did before the page was read.
func checkAgainstChain(t *testing.T, c *chain, d *auditpage.Data) {
	t.Helper()
	tot, tq := proven[types.Totals](t, c.cl, "/totals")
	require.Equal(t, tot.OutstandingPoints, d.Totals.OutstandingPoints)
	require.Equal(t, tot.EscrowPaise, d.Totals.EscrowPaise)
	require.Equal(t, types.FormatPaise(tot.EscrowPaise), d.Totals.EscrowRupees)
	require.Equal(t, tot.IssuedPoints, d.Totals.IssuedPoints)
	require.EqualValues(t, 24, d.Totals.Purchases)
	require.True(t, d.Totals.Source.Verified)
	require.Equal(t, "node", d.Totals.Source.By)
	require.NotNil(t, d.Totals.Proof)
	checkProvenance(t, c, d.Totals.Source)
	require.Equal(t, tq.Verified.Total, d.Totals.Source.TotalPower)

	require.True(t, d.Members.Source.Verified)
	checkProvenance(t, c, d.Members.Source)
	require.Len(t, d.Members.Sellers, 1)
	for _, m := range d.Members.Sellers {
		s, _ := proven[types.SellerResponse](t, c.cl, "/seller/"+m.SellerID)
		require.Equal(t, s.Seller.PositionPaise, m.PositionPaise, m.SellerID)
		require.Equal(t, types.FormatSignedPaise(s.Seller.PositionPaise), m.PositionRupees)
		require.Equal(t, s.Seller.ValidatorPower, m.ValidatorPower)
		require.Equal(t, "active", m.Status)
		require.Less(t, m.PositionPaise, int64(0), "seller-0 issued points and owes the escrow")
	}

	require.True(t, d.Statements.Source.Verified, "the list is proven complete, and each statement again")
	require.NotEmpty(t, d.Statements.Statements)
	sawConfirmed := false
	for _, s := range d.Statements.Statements {
		checkProvenance(t, c, s.Source)
		want, _ := proven[types.Statement](t, c.cl, "/statement/"+strconv.FormatUint(s.Epoch, 10))
		require.Equal(t, want.EscrowPaise, s.EscrowPaise)
		require.Len(t, s.Lines, len(want.Lines))
		for i, l := range s.Lines {
			w := want.Lines[i]
			require.Equal(t, w.SellerId, l.SellerID)
			require.Equal(t, w.NetPaise, l.NetPaise)
			// The one vocabulary (types): the report's words, not the page's own.
			require.Equal(t, types.LineStatuses.Name(w.Status), l.Status)
			require.Equal(t, types.DirectionName(w.NetPaise), l.Direction)
			require.Contains(t, types.Directions.Names(), l.Direction)
			require.Equal(t, w.BankReference, l.BankReference)
			if s.Epoch == c.confirmed {
				sawConfirmed = true
				require.Equal(t, "confirmed", l.Status)
				require.Equal(t, "paid", l.Confirmation, "seller-0 owed the escrow that epoch")
				require.Equal(t, bankRef, l.BankReference)
			}
		}
	}
	require.True(t, sawConfirmed, "the confirmed epoch %d is on the page", c.confirmed)

	imp, _ := proven[types.ImportResponse](t, c.cl, "/imports/seller-0")
	require.True(t, d.Imports.Source.Verified)
	checkProvenance(t, c, d.Imports.Source)
	require.Len(t, d.Imports.Approvals, 1)
	a := d.Imports.Approvals[0]
	checkProvenance(t, c, a.Source)
	require.Equal(t, auditpage.ImportApproval{SellerID: "seller-0", MaxPoints: 5000, UsedPoints: 345, RemainingPoints: 4655,
		Rows: 2, Files: []auditpage.ImportFile{{Digest: hex.EncodeToString(importDigest[:]), FileRows: 2, BookedRows: 2, Points: 345,
			LastHeight: imp.Files[0].LastHeight}}, Source: a.Source}, a)
	require.Equal(t, imp.Approval.UsedPoints, a.UsedPoints)
	require.Equal(t, uint64(345), d.Imports.Points)
}

var importDigest = sha256.Sum256([]byte("auditpage test import"))

// checkProvenance checks a verified figure's app hash against the signed
// header the test fetches itself.
func checkProvenance(t *testing.T, c *chain, p auditpage.Provenance) {
	t.Helper()
	require.True(t, p.Verified)
	require.Equal(t, p.Height+1, p.HeaderHeight)
	h := p.HeaderHeight
	cm, err := c.cl.RPC.Commit(context.Background(), &h)
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(cm.SignedHeader.Header.AppHash), p.AppHash)
	require.Greater(t, p.SignedPower*3, p.TotalPower*2)
}

// chromiumPath finds a Chromium to drive: $BYTEPOINTS_CHROMIUM, else the
// usual names on PATH (Debian's package is /usr/bin/chromium; `make
// browser` installs it).
func chromiumPath() string {
	if p := os.Getenv("BYTEPOINTS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// shown is one [data-testid] element of the page: its data-* attributes
// and its text.
type shown struct {
	Text string            `json:"text"`
	Data map[string]string `json:"data"`
}

const collect = `Object.fromEntries([...document.querySelectorAll('[data-testid]')].map(e =>
  [e.dataset.testid, {text: e.textContent.trim(), data: Object.assign({}, e.dataset)}]))`

func browserCheck(t *testing.T, c *chain) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("no Chromium found (set BYTEPOINTS_CHROMIUM or run `make browser`, which installs Debian's chromium): the browser test of the audit page is skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1120, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses its sandbox as root
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(c.url+"/audit/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reputation-chart"]`)),
	))
	// The script's verdict, whichever it is (never a fixed sleep).
	_, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("browser-check").dataset.state !== "pending"`,
		chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err)
	page, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]shown](collect))
	require.NoError(t, err)
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)

	out := filepath.Join(t.TempDir(), "audit-page.png")
	if os.Getenv("BYTEPOINTS_UPDATE_SCREENSHOT") == "1" {
		out = filepath.Join("..", "..", "docs", "img", "audit-page.png")
	}
	require.NoError(t, os.WriteFile(out, png, 0o644))
	t.Logf("screenshot: %s", out)

	get := func(id string) shown {
		t.Helper()
		s, ok := page[id]
		require.True(t, ok, "the page shows no [data-testid=%q]", id)
		return s
	}
	require.Equal(t, "ok", get("browser-check").Data["state"], get("browser-check").Text)
	require.Contains(t, get("browser-check").Text, "Verified in your browser")

	// Every figure against the test's own verified answers.
	tot, _ := proven[types.Totals](t, c.cl, "/totals")
	require.Equal(t, strconv.FormatUint(tot.OutstandingPoints, 10), get("totals-outstanding-points").Data["value"])
	require.Equal(t, strconv.FormatUint(tot.EscrowPaise, 10), get("totals-escrow").Data["value"])
	require.Equal(t, "₹ "+types.FormatPaise(tot.EscrowPaise), get("totals-escrow").Text)
	require.Equal(t, strconv.FormatUint(tot.IssuedPoints, 10), get("totals-issued-points").Data["value"])
	require.Equal(t, strconv.FormatUint(tot.Purchases, 10), get("totals-purchases").Data["value"])
	require.Equal(t, "345", get("import-used-seller-0").Data["value"])
	require.Equal(t, "2", get("import-file-" + hex.EncodeToString(importDigest[:])).Data["value"])
	for _, id := range []string{"totals", "members", "statements", "imports", fmt.Sprintf("statement-%d", c.confirmed)} {
		p := get("prov-" + id)
		require.Equal(t, "true", p.Data["verified"], id)
		require.Contains(t, p.Text, "verified by the node at height "+p.Data["height"], id)
		h, err := strconv.ParseInt(p.Data["height"], 10, 64)
		require.NoError(t, err)
		checkProvenance(t, c, auditpage.Provenance{Verified: true, Height: h, HeaderHeight: h + 1, AppHash: p.Data["appHash"], SignedPower: 1, TotalPower: 1})
	}
	for _, id := range []string{"reputation", "validators", "status"} {
		p := get("prov-" + id)
		require.Equal(t, "false", p.Data["verified"], id)
		require.Contains(t, p.Text, "not proof-verified", id)
	}

	sellers, _ := proven[types.SellersResponse](t, c.cl, "/sellers")
	for _, s := range sellers.Sellers {
		pos := get("position-" + s.SellerId)
		require.Equal(t, strconv.FormatInt(s.PositionPaise, 10), pos.Data["value"], s.SellerId)
		require.Equal(t, "₹ "+types.FormatSignedPaise(s.PositionPaise), pos.Text)
		require.Equal(t, "active", get("member-status-"+s.SellerId).Text)
	}

	st := get(fmt.Sprintf("statement-%d", c.confirmed))
	want, _ := proven[types.Statement](t, c.cl, fmt.Sprintf("/statement/%d", c.confirmed))
	require.Equal(t, strconv.Itoa(len(want.Lines)), st.Data["value"])
	for _, l := range want.Lines {
		key := fmt.Sprintf("%d-%s", c.confirmed, l.SellerId)
		require.Equal(t, strconv.FormatInt(l.NetPaise, 10), get("line-" + key).Data["value"])
		require.Equal(t, "₹ "+types.FormatSignedPaise(l.NetPaise), get("line-"+key).Text)
		require.Equal(t, "confirmed", get("line-status-" + key).Data["value"])
		require.Equal(t, "paid", get("line-status-"+key).Text)
		require.Equal(t, bankRef, get("line-ref-" + key).Data["value"])
	}

	var bars uint64
	for i := 0; i < auditpage.NumBuckets; i++ {
		n, err := strconv.ParseUint(get(fmt.Sprintf("reputation-bucket-%d", i)).Data["value"], 10, 64)
		require.NoError(t, err)
		bars += n
	}
	require.EqualValues(t, 5, bars)

	// The browser check can fail: the same page with one hex digit of the
	// /totals proof changed, served from another loopback server, must say
	// so instead of "ok".
	res, err := http.Get(c.url + "/audit/")
	require.NoError(t, err)
	html, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	m := regexp.MustCompile(`data-proof="([0-9a-f]+)"`).FindSubmatchIndex(html)
	require.NotNil(t, m, "the page carries the /totals proof")
	at := m[3] - 10 // inside the proven leaf's value hash, at the proof's end
	if html[at] == '0' {
		html[at] = '1'
	} else {
		html[at] = '0'
	}
	tampered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", res.Header.Get("Content-Security-Policy"))
		_, _ = w.Write(html)
	}))
	defer tampered.Close()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(tampered.URL+"/audit/")))
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("browser-check").dataset.state !== "pending"`,
		chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err)
	page, err = chromedp.Run(bctx, chromedp.Evaluate[map[string]shown](collect))
	require.NoError(t, err)
	require.Equal(t, "failed", get("browser-check").Data["state"], get("browser-check").Text)
}
