package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bytepointsd-cli-test")
	if err != nil {
		panic(err)
	}
	bin, err = harness.Binary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary and returns stdout and the exit status.
func cli(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if code != 0 {
		t.Logf("%v exited %d; stderr: %s", args, code, errb.String())
	}
	return out.String(), code
}

func cliJSON(t *testing.T, args ...string) (map[string]any, int) {
	t.Helper()
	out, code := cli(t, append(args, "-o", "json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: output is not a JSON object: %v\n%s", args, err, out)
	}
	return m, code
}

func num(t *testing.T, m map[string]any, k string) float64 {
	t.Helper()
	v, ok := m[k].(float64)
	if !ok {
		t.Fatalf("field %q missing or not a number in %v", k, m)
	}
	return v
}

// startSeller writes a one-seller testnet ("shop-a", TCP, epochs of
// epochSeconds) under dir with `testnet`, starts its node as a process for
// the test's lifetime and waits for blocks. It returns the home and the
// base port (RPC at base+1, metrics at base+3) and the process.
func startSeller(t *testing.T, dir string, epochSeconds int) (string, int, *harness.Process) {
	t.Helper()
	base, err := harness.FreeBase(1)
	if err != nil {
		t.Fatal(err)
	}
	out, code := cli(t, "testnet", "--validators", "1", "--dir", filepath.Join(dir, "net"), "--sellers", "shop-a",
		"--base-port", strconv.Itoa(base), "--timeout-commit", "200ms", "--epoch-seconds", strconv.Itoa(epochSeconds), "--p2p", "tcp")
	if code != 0 {
		t.Fatalf("testnet: %s", out)
	}
	home := filepath.Join(dir, "net", "shop-a")
	p, err := harness.StartProcess(bin, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := networks.WaitHeight(ctx, fmt.Sprintf("http://127.0.0.1:%d", base+1), 2); err != nil {
		log, _ := os.ReadFile(p.Log)
		t.Fatalf("%v\n%s", err, log)
	}
	return home, base, p
}

// TestCLIContract drives the integrator-facing CLI (issue point 8) against
// a node started from `testnet` output, as a separate process.
func TestCLIContract(t *testing.T) {
	// One settlement epoch spans the whole test (10^9 s, epoch 1 runs to
	// 2033): the redemption and its void land in it whatever the machine's
	// speed. Settlement later closes it by governance, at a block.
	home, base, p := startSeller(t, t.TempDir(), longEpoch)
	for _, f := range []string{"config/genesis.json", "config/config.toml", "config/app.toml", "keyring/operator.json"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Fatalf("testnet did not write %s", f)
		}
	}
	if st, _ := os.Stat(filepath.Join(home, "keyring/operator.json")); st.Mode().Perm() != 0o600 {
		t.Fatalf("operator key mode %v", st.Mode().Perm())
	}
	h := []string{"--home", home}

	// keys
	k, code := cliJSON(t, append([]string{"keys", "add", "till-1"}, h...)...)
	if code != 0 || len(k["pub_key"].(string)) != 64 {
		t.Fatalf("keys add: %v", k)
	}
	if st, _ := os.Stat(filepath.Join(home, "keyring/till-1.json")); st.Mode().Perm() != 0o600 {
		t.Fatal("terminal key is not 0600")
	}
	if _, code := cli(t, append([]string{"keys", "add", "till-1"}, h...)...); code == 0 {
		t.Fatal("keys add overwrote an existing key")
	}
	listOut, _ := cli(t, append([]string{"keys", "list", "-o", "json"}, h...)...)
	if !strings.Contains(listOut, "till-1") || !strings.Contains(listOut, "operator") {
		t.Fatalf("keys list: %s", listOut)
	}
	show, _ := cliJSON(t, append([]string{"keys", "show", "till-1"}, h...)...)
	if show["pub_key"] != k["pub_key"] {
		t.Fatal("keys show differs from keys add")
	}

	// terminal registration, purchase by the terminal
	if r, code := cliJSON(t, append([]string{"tx", "register-terminal", "--id", "till-1"}, h...)...); code != 0 || num(t, r, "code") != 0 {
		t.Fatalf("register-terminal: %v", r)
	}
	buy, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "100.00", "--terminal", "till-1", "--idempotency-key", "pos-1"}, h...)...)
	if code != 0 || num(t, buy, "code") != 0 || num(t, buy, "points_issued") != 100 || num(t, buy, "seller_payment_paise") != 10000 ||
		num(t, buy, "height") < 1 || len(buy["tx_hash"].(string)) != 64 {
		t.Fatalf("purchase: %v", buy)
	}
	// A retry with the same key replays the original result, never issues twice.
	again, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "100.00", "--terminal", "till-1", "--idempotency-key", "pos-1"}, h...)...)
	if code != 0 || again["replayed"] != true || again["tx_hash"] != buy["tx_hash"] {
		t.Fatalf("retry: %v", again)
	}
	// The same key for another request is refused with code 15, naming the original.
	other, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "99.00", "--terminal", "till-1", "--idempotency-key", "pos-1"}, h...)...)
	if code == 0 || num(t, other, "code") != 15 || other["conflict_with"] != buy["tx_hash"] {
		t.Fatalf("key reuse for another amount: exit %d %v", code, other)
	}
	// A retry long after the first envelope's validity ended is still a replay.
	short, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "D", "--amount", "10.00", "--idempotency-key", "pos-2", "--valid-for", "2"}, h...)...)
	if code != 0 || num(t, short, "points_issued") != 10 {
		t.Fatalf("short-lived purchase: %v", short)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := networks.WaitHeight(ctx, fmt.Sprintf("http://127.0.0.1:%d", base+1), int64(num(t, short, "height"))+5); err != nil {
		t.Fatal(err)
	}
	cancel()
	late, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "D", "--amount", "10.00", "--idempotency-key", "pos-2", "--valid-for", "2"}, h...)...)
	if code != 0 || late["replayed"] != true || late["tx_hash"] != short["tx_hash"] {
		t.Fatalf("late retry: %v", late)
	}
	if b, _ := cliJSON(t, append([]string{"query", "balance", "--customer", "D"}, h...)...); num(t, b, "points") != 10 {
		t.Fatalf("late retry booked again: %v", b)
	}

	// Nothing is assumed: a redemption without a flow verified nothing.
	if r, code := cliJSON(t, append([]string{"tx", "redeem", "--customer", "C", "--points", "60", "--bill", "250.00"}, h...)...); code == 0 || num(t, r, "code") != 12 {
		t.Fatalf("redeem without a flow: %v", r)
	}
	pin := []string{"--cvm", "pin-online", "--read-type", "contact-emv"}
	// The redemption and its void fall in one settlement epoch (the long
	// one of genesis): the chain names the open epoch before and after.
	openEpoch := func() float64 {
		sts, _ := cliJSON(t, append([]string{"query", "statements"}, h...)...)
		return num(t, sts, "open_epoch")
	}
	epoch := openEpoch()
	red, code := cliJSON(t, append(append([]string{"tx", "redeem", "--customer", "C", "--points", "60", "--bill", "250.00"}, pin...), h...)...)
	if code != 0 || num(t, red, "points_redeemed") != 60 || num(t, red, "same_seller_points") != 60 || num(t, red, "cross_seller_points") != 0 ||
		num(t, red, "system_payment_paise") != 6000 || num(t, red, "discount_paise") != 6000 || red["authorised_by"] != "cvm" {
		t.Fatalf("redeem: %v", red)
	}
	void, code := cliJSON(t, append([]string{"tx", "void", "--redemption", red["redemption_id"].(string)}, h...)...)
	if code != 0 || num(t, void, "points_restored") != 60 {
		t.Fatalf("void: %v", void)
	}
	if e := openEpoch(); e != epoch {
		t.Fatalf("epoch %v closed during the test (now %v): the genesis epoch is %d s", epoch, e, longEpoch)
	}
	// A rejected transaction prints its code and log and exits non-zero.
	bad, code := cliJSON(t, append(append([]string{"tx", "redeem", "--customer", "C", "--points", "101", "--bill", "250.00"}, pin...), h...)...)
	if code == 0 || num(t, bad, "code") != 8 || bad["log"] == "" {
		t.Fatalf("over-redeem: exit %d %v", code, bad)
	}
	ref, code := cliJSON(t, append([]string{"tx", "refund", "--purchase", buy["purchase_id"].(string), "--amount", "30.00"}, h...)...)
	if code != 0 || num(t, ref, "points_clawed_back") != 30 || num(t, ref, "seller_credit_paise") != 3000 {
		t.Fatalf("refund: %v", ref)
	}
	if r, code := cliJSON(t, append([]string{"tx", "revoke-terminal", "--id", "till-1"}, h...)...); code != 0 {
		t.Fatalf("revoke: %v", r)
	}
	if r, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", "C", "--amount", "1.00", "--terminal", "till-1", "--from", "till-1"}, h...)...); code == 0 || num(t, r, "code") != 4 {
		t.Fatalf("revoked terminal still accepted: %v", r)
	}

	// queries, with and without proofs. Without a trust root a proven
	// read is refused; given one, it is stored in the home for later runs.
	if r, code := cliJSON(t, append([]string{"query", "totals", "--prove"}, h...)...); code == 0 || r["code_name"] != "invalid_argument" {
		t.Fatalf("a proven read without a trust root: %v", r)
	}
	hdr, code := cliJSON(t, append([]string{"query", "header", "--height", "1"}, h...)...)
	if code != 0 || len(hdr["hash"].(string)) != 64 {
		t.Fatalf("query header: %v", hdr)
	}
	bal, code := cliJSON(t, append([]string{"query", "balance", "--customer", "C", "--prove", "--trust-height", "1", "--trust-hash", hdr["hash"].(string)}, h...)...)
	lots := bal["lots"].([]any)
	if code != 0 || bal["customer_id"] != "C" || num(t, bal, "points") != 70 || len(lots) != 1 {
		t.Fatalf("balance: %v", bal)
	}
	lot := lots[0].(map[string]any)
	if lot["issuer"] != "shop-a" || num(t, lot, "points") != 70 || lot["expires_at"] == "" {
		t.Fatalf("lot: %v", lot)
	}
	if pr, ok := bal["proof"].(map[string]any); !ok || pr["verified"] != true {
		t.Fatalf("balance --prove not verified: %v", bal)
	}
	txt, _ := cli(t, append([]string{"query", "balance", "--customer", "C", "--prove"}, h...)...)
	if !strings.Contains(txt, "proof: VERIFIED") {
		t.Fatalf("text output does not say the proof verified:\n%s", txt)
	}
	// query seller defaults to the home's seller.
	seller, code := cliJSON(t, append([]string{"query", "seller"}, h...)...)
	if code != 0 || seller["seller_id"] != "shop-a" || num(t, seller, "position_paise") != -8000 || seller["risk_max_is_default"] != true {
		t.Fatalf("seller: %v", seller)
	}
	tot, code := cliJSON(t, append([]string{"query", "totals", "--prove"}, h...)...)
	if code != 0 || num(t, tot, "outstanding_points") != 80 || num(t, tot, "escrow_paise") != 8000 {
		t.Fatalf("totals: %v", tot)
	}
	// Every query answer is provable: lists by proven counts, the CRMS
	// decision from state (its clock record included), empty lists too.
	for _, q := range [][]string{
		{"crms", "--customer", "C", "--amount", "50.00"}, {"proposals"}, {"sellers"}, {"statements"},
		{"history", "--customer", "C"}, {"seller"}, {"balance", "--customer", "nobody"}, {"params"}, {"campaigns"},
	} {
		r, code := cliJSON(t, append(append([]string{"query"}, q...), append([]string{"--prove"}, h...)...)...)
		if pr, ok := r["proof"].(map[string]any); code != 0 || !ok || pr["verified"] != true {
			t.Fatalf("query %v --prove not verified: %v", q, r)
		}
	}
	if pm, code := cliJSON(t, append([]string{"query", "params"}, h...)...); code != 0 || pm["default_earn_rate_bps"] == nil {
		t.Fatalf("params: %v", pm)
	}
	if _, code := cli(t, append([]string{"query", "seller", "--seller", "no-such"}, h...)...); code == 0 {
		t.Fatal("query of a missing seller succeeded")
	}

	// settlement: governance shortens the epoch to 5 s, so the block after
	// the one that executes the change closes epoch 1, with the activity.
	// Wait for that statement block by block, then confirm it.
	prop, code := cliJSON(t, append([]string{"tx", "propose", "set-params", "--set", "epoch_seconds=5"}, h...)...)
	if code != 0 || prop["executed"] != true {
		t.Fatalf("set-params by the only member did not execute: %v", prop)
	}
	if got := closedStatement(t, h, fmt.Sprintf("http://127.0.0.1:%d", base+1), int64(num(t, prop, "height"))); got != epoch {
		t.Fatalf("the statement with the activity is epoch %v, want the open one %v", got, epoch)
	}
	ep := strconv.FormatFloat(epoch, 'f', 0, 64)
	st, code := cliJSON(t, append([]string{"query", "statement", "--epoch", ep, "--prove"}, h...)...)
	if code != 0 || st["lines"] == nil {
		t.Fatalf("statement: %v", st)
	}
	// confirm-settlement takes the epoch as a number, as query statement does.
	if r, code := cliJSON(t, append([]string{"tx", "confirm-settlement", "--epoch", ep, "--bank-ref", "UTR42"}, h...)...); code != 0 || num(t, r, "code") != 0 {
		t.Fatalf("confirm: %v", r)
	}
	st, _ = cliJSON(t, append([]string{"query", "statement", "--epoch", ep}, h...)...)
	line := st["lines"].([]any)[0].(map[string]any)
	if line["status"] != "confirmed" || line["bank_reference"] != "UTR42" {
		t.Fatalf("line after confirm: %v", line)
	}

	// The node's Prometheus endpoint carries the ledger's own figures.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", base+3))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"bytepoints_outstanding_points 80",
		`bytepoints_tx_results_total{code="ok",msg="purchase",stage="deliver"}`,
		`bytepoints_tx_results_total{code="cvm_required",msg="redeem",stage="check"}`, // a CheckTx refusal
		`bytepoints_tx_results_total{code="idempotency_conflict",msg="purchase",stage="check"}`,
		`bytepoints_block_seconds_count{phase="commit"}`} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("metrics lack %s:\n%s", want, metrics)
		}
	}

	// Ctrl-C stops the node cleanly.
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
}

