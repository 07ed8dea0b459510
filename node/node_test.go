package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// startNode runs a one-validator chain in this process, driven only through
// its real RPC and gateway sockets.
func startNode(t *testing.T) (*node.Node, networks.Home) {
	t.Helper()
	plan, err := networks.FreePortPlan(1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := networks.Generate(networks.Options{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Invariants: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := networks.WaitHeight(ctx, n.RPCURL(), 1); err != nil {
		t.Fatal(err)
	}
	return n, m.Homes[0]
}

func TestNodeOverRPC(t *testing.T) {
	n, home := startNode(t)
	ctx := context.Background()
	key, _ := node.LoadKey(home.Dir, node.OperatorKey)
	cl, err := client.Dial(ctx, n.RPCURL(), key)
	if err != nil {
		t.Fatal(err)
	}
	flow := &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}
	r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 25050, Flow: flow}, client.Options{})
	if err != nil || !r.OK() || r.Data.GetPurchase().PointsIssued != 250 {
		t.Fatalf("purchase: %+v %v", r, err)
	}
	r, err = cl.Submit(ctx, &types.MsgRedeem{CustomerId: "alice", Points: 300, BillPaise: 50000, Flow: flow}, client.Options{})
	if err != nil || r.Code != types.CodeInsufficientPoints || r.Log == "" {
		t.Fatalf("over-redeem: %+v %v", r, err)
	}
	q, err := cl.Query(ctx, "/balance/alice", true)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := client.Decode[types.BalanceResponse](q)
	if b.Points != 250 || q.Verified == nil || q.Verified.Power*3 <= q.Verified.Total*2 {
		t.Fatalf("balance %d verified %+v", b.Points, q.Verified)
	}
}

func TestGateway(t *testing.T) {
	n, home := startNode(t)
	tok, err := os.ReadFile(filepath.Join(home.Dir, "config", "gateway.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	base := n.GatewayURL()
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("gateway not on loopback: %q", base)
	}
	call := func(method, path, body, auth, idem string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewBufferString(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
		return resp.StatusCode, m
	}
	if code, _ := call("POST", "/v1/issue", `{"customer_id":"bob","amount":"100.00"}`, "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := call("POST", "/v1/issue", `{"customer_id":"bob","amount":"100.00"}`, "wrong-token-0123456789", ""); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	code, m := call("POST", "/v1/issue", `{"customer_id":"bob","amount":"100.00"}`, token, "till-7-0001")
	if code != 200 || m["points_issued"].(float64) != 100 || m["seller_payment"] != "100.00" {
		t.Fatalf("issue: %d %v", code, m)
	}
	code, again := call("POST", "/v1/issue", `{"customer_id":"bob","amount":"100.00"}`, token, "till-7-0001")
	if code != 200 || again["replayed"] != true || again["tx_hash"] != m["tx_hash"] {
		t.Fatalf("retry with the same Idempotency-Key: %d %v", code, again)
	}
	code, m = call("POST", "/v1/redeem", `{"customer_id":"bob","points":40,"bill_amount":"50.00"}`, token, "")
	if code != 200 || m["points_redeemed"].(float64) != 40 || m["same_seller_points"].(float64) != 40 || m["system_payment"] != "40.00" {
		t.Fatalf("redeem: %d %v", code, m)
	}
	code, m = call("POST", "/v1/redeem", `{"customer_id":"bob","points":100,"bill_amount":"500.00"}`, token, "")
	if code != http.StatusUnprocessableEntity || m["code"].(float64) != float64(types.CodeInsufficientPoints) {
		t.Fatalf("over-redeem: %d %v", code, m)
	}
	if code, _ := call("POST", "/v1/issue", `{"customer_id":"bob","amount":"1.005"}`, token, ""); code != http.StatusBadRequest {
		t.Fatalf("three decimals accepted: %d", code)
	}
	if code, _ := call("POST", "/v1/issue", `{"customer_id":"bob","amount":"1","bogus":1}`, token, ""); code != http.StatusBadRequest {
		t.Fatalf("unknown field accepted: %d", code)
	}
	code, m = call("GET", "/v1/balance/bob", "", token, "")
	if code != 200 || m["points"].(float64) != 60 {
		t.Fatalf("balance: %d %v", code, m)
	}
	code, m = call("GET", "/v1/crms/decision?customer_id=bob&amount=20.00", "", token, "")
	if code != 200 || m["cvm_required"] != true || m["reason"] == "" || m["reputation"] == nil || m["skip_limit"] == nil {
		t.Fatalf("decision: %d %v", code, m)
	}
	if code, m := call("GET", "/healthz", "", "", ""); code != 200 || m["status"] != "ok" {
		t.Fatalf("health: %d %v", code, m)
	}
}
