package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/stretchr/testify/require"
)

// TestAuditReport runs `audit report` (the real binary) against a
// two-seller network in this process with 3-second epochs: purchases,
// cross- and same-seller redemptions and a refund over several epochs, one
// line confirmed with `tx confirm-settlement`; then checks every row
// against `query statement`, every proof against the chain's headers,
// conservation per epoch, CSV against JSON, and the chart.
func TestAuditReport(t *testing.T) {
	const epochSeconds = 3
	plan, err := node.FreePortPlan(2)
	require.NoError(t, err)
	params := app.DefaultParams()
	params.EpochSeconds = epochSeconds
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 2, Output: filepath.Join(t.TempDir(), "net"),
		Sellers: []string{"shop-a", "shop-b"}, Ports: plan, Params: params, TimeoutCommit: 200 * time.Millisecond,
		Invariants: true, Transport: node.TransportTCP})
	require.NoError(t, err)
	nodes, err := networks.StartInProcess(m, io.Discard, "none", true)
	require.NoError(t, err)
	t.Cleanup(func() { networks.StopAll(nodes) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, n := range nodes {
		require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	}
	A, B := m.Homes[0], m.Homes[1]
	rpcA := nodes[0].RPCURL()
	dial := func(h node.NetworkHome, n *node.Node) *client.Client {
		k, err := node.LoadKey(h.Dir, node.OperatorKey)
		require.NoError(t, err)
		c, err := client.Dial(ctx, n.RPCURL(), k)
		require.NoError(t, err)
		return c
	}
	ca, cb := dial(A, nodes[0]), dial(B, nodes[1])
	openEpoch := func() uint64 {
		q, err := ca.Query(ctx, "/statements", false)
		require.NoError(t, err)
		r, err := client.Decode[types.StatementsResponse](q)
		require.NoError(t, err)
		return r.Open.Epoch
	}
	// awaitClosed polls until epoch e has a statement (the chain closes it
	// in the first block after its boundary).
	awaitClosed := func(e uint64) {
		for openEpoch() <= e {
			select {
			case <-ctx.Done():
				t.Fatalf("epoch %d never closed", e)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	pin := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	do := func(c *client.Client, msg any) *client.Result {
		r, err := c.Submit(ctx, msg, client.Options{})
		require.NoError(t, err)
		require.True(t, r.OK(), "%T: %s %s", msg, r.Code.Name(), r.Log)
		for _, n := range nodes { // the next step may go through the other node
			require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), r.Height))
		}
		return r
	}

	first := openEpoch()
	do(ca, &types.MsgPurchase{CustomerId: "cust-1", AmountPaise: 10000, Flow: pin})         // 100 points from shop-a
	do(cb, &types.MsgRedeem{CustomerId: "cust-1", Points: 40, BillPaise: 10000, Flow: pin}) // cross-seller at shop-b
	bBuy := do(cb, &types.MsgPurchase{CustomerId: "cust-2", AmountPaise: 5000, Flow: pin})  // 50 points from shop-b
	do(cb, &types.MsgRefund{PurchaseId: bBuy.Data.GetPurchase().PurchaseId, AmountPaise: 2000})
	phase1 := openEpoch()
	awaitClosed(phase1)
	do(ca, &types.MsgRedeem{CustomerId: "cust-1", Points: 30, BillPaise: 5000, Flow: pin}) // same-seller at shop-a
	phase2 := openEpoch()
	awaitClosed(phase2 + 1) // and an epoch with no activity
	last := openEpoch() - 1

	// shop-a confirms its first line with something due, with the real CLI.
	confirmed := uint64(0)
	for e := first; e <= last && confirmed == 0; e++ {
		q, err := ca.Query(ctx, "/statement/"+strconv.FormatUint(e, 10), false)
		if client.IsNotFound(err) {
			continue
		}
		require.NoError(t, err)
		s, err := client.Decode[types.Statement](q)
		require.NoError(t, err)
		for _, l := range s.Lines {
			if l.SellerId == "shop-a" && l.NetPaise != 0 {
				confirmed = e
			}
		}
	}
	require.NotZero(t, confirmed, "no epoch with shop-a's activity in %d..%d", first, last)
	ep := strconv.FormatUint(confirmed, 10)
	r, code := cliJSON(t, "tx", "confirm-settlement", "--home", A.Dir, "--node", rpcA, "--epoch", ep, "--bank-ref", "UTR-A-1")
	require.Zero(t, code, "%v", r)

	out := filepath.Join(t.TempDir(), "report")
	if d := os.Getenv("AUDIT_REPORT_KEEP"); d != "" {
		out = d // to look at the files
	}
	from, to := strconv.FormatUint(first, 10), strconv.FormatUint(last, 10)
	trust := trustArgs(t, rpcA)
	sum, code := cliJSON(t, append([]string{"audit", "report", "--rpc", rpcA, "--from-epoch", from, "--to-epoch", to, "--out", out, "--png"}, trust...)...)
	require.Zero(t, code, "%v", sum)
	require.Equal(t, true, sum["balanced"], "%v", sum)
	require.Equal(t, m.ChainID, sum["chain_id"])

	// Rows: CSV and JSON agree, and each equals query statement's line.
	var rows []map[string]any
	readJSON(t, filepath.Join(out, "statements.json"), &rows)
	csvMatchesJSON(t, filepath.Join(out, "statements.csv"), rows)
	var confs, liabs []map[string]any
	readJSON(t, filepath.Join(out, "confirmations.json"), &confs)
	csvMatchesJSON(t, filepath.Join(out, "confirmations.csv"), confs)
	readJSON(t, filepath.Join(out, "liabilities.json"), &liabs)
	csvMatchesJSON(t, filepath.Join(out, "liabilities.csv"), liabs)

	// Each epoch's rows, the escrow's row included, sum to zero; the
	// sellers' rows are the statement's lines.
	byEpoch := map[string][]map[string]any{}
	rowSums := map[string]int64{}
	escrowRows := map[string]int64{}
	for _, row := range rows {
		e := row["epoch"].(json.Number).String()
		net, _ := row["net_paise"].(json.Number).Int64()
		rowSums[e] += net
		if row["party"] == "escrow" {
			escrowRows[e] = net
			continue
		}
		require.Equal(t, "seller", row["party"])
		byEpoch[e] = append(byEpoch[e], row)
	}
	for e, s := range rowSums {
		require.Zero(t, s, "epoch %s: the rows' nets sum to %d", e, s)
	}
	escrowBefore := func(e uint64) (int64, bool) {
		st, code := cliJSON(t, "query", "statement", "--node", rpcA, "--epoch", strconv.FormatUint(e-1, 10))
		if code != 0 {
			return 0, false
		}
		return int64(num(t, st, "escrow_paise")), true
	}
	prevEscrow, known := escrowBefore(first)
	if !known { // the chain's first epoch: the escrow started empty
		prevEscrow, known = 0, true
	}
	sawActivity := map[string]bool{}
	for e := first; e <= last; e++ {
		en := strconv.FormatUint(e, 10)
		st, code := cliJSON(t, "query", "statement", "--node", rpcA, "--epoch", en)
		if code != 0 {
			require.Empty(t, byEpoch[en], "rows for epoch %d, which has no statement", e)
			continue
		}
		lines := st["lines"].([]any)
		got := byEpoch[en]
		require.Len(t, got, len(lines), "epoch %d", e)
		var netSum int64
		for i, li := range lines {
			l, row := li.(map[string]any), got[i]
			for lk, rk := range map[string]string{"seller_id": "seller_id", "net_paise": "net_paise", "net": "net_rupees", "status": "status",
				"issued_points": "points_issued", "redeemed_same_points": "points_redeemed_same", "redeemed_cross_points": "points_redeemed_cross",
				"clawed_back_points": "points_refunded", "refund_shortfall_points": "points_refund_shortfall",
				"expired_points": "points_expired", "voided_points": "points_voided"} {
				require.Equal(t, str(l[lk]), str(row[rk]), "epoch %d line %d: %s vs %s", e, i, lk, rk)
			}
			for _, k := range []string{"start_height", "closed_height"} {
				require.Equal(t, str(st[k]), str(row[k]), "epoch %d %s", e, k)
			}
			require.Equal(t, st["start"], row["epoch_start_time"])
			require.Equal(t, st["end"], row["epoch_end_time"])
			if l["status"] == "confirmed" {
				require.Equal(t, l["bank_reference"], row["bank_reference"])
				require.Equal(t, str(l["confirmed_height"]), str(row["confirmed_height"]))
			}
			net, _ := row["net_paise"].(json.Number).Int64()
			netSum += net
			if net != 0 {
				sawActivity[row["seller_id"].(string)] = true
			}
			dir := "none"
			if net < 0 {
				dir = "payable"
			} else if net > 0 {
				dir = "receivable"
			}
			require.Equal(t, dir, row["direction"], "epoch %d line %d", e, i)
		}
		// Conservation: what the sellers' nets add up to left the escrow.
		escrow := int64(num(t, st, "escrow_paise"))
		require.True(t, known)
		require.Zero(t, netSum+(escrow-prevEscrow), "epoch %d: nets %d, escrow %d -> %d", e, netSum, prevEscrow, escrow)
		require.Equal(t, escrow-prevEscrow, escrowRows[en], "epoch %d: the escrow's row is its change", e)
		prevEscrow = escrow
	}
	require.True(t, sawActivity["shop-a"] && sawActivity["shop-b"], "both sellers' activity is in the report: %v", sawActivity)

	// Every row's proof names a real header: its app hash at proven_height.
	rpc, err := rpchttp.New(rpcA, "/websocket")
	require.NoError(t, err)
	checked := map[int64]bool{}
	for _, set := range [][]map[string]any{rows, confs, liabs} {
		for _, row := range set {
			h, _ := row["proven_height"].(json.Number).Int64()
			if checked[h] {
				continue
			}
			c, err := rpc.Commit(ctx, &h)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(c.Header.AppHash), row["app_hash"], "height %d", h)
			sh, _ := row["state_height"].(json.Number).Int64()
			require.Equal(t, h-1, sh)
			checked[h] = true
		}
	}
	require.NotEmpty(t, checked)

	// The confirmation, and shop-a's line marked confirmed.
	require.Len(t, confs, 1)
	require.Equal(t, "shop-a", confs[0]["seller_id"])
	require.Equal(t, ep, str(confs[0]["epoch"]))
	require.Equal(t, "UTR-A-1", confs[0]["bank_reference"])

	// Liabilities: each position is the seller's, and the positions and
	// the outstanding points' value balance.
	var manifest struct {
		ChainID string `json:"chain_id"`
		Totals  struct {
			OutstandingPoints int64 `json:"outstanding_points"`
		} `json:"totals"`
		Files []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
		Epochs []struct {
			Balanced *bool `json:"balanced"`
		} `json:"epochs"`
		Trust struct {
			Height int64  `json:"height"`
			Hash   string `json:"hash"`
		} `json:"trust_root"`
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &manifest))
	require.Equal(t, m.ChainID, manifest.ChainID)
	require.Equal(t, []string{"--trust-height", strconv.FormatInt(manifest.Trust.Height, 10), "--trust-hash", manifest.Trust.Hash}, trust[:4],
		"the manifest records the root every header was verified from")
	var positions int64
	require.Len(t, liabs, 2)
	for _, l := range liabs {
		s, code := cliJSON(t, "query", "seller", "--node", rpcA, "--seller", l["seller_id"].(string))
		require.Zero(t, code)
		require.Equal(t, str(s["position_paise"]), str(l["position_paise"]))
		p, _ := l["position_paise"].(json.Number).Int64()
		positions += p
	}
	require.Zero(t, positions+100*manifest.Totals.OutstandingPoints)
	for _, e := range manifest.Epochs {
		require.True(t, e.Balanced != nil && *e.Balanced)
	}
	// The manifest's digests are the files', and the chart is XML.
	require.Len(t, manifest.Files, 8)
	for _, f := range manifest.Files {
		data, err := os.ReadFile(filepath.Join(out, f.Name))
		require.NoError(t, err)
		d := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(d[:]), f.SHA256, f.Name)
	}
	svg, err := os.ReadFile(filepath.Join(out, "summary.svg"))
	require.NoError(t, err)
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "summary.svg is not XML")
	}

	// The home's RPC is the default, and the text output names the files.
	txt, code := cli(t, append([]string{"audit", "report", "--home", A.Dir, "--from-epoch", to, "--to-epoch", to, "--out", filepath.Join(t.TempDir(), "one")}, trust...)...)
	require.Zero(t, code)
	require.Contains(t, txt, "1 statement (3 rows)") // two sellers and the escrow
	require.Contains(t, txt, "statements.csv")

	// Refusals: an open epoch, a reversed range, an --out that cannot be a directory.
	open := strconv.FormatUint(openEpoch()+1, 10)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from-epoch", from, "--to-epoch", open, "--out", t.TempDir()}, "is not closed yet"},
		{[]string{"--from-epoch", to, "--to-epoch", from, "--out", t.TempDir()}, "is after --to-epoch"},
		{[]string{"--from-epoch", from, "--to-epoch", to, "--out", filepath.Join(out, "manifest.json", "x")}, "--out"},
		{[]string{"--from-epoch", "2025-13-40", "--to-epoch", to, "--out", t.TempDir()}, "--from-epoch"},
		{[]string{"--from-epoch", "2025-11-01", "--to-epoch", "2025-11-02", "--out", t.TempDir()}, "daily epoch"},
	} {
		e, code := cliJSON(t, append(append([]string{"audit", "report", "--rpc", rpcA}, c.args...), trust...)...)
		require.NotZero(t, code, "%v", c.args)
		require.Equal(t, "invalid_argument", e["code_name"], "%v: %v", c.args, e)
		require.Contains(t, e["error"], c.want)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	require.NoError(t, d.Decode(v), path)
}

// str renders a JSON value (decoded with or without UseNumber) for comparison.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// csvMatchesJSON checks that a CSV file holds exactly rows: header = keys.
func csvMatchesJSON(t *testing.T, path string, rows []map[string]any) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(rows)+1, path)
	for i, row := range rows {
		require.Len(t, row, len(recs[0]), path)
		for j, col := range recs[0] {
			require.Contains(t, row, col, path)
			require.Equal(t, str(row[col]), recs[i+1][j], "%s row %d %s", path, i, col)
		}
	}
}
