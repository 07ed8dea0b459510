package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// cliAll runs the binary through bash (so a printed command line runs as a
// person would paste it) and returns stdout, stderr and the exit status.
func cliAll(t *testing.T, line string) (string, string, int) {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", line, err)
	}
	return out.String(), errb.String(), 0
}

func jsonObject(t *testing.T, what, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: not one JSON object: %v\n%s", what, err, s)
	}
	return m
}

// awaitCommitted polls query tx until hash is in a committed block.
func awaitCommitted(t *testing.T, hash string, h []string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, code := cliJSON(t, append([]string{"query", "tx", hash}, h...)...)
		switch {
		case code == 0:
			return r
		case code != exitNotCommitted || r["status"] != "not-found-yet":
			t.Fatalf("query tx %s: exit %d %v", hash, code, r)
		case time.Now().After(deadline): //wallclock:ok bounds the wait for the commit; expiry fails as a timeout
			t.Fatalf("tx %s never committed: %v", hash, r)
		}
		time.Sleep(100 * time.Millisecond) //wallclock:ok paces the poll of query tx
	}
}

// TestCLITimeoutRetryBooksOnce: a booking whose commit is not seen within
// --timeout exits with its own status, prints the key and the exact command
// to retry it; running that command books nothing more (issue 14, point 2).
func TestCLITimeoutRetryBooksOnce(t *testing.T) {
	home, _, _ := startSeller(t, t.TempDir(), 30)
	h := []string{"--home", home}

	// JSON: the error shape, plus what a retry needs.
	out, _, code := cliAll(t, shellJoin(bin, append([]string{"tx", "purchase", "--customer", "D", "--amount", "5.00", "--timeout", "1ms", "-o", "json"}, h...)))
	if code != exitNotCommitted {
		t.Fatalf("purchase --timeout 1ms: exit %d, want %d (not committed)\n%s", code, exitNotCommitted, out)
	}
	nc := jsonObject(t, "timeout", out)
	key, _ := nc["idempotency_key"].(string)
	hash, _ := nc["tx_hash"].(string)
	retry, _ := nc["retry_command"].(string)
	if nc["code_name"] != "not_committed" || num(t, nc, "code") != 17 || nc["error"] == "" || key == "" || len(hash) != 64 ||
		!strings.Contains(retry, "--idempotency-key "+key) || strings.Contains(retry, "--timeout") ||
		nc["query_command"] != shellJoin(bin, []string{"query", "tx", hash, "--home", home}) {
		t.Fatalf("timeout output: %v", nc)
	}
	// The printed retry, run as printed, and the original, looked up by
	// query tx once committed, name one and the same booking: the original
	// (the retry replays it, or is the very same bytes when signed at the
	// same height) or, when the retry reached the block first, the retry
	// (the original then replays it).
	out, _, code = cliAll(t, retry)
	again := jsonObject(t, "retry", out)
	if code != 0 || again["idempotency_key"] != key || num(t, again, "points_issued") != 5 {
		t.Fatalf("retry: exit %d %v", code, again)
	}
	got := awaitCommitted(t, hash, h)
	if num(t, got, "code") != 0 || got["status"] != "committed" || got["tx_hash"] != again["tx_hash"] ||
		num(t, got, "height") != num(t, again, "height") || num(t, got, "points_issued") != 5 {
		t.Fatalf("query tx %s: %v\nretry: %v", hash, got, again)
	}
	if b, _ := cliJSON(t, append([]string{"query", "balance", "--customer", "D"}, h...)...); num(t, b, "points") != 5 {
		t.Fatalf("booked more than once: %v", b)
	}

	// Text: the same, on stderr, with the retry on a line of its own.
	_, errText, code := cliAll(t, shellJoin(bin, append([]string{"tx", "purchase", "--customer", "E", "--amount", "7.00", "--timeout", "1ms"}, h...)))
	if code != exitNotCommitted || !strings.Contains(errText, "idempotency key: ") || !strings.Contains(errText, "query tx ") {
		t.Fatalf("text timeout: exit %d\n%s", code, errText)
	}
	var retryText string
	for _, l := range strings.Split(errText, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, bin+" tx purchase") {
			retryText = l
		}
	}
	if retryText == "" {
		t.Fatalf("no retry command in:\n%s", errText)
	}
	out, _, code = cliAll(t, retryText)
	if code != 0 || !strings.Contains(out, "points issued:         7") || !strings.Contains(out, "idempotency key:") {
		t.Fatalf("text retry: exit %d\n%s", code, out)
	}
	if b, _ := cliJSON(t, append([]string{"query", "balance", "--customer", "E"}, h...)...); num(t, b, "points") != 7 {
		t.Fatalf("text retry booked again: %v", b)
	}

	// A hash no block holds: not found yet, the same exit status.
	nf, code := cliJSON(t, append([]string{"query", "tx", strings.Repeat("ab", 32)}, h...)...)
	if code != exitNotCommitted || nf["status"] != "not-found-yet" {
		t.Fatalf("query tx of an unknown hash: exit %d %v", code, nf)
	}
	if _, code := cli(t, append([]string{"query", "tx", "nothex"}, h...)...); code != exitFailed {
		t.Fatalf("query tx of a bad hash: exit %d", code)
	}
}