// trustArgs are the flags of a proven read trusting rpc's first header,
// with the light client's store in a fresh directory.
func trustArgs(t *testing.T, rpc string) []string {
	t.Helper()
	hdr, code := cliJSON(t, "query", "header", "--node", rpc, "--height", "1")
	if code != 0 {
		t.Fatalf("query header: %v", hdr)
	}
	return []string{"--trust-height", "1", "--trust-hash", hdr["hash"].(string), "--light-dir", t.TempDir()}
}

func TestHelpOnEveryCommand(t *testing.T) {
	root, _ := newRootCmd()
	for _, c := range allCommands(root) {
		if c.Short == "" {
			t.Errorf("command %q has no help text", c.CommandPath())
		}
	}
}

// TestDemo runs `bytepointsd demo -o json` (the README's first command) and
// checks the worked example's figures.
func TestDemo(t *testing.T) {
	out, code := cli(t, "demo", "-o", "json", "--epoch-seconds", "5")
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s", code, out)
	}
	var d struct {
		Steps []struct {
			Step   string         `json:"step"`
			Result map[string]any `json:"result"`
		} `json:"steps"`
		Statements []map[string]any `json:"statements"`
		Totals     map[string]any   `json:"totals"`
		Invariants string           `json:"invariants"`
		Programs   struct {
			Steps []struct {
				Step   string         `json:"step"`
				Result map[string]any `json:"result"`
			} `json:"steps"`
			Tier map[string]any `json:"tier"`
		} `json:"programs"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []struct {
		field string
		val   float64
	}{{"points_issued", 100}, {"same_seller_points", 60}, {"cross_seller_points", 40}, {"points_issued", 50}, {"points_clawed_back", 20}}
	for i, w := range want {
		if got, _ := d.Steps[i].Result[w.field].(float64); got != w.val {
			t.Fatalf("step %d (%s): %s = %v, want %v", i, d.Steps[i].Step, w.field, d.Steps[i].Result[w.field], w.val)
		}
	}
	if d.Invariants != "ok" || len(d.Statements) == 0 || d.Totals["outstanding_points"].(float64) != 30 || d.Totals["escrow_paise"].(float64) != 3000 {
		t.Fatalf("demo end state: %v %v", d.Invariants, d.Totals)
	}
	// The programs phase: the gold card's ₹100 earns 100 base + 100 bonus
	// points from seller-a's campaign, after ₹600 earned none (the card was
	// not yet gold when it bought).
	if len(d.Programs.Steps) != 4 {
		t.Fatalf("programs: %d steps, want 4: %s", len(d.Programs.Steps), out)
	}
	bonus := d.Programs.Steps[3].Result
	if bonus["base_points"] != float64(100) || bonus["bonus_points"] != float64(100) || bonus["campaign"] != "gold double" || bonus["seller_payment_paise"] != float64(20000) {
		t.Fatalf("programs: the gold purchase's result %v", bonus)
	}
	if d.Programs.Tier["tier"] != "gold" || d.Programs.Tier["spend_paise"] != float64(70000) {
		t.Fatalf("programs: tier %v", d.Programs.Tier)
	}
}

// longEpoch is TestCLIContract's genesis epoch length: longer than any run
// (3,650 days, the longest record retention, which must be at least the
// epoch; its next boundary is in December 2029).
const longEpoch = 3650 * 86400

// closedStatement waits, one committed block at a time from the block
// after height, for a statement with activity (a non-zero line), and
// returns its epoch. It gives up after 10 blocks: the epoch closes in the
// first block after the change, so more is a failure, not slowness.
func closedStatement(t *testing.T, h []string, rpc string, height int64) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var sts map[string]any
	for b := height + 1; b <= height+10; b++ {
		if err := networks.WaitHeight(ctx, rpc, b+1); err != nil { // block b committed by the app
			t.Fatal(err)
		}
		sts, _ = cliJSON(t, append([]string{"query", "statements"}, h...)...)
		list, _ := sts["statements"].([]any)
		for _, s := range list {
			st := s.(map[string]any)
			for _, l := range st["lines"].([]any) {
				if num(t, l.(map[string]any), "net_paise") != 0 {
					return num(t, st, "epoch")
				}
			}
		}
	}
	t.Fatalf("no statement with activity 10 blocks after the epoch change at height %d: %v", height, sts)
	return 0
}
