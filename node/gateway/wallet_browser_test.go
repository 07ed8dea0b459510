package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestWalletBrowser runs the wallet app in a real headless Chromium over
// the gateway with TLS: the app makes its key, the test binds it at a till,
// the till makes intents and the app decodes, shows and signs them; the
// redeem commits with the wallet's signature; a tampered, a reused and an
// expired intent are refused; offline, the service worker serves the shell.
// BYTEPOINTS_UPDATE_SCREENSHOT=1 writes the screenshots to docs/img/.
func TestWalletBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("no Chromium found (set BYTEPOINTS_CHROMIUM or run `make browser`, which installs Debian's chromium): the wallet's browser test is skipped")
	}
	w := startWalletNet(t, true)
	const cust = "card-wallet-browser"
	earned := w.earn(t, cust, "800.00")

	// Chromium trusts the test server's own certificate by its key (no
	// certificate error: service workers need a page without one).
	spki := sha256.Sum256(w.srv.Certificate().RawSubjectPublicKeyInfo)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(412, 860),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses its sandbox as root
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		out := filepath.Join(t.TempDir(), name)
		if os.Getenv("BYTEPOINTS_UPDATE_SCREENSHOT") == "1" {
			out = filepath.Join("..", "..", "docs", "img", name)
		}
		require.NoError(t, os.WriteFile(out, png, 0o644))
		t.Logf("screenshot: %s", out)
	}
	// waitFor polls a page condition (never a fixed sleep).
	waitFor := func(expr string) {
		t.Helper()
		_, err := chromedp.Run(bctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second)))
		require.NoError(t, err, "waiting for %s", expr)
	}
	str := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		require.NoError(t, err, expr)
		return v
	}
	// open loads a wallet link afresh (a link differing in its fragment
	// alone would be a same-document navigation).
	open := func(path string) {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank"), chromedp.Navigate(w.url+path)))
	}
	awaited := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		require.NoError(t, err, expr)
		return v
	}
	state := func(id string) string { return `document.querySelector('[data-testid="` + id + `"]').dataset.state` }

	// 1. The app makes its key.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(w.url+"/wallet/")))
	waitFor(state("status") + ` === "setup"`)
	shot("wallet-setup.png")
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-testid="create-key"]`))))
	waitFor(state("status") + ` === "unbound"`)
	waitFor(`document.getElementById("qr").complete && document.getElementById("qr").naturalWidth > 0`)
	pubHex := str(`document.getElementById("key").dataset.pubkey`)
	proof := str(`document.getElementById("key").dataset.proof`)
	// The private key is not extractable, not even by the page.
	extractable, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`new Promise((ok) => { const r = indexedDB.open("bytepoints-wallet", 1);
		r.onsuccess = () => { const g = r.result.transaction("kv").objectStore("kv").get("key"); g.onsuccess = () => ok(g.result.privateKey.extractable); }; })`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.False(t, extractable)
	shot("wallet-key.png")

	// The app's own protobuf reader, run in the page on bodies the Go
	// types encode: a redemption decodes field for field; anything else,
	// or a cut body, is refused before anything would be shown.
	decode := func(b *types.TxBody) string {
		t.Helper()
		bz, err := b.Marshal()
		require.NoError(t, err)
		return awaited(`import("./proto.js").then((m) => { try { const d = m.decodeSignBytes(Uint8Array.from(atob("` +
			base64.StdEncoding.EncodeToString(types.SignBytes(bz)) + `"), (c) => c.charCodeAt(0)));
			return JSON.stringify(d, (k, v) => typeof v === "bigint" ? v.toString() : (v instanceof Uint8Array ? Array.from(v).length : v)); }
			catch (e) { return "refused: " + e.message; } })`)
	}
	rb := &types.TxBody{ChainId: w.chainID, Signer: make([]byte, 32), IdempotencyKey: "k", ValidUntilHeight: 1 << 40, Memo: "m",
		Msg: &types.TxBody_Redeem{Redeem: &types.MsgRedeem{SellerId: "s", TerminalId: "t", CustomerId: "c", Points: 1<<63 + 5, BillPaise: 12345,
			ContextNano: 1_500_000_000, Flow: &types.PaymentFlow{Cvm: types.CVM_CVM_PIN_ONLINE_OK}}}}
	require.JSONEq(t, `{"chainId":"`+w.chainID+`","signer":32,"idempotencyKey":"k","validUntilHeight":"1099511627776","memo":"m",
		"redeem":{"sellerId":"s","terminalId":"t","customerId":"c","points":"9223372036854775813","billPaise":"12345","contextNano":"1500000000",
		"flow":{"2":["`+strconv.Itoa(int(types.CVM_CVM_PIN_ONLINE_OK))+`"]}}}`, decode(rb))
	require.Equal(t, "refused: this is a purchase, not a redemption: the wallet signs only redemptions",
		decode(&types.TxBody{ChainId: w.chainID, Msg: &types.TxBody_Purchase{Purchase: &types.MsgPurchase{CustomerId: "c", AmountPaise: 1}}}))
	require.Equal(t, "refused: this is a bind_wallet, not a redemption: the wallet signs only redemptions",
		decode(&types.TxBody{ChainId: w.chainID, Msg: &types.TxBody_BindWallet{BindWallet: &types.MsgBindWallet{CustomerId: "c"}}}))
	cut := awaited(`import("./proto.js").then((m) => { try { m.decodeSignBytes(new TextEncoder().encode("bytepoints/tx/v1\0\x0a\x05ab")); return "decoded"; }
		catch (e) { return "refused: " + e.message; } })`)
	require.Equal(t, "refused: truncated field 1", cut)

	// 2. A till binds it (the customer's card and PIN at the till).
	pub, err := hex.DecodeString(pubHex)
	require.NoError(t, err)
	pop, err := base64.StdEncoding.DecodeString(proof)
	require.NoError(t, err)
	a := w.bind(t, cust, ed25519.PublicKey(pub), pop)
	require.Equal(t, 200, a.status, a.raw)

	// 3. The app finds its binding and shows the balance it verified.
	waitFor(state("status") + ` === "bound"`)
	waitFor(state("balance-check") + ` === "ok"`)
	require.Equal(t, itoa(earned), str(`document.getElementById("balance").dataset.value`))
	require.Equal(t, w.seller, str(`document.querySelector("#lots tr").dataset.issuer`))
	waitFor(state("history-check") + ` === "ok"`)
	shot("wallet-balance.png")

	// 4. The till asks; the app shows what the bytes say, and approves.
	a = w.intent(t, "browser-1", cust, 40, "250.00", "")
	require.Equal(t, 200, a.status, a.raw)
	id, sb := a.str("intent_id"), signBytes(t, a)
	open(a.str("wallet_url"))
	waitFor(`document.getElementById("intent").dataset.points !== undefined`)
	shown := func(k string) string { return str(`document.getElementById("intent").dataset.` + k) }
	require.Equal(t, "40", shown("points"))
	require.Equal(t, "25000", shown("billPaise"))
	require.Equal(t, w.seller, shown("seller"))
	require.Equal(t, "till-1", shown("terminal"))
	require.Equal(t, cust, shown("customer"))
	require.Equal(t, w.chainID, shown("chain"))
	require.Equal(t, "₹\u00a0250.00", str(`document.getElementById("intent-bill").textContent`))
	require.Equal(t, "₹\u00a0210.00", str(`document.getElementById("intent-topay").textContent`))
	require.Contains(t, str(`document.getElementById("intent-expiry").textContent`), "valid until block "+shown("validUntil"))
	shot("wallet-intent.png")
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-testid="approve"]`))))
	waitFor(state("intent-result") + ` !== "signing" && ` + state("intent-result") + ` !== "none"`)
	require.Equal(t, "committed", str(state("intent-result")), str(`document.getElementById("intent-result").textContent`))
	hash := str(`document.getElementById("intent-result").dataset.txHash`)
	waitFor(`document.getElementById("balance").dataset.value === "` + itoa(earned-40) + `"`)
	shot("wallet-approved.png")

	// As committed: the wallet's signature over the intent's bytes.
	tx, _, data := w.committed(t, hash)
	require.Equal(t, sb, types.SignBytes(tx.Body))
	require.True(t, types.VerifySignature(pub, sb, tx.WalletSignature))
	require.Equal(t, "wallet", data.GetRedeem().AuthorisedBy)
	require.EqualValues(t, 40, data.GetRedeem().PointsRedeemed)

	// 5. Reused: the app has nothing to sign; the gateway refuses the
	// signature again.
	require.NoError(t, chromedp.Do(bctx, chromedp.Reload()))
	waitFor(state("intent-result") + ` === "refused"`)
	require.Contains(t, str(`document.getElementById("intent-result").textContent`), "committed")
	a = w.sign(t, id, tx.WalletSignature)
	require.Equal(t, 409, a.status, a.raw)
	require.Equal(t, "duplicate", a.str("code_name"))

	// 6. Tampered after the app read it (points and bill): the wallet's
	// signature is over the bytes it showed, and is refused.
	a = w.intent(t, "browser-2", cust, 20, "150.00", "")
	require.Equal(t, 200, a.status, a.raw)
	id2 := a.str("intent_id")
	// The answer's summary says otherwise than its bytes: the app shows
	// the bytes.
	w.gw.TamperSummary(id2, 999, 99900)
	lie := w.do(t, "GET", "/v1/redemption-intents/"+id2, "", "", "")
	require.EqualValues(t, 999, lie.num("points"))
	open(a.str("wallet_url"))
	waitFor(`document.getElementById("intent").dataset.points !== undefined`)
	require.Equal(t, "20", shown("points"))
	require.Equal(t, "15000", shown("billPaise"))
	require.NoError(t, w.gw.TamperIntent(id2, func(m *types.MsgRedeem) { m.Points, m.BillPaise = 120, 12000 }))
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-testid="approve"]`))))
	waitFor(state("intent-result") + ` === "refused"`)
	require.Equal(t, "bad_signature", str(`document.getElementById("intent-result").dataset.code`))
	shot("wallet-refused.png")

	// 7. Expired before the customer approved.
	a = w.intent(t, "browser-3", cust, 5, "100.00", `,"expires_in_seconds":2`)
	require.Equal(t, 200, a.status, a.raw)
	id3 := a.str("intent_id")
	open(a.str("wallet_url"))
	waitFor(`document.getElementById("intent").dataset.points === "5"`)
	a = w.do(t, "GET", "/v1/redemption-intents/"+id3+"?wait=10", "", "", "")
	require.Equal(t, "expired", a.str("status"), a.raw)
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-testid="approve"]`))))
	waitFor(state("intent-result") + ` === "refused"`)
	require.Equal(t, "expired", str(`document.getElementById("intent-result").dataset.code`))

	// The chain saw one redemption only.
	a = w.do(t, "GET", "/v1/wallets/"+pubHex+"/balance", "", "", "")
	checkProven(t, w, a)

	// 8. Offline: the service worker serves the shell; the key is still
	// there (IndexedDB) and the page says it is offline.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(w.url+"/wallet/")))
	waitFor(`navigator.serviceWorker.controller !== null`)
	w.srv.CloseClientConnections()
	w.srv.Listener.Close()
	_, err = w.srv.Client().Get(w.url + "/wallet/")
	require.Error(t, err, "the gateway is down")
	require.NoError(t, chromedp.Do(bctx, chromedp.Reload()))
	waitFor(state("status") + ` === "offline"`)
	served, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`navigator.serviceWorker.controller !== null && performance.getEntriesByType("navigation")[0].workerStart > 0`))
	require.NoError(t, err)
	require.True(t, served, "the page came through the service worker")
	require.Equal(t, pubHex, str(`document.getElementById("key").dataset.pubkey`))
	shot("wallet-offline.png")
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

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