// TestCLIJSONShapes: a refused tx's JSON is the CLI's error shape; times in
// JSON are RFC 3339 UTC; a payment time is taken as RFC 3339 (issue 14,
// point 5).
func TestCLIJSONShapes(t *testing.T) {
	home, _, _ := startSeller(t, t.TempDir(), 30)
	h := []string{"--home", home}

	buy, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "10.00"}, h...)...)
	if code != 0 || buy["status"] != "committed" || len(buy["idempotency_key"].(string)) == 0 {
		t.Fatalf("purchase: %v", buy)
	}
	rfc3339 := func(what string, v any) time.Time {
		s, ok := v.(string)
		tm, err := time.Parse(time.RFC3339, s)
		if !ok || err != nil || !strings.HasSuffix(s, "Z") {
			t.Fatalf("%s = %v: not RFC 3339 UTC", what, v)
		}
		return tm
	}
	exp := rfc3339("tx purchase expires_at", buy["expires_at"])
	if int64(num(t, buy, "expires_at_unix")) != exp.Unix() {
		t.Fatalf("expires_at_unix %v differs from expires_at %v", buy["expires_at_unix"], buy["expires_at"])
	}
	bal, _ := cliJSON(t, append([]string{"query", "balance", "--customer", "C"}, h...)...)
	lot := bal["lots"].([]any)[0].(map[string]any)
	if !rfc3339("balance expires_at", lot["expires_at"]).Equal(exp) {
		t.Fatalf("balance and purchase disagree on expires_at: %v vs %v", lot["expires_at"], buy["expires_at"])
	}
	rfc3339("balance issued_at", lot["issued_at"])

	// A refused transaction: {"error","code","code_name"} like every error,
	// and still its tx hash, log and key.
	bad, code := cliJSON(t, append([]string{"tx", "redeem", "--customer", "C", "--points", "50", "--bill", "100.00", "--cvm", "pin-online", "--read-type", "contact-emv"}, h...)...)
	if code != exitFailed || num(t, bad, "code") != 8 || bad["code_name"] != "insufficient_points" || bad["status"] != "refused" ||
		!strings.HasPrefix(bad["error"].(string), "refused: insufficient_points") || bad["log"] == "" || bad["idempotency_key"] == "" {
		t.Fatalf("refused redeem: exit %d %v", code, bad)
	}

	// --payment-time in RFC 3339: a time inside the chain's window books; one
	// far outside reaches the chain and is refused there (so it was sent);
	// a word is refused before anything is signed.
	now := time.Now().UTC().Format(time.RFC3339)
	if r, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "1.00", "--payment-time", now}, h...)...); code != 0 || num(t, r, "points_issued") != 1 {
		t.Fatalf("--payment-time %s: %v", now, r)
	}
	old, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "1.00", "--payment-time", "2000-01-01T00:00:00Z"}, h...)...)
	if code != exitFailed || old["code_name"] != "invalid_argument" || old["tx_hash"] == nil {
		t.Fatalf("--payment-time in 2000: %v", old)
	}
	word, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "1.00", "--payment-time", "yesterday"}, h...)...)
	if code != exitFailed || word["code_name"] != "invalid_argument" || word["tx_hash"] != nil || !strings.Contains(word["error"].(string), "RFC 3339") {
		t.Fatalf("--payment-time yesterday: %v", word)
	}
	if b, _ := cliJSON(t, append([]string{"query", "balance", "--customer", "C"}, h...)...); num(t, b, "points") != 11 {
		t.Fatalf("balance: %v", b)
	}
}

// The timeout's exit status is its own and documented where a user looks.
func TestExitStatusInHelp(t *testing.T) {
	if exitNotCommitted == exitOK || exitNotCommitted == exitFailed {
		t.Fatal("the timeout's exit status is not distinct")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "  75  not committed within --timeout"},
		{[]string{"tx", "--help"}, "  75  not committed within --timeout"},
		{[]string{"tx", "purchase", "--help"}, "exit status 75"}, // the --timeout flag
		{[]string{"query", "tx", "--help"}, "75 not found yet"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d", c.args, code)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%v does not document exit status 75 (%q):\n%s", c.args, c.want, out.String())
		}
	}
}

func TestRetryCommand(t *testing.T) {
	g := &globals{prog: "./build/bytepointsd", args: []string{"tx", "purchase", "--customer", "a b", "--timeout=1ms", "--idempotency-key", "old", "--home", "./h", "--amount", "5.00"}}
	if got, want := retryCommand(g, "k1"), "./build/bytepointsd tx purchase --customer 'a b' --home ./h --amount 5.00 --idempotency-key k1"; got != want {
		t.Errorf("retry:\n got %s\nwant %s", got, want)
	}
	if got, want := lookupCommand(g, []byte{0xab, 0x01}), "./build/bytepointsd query tx ab01 --home ./h"; got != want {
		t.Errorf("lookup:\n got %s\nwant %s", got, want)
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("quote: %s", got)
	}
}

// TestRetryEvictedByRecheck: a retry that reached the mempool beside the
// original (same key, other bytes) and was left out of the original's block
// is evicted by the recheck after that block and never committed itself.
// Its wait must still end with the original's result, not a timeout.
// Blocks of one transaction (max_block_txs = 1) make that order certain.
func TestRetryEvictedByRecheck(t *testing.T) {
	home, base, _ := startSeller(t, t.TempDir(), 30)
	h := []string{"--home", home}
	if r, code := cliJSON(t, append([]string{"tx", "propose", "set-params", "--set", "max_block_txs=1"}, h...)...); code != 0 || r["executed"] != true {
		t.Fatalf("set max_block_txs: %v", r)
	}
	key, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, fmt.Sprintf("http://127.0.0.1:%d", base+1), key)
	if err != nil {
		t.Fatal(err)
	}
	cl.Timeout = 20 * time.Second
	msg := &types.MsgPurchase{CustomerId: "R", AmountPaise: 300}
	o := client.Options{IdempotencyKey: "evicted-retry"}
	first, err := cl.Build(ctx, msg, o)
	if err != nil {
		t.Fatal(err)
	}
	cl.ValidFor = 50 // other bytes, same key and message
	retry, err := cl.Build(ctx, msg, o)
	if err != nil || bytes.Equal(first, retry) {
		t.Fatalf("retry bytes: %v", err)
	}
	if res, err := cl.RPC.BroadcastTxSync(ctx, first); err != nil || res.Code != 0 {
		t.Fatalf("broadcast first: %v %v", err, res)
	}
	got, err := cl.Broadcast(ctx, retry)
	if err != nil {
		t.Fatalf("the retry's wait: %v", err)
	}
	if !got.OK() || !got.Replayed || !bytes.Equal(got.TxHash, types.TxHash(first)) {
		t.Fatalf("retry: %+v, want the first's result replayed", got)
	}
	if b, _ := cliJSON(t, append([]string{"query", "balance", "--customer", "R"}, h...)...); num(t, b, "points") != 3 {
		t.Fatalf("booked more than once: %v", b)
	}
}

// Text output speaks rupees: paise fields are shown as ₹ once.
func TestTextSpeaksRupees(t *testing.T) {
	res := &client.Result{TxHash: []byte{1}, Height: 3, IdempotencyKey: "k",
		Data: &types.TxResultData{Result: &types.TxResultData_Refund{Refund: &types.RefundResult{RefundedPaise: 2000, SellerCreditPaise: 2050, PointsClawedBack: 20}}}}
	var out bytes.Buffer
	cmd := &cobraCommand{}
	cmd.SetOut(&out)
	printFields(cmd, res, resultFields(res))
	for _, want := range []string{"refunded:              ₹20.00", "seller credit:         ₹20.50", "idempotency key:       k"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "paise") {
		t.Errorf("text shows paise:\n%s", out.String())
	}
}
