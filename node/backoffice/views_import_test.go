package backoffice_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/internal/pgtest"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// TestBackofficeViews holds the views TestBackofficeDayAndOutage does not
// (cross_seller_redemptions, breakage, statement_lines, imports,
// import_batches) to what the chain's queries answer, on two validators
// (two sellers, so redemptions cross) in one process, the first writing
// its back office to a real PostgreSQL. Epochs of 3 s and lots valid 6 s
// make statements close and points expire within the test.
func TestBackofficeViews(t *testing.T) {
	pg := pgtest.Start(t)
	plan, err := node.FreePortPlan(2)
	if err != nil {
		t.Fatal(err)
	}
	p := app.DefaultParams()
	p.EpochSeconds = 3
	p.LotValiditySeconds = 6
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 2, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 50 * time.Millisecond, Transport: node.TransportLibP2P, Params: p}) // not TCP: two in-process TCP nodes can panic in CometBFT's reactors at shutdown (a block store closed under queryMaj23Routine)
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Homes[0], m.Homes[1]
	acfg, err := node.LoadAppConfig(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	acfg.Backoffice.PostgresURL = pg.URL()
	if err := node.WriteAppConfig(a.Dir, acfg); err != nil {
		t.Fatal(err)
	}
	var nodes []*node.Node
	for _, h := range m.Homes {
		n, err := node.New(h.Dir, node.Options{LogLevel: "none", NoMetrics: true, NoGateway: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		nodes = append(nodes, n)
	}
	n := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := networks.WaitHeight(ctx, n.RPCURL(), 2); err != nil {
		t.Fatal(err)
	}
	dial := func(home string) *client.Client {
		k, err := node.LoadKey(home, node.OperatorKey)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(ctx, n.RPCURL(), k)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	ca, cb := dial(a.Dir), dial(b.Dir)
	ok := func(cl *client.Client, msg any) *client.Result {
		t.Helper()
		r, err := cl.Submit(ctx, msg, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Fatalf("%T: code %d %s", msg, r.Code, r.Log)
		}
		return r
	}
	flow := &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}
	sa, sb := a.SellerID, b.SellerID

	// Seller b imports three customers (members vote: 2 of 2).
	r := ok(ca, &types.MsgPropose{Action: &types.MsgPropose_ApproveImport{ApproveImport: &types.ApproveImport{SellerId: sb, MaxPoints: 1000}}})
	ok(cb, &types.MsgVote{ProposalId: r.Data.GetPropose().ProposalId, Yes: true})
	st, _ := n.Backoffice.Chain.Status(ctx)
	exp := st.SyncInfo.LatestBlockTime.Unix() + 5
	digest := sha256.Sum256([]byte("views test file"))
	file := []*types.ImportRow{{CustomerId: "imp-1", Points: 40, ExpiresAt: exp, ExternalRef: "OLD-1"},
		{CustomerId: "imp-2", Points: 25, ExpiresAt: exp, ExternalRef: "OLD-2"}, {CustomerId: "alice", Points: 10, ExpiresAt: exp}}
	ok(cb, &types.MsgImportBalances{FileDigest: digest[:], FileRows: 3, Rows: file[:2]})
	ok(cb, &types.MsgImportBalances{FileDigest: digest[:], FirstRow: 2, FileRows: 3, Rows: file[2:]})

	// Purchases at both, redemptions across (one voided), then the lots
	// left expire: breakage to both issuers.
	ok(ca, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 30000, Flow: flow})
	ok(cb, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 20000, Flow: flow})
	var redemptions [][]byte
	redemptions = append(redemptions, ok(cb, &types.MsgRedeem{CustomerId: "alice", Points: 120, BillPaise: 20000, Flow: flow}).TxHash)
	redemptions = append(redemptions, ok(ca, &types.MsgRedeem{CustomerId: "bob", Points: 50, BillPaise: 10000, Flow: flow}).TxHash)
	v := ok(ca, &types.MsgRedeem{CustomerId: "imp-1", Points: 15, BillPaise: 10000, Flow: flow})
	redemptions = append(redemptions, v.TxHash)
	ok(ca, &types.MsgVoidRedemption{RedemptionId: v.TxHash})
	redemptions = append(redemptions, ok(ca, &types.MsgRedeem{CustomerId: "imp-2", Points: 5, BillPaise: 1000, Flow: flow}).TxHash)

	// Wait until every lot expired and a later epoch closed; confirm a's
	// lines with money due.
	query := func(path string) *client.QueryResult {
		t.Helper()
		q, err := ca.Query(ctx, path, false)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return q
	}
	// Expiry stops once every lot is gone; the statements then hold all
	// breakage once the epoch of the last expiry has closed.
	var stmts []*types.Statement
	for {
		tot, _ := client.Decode[types.Totals](query("/totals"))
		sts, _ := client.Decode[types.StatementsResponse](query("/statements"))
		var inStatements uint64
		for _, s := range sts.Statements {
			for _, l := range s.Lines {
				inStatements += l.Activity.GetExpiredPoints()
			}
		}
		if tot.OutstandingPoints == 0 && tot.ExpiredPoints > 0 && inStatements == tot.ExpiredPoints && tot.Statements < 31 {
			stmts = sts.Statements
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("lots did not expire into statements: %+v", tot)
		case <-time.After(200 * time.Millisecond):
		}
	}
	for _, s := range stmts {
		for _, l := range s.Lines {
			if l.SellerId == sa && l.Status == types.LineStatus_LINE_STATUS_OUTSTANDING {
				ok(ca, &types.MsgConfirmSettlement{Epoch: s.Epoch, BankReference: fmt.Sprintf("REF-%d", s.Epoch)})
			}
		}
	}
	final, _ := n.Backoffice.Chain.Status(ctx)
	for n.Backoffice.Cursor() < final.SyncInfo.LatestBlockHeight {
		select {
		case <-ctx.Done():
			t.Fatal("back office did not catch up")
		case <-time.After(50 * time.Millisecond):
		}
	}
	db := pg.Conn()
	rowsOf := func(sql string, args ...any) []string {
		t.Helper()
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		return out
	}

	// cross_seller_redemptions: each redemption's consumed lots of another
	// issuer, less what a void restored.
	cross := map[string]int64{}
	for _, id := range redemptions {
		x, err := client.Decode[types.Redemption](query("/redemption/" + hex.EncodeToString(id)))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range x.Consumed {
			if u.Issuer != x.SellerId && !x.Voided {
				cross[x.SellerId+" "+u.Issuer] += int64(u.Points)
			}
		}
	}
	var want []string
	for k, v := range cross {
		want = append(want, fmt.Sprintf("%s %d %d", k, v, 100*v))
	}
	sort.Strings(want)
	got := rowsOf(`SELECT redeemed_by, ' ', issuer, ' ', sum(points)::bigint, ' ', sum(value_paise)::bigint
		FROM cross_seller_redemptions GROUP BY 1, 3 HAVING sum(points) <> 0 ORDER BY 1, 3`)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) < 2 {
		t.Fatalf("cross_seller_redemptions %q, chain %q", got, want)
	}

	// breakage: the expired points of every statement line.
	expired := map[string]uint64{}
	for _, s := range stmts {
		for _, l := range s.Lines {
			expired[l.SellerId] += l.Activity.GetExpiredPoints()
		}
	}
	want = nil
	for _, s := range []string{sa, sb} {
		if expired[s] > 0 {
			want = append(want, fmt.Sprintf("%s %d %d", s, expired[s], 100*expired[s]))
		}
	}
	got = rowsOf(`SELECT issuer, ' ', sum(points)::bigint, ' ', sum(value_paise)::bigint FROM breakage GROUP BY 1 ORDER BY 1`)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) != 2 {
		t.Fatalf("breakage %q, chain %q", got, want)
	}

	// statement_lines: every line of every statement, with its status.
	// (Re-read: the confirmations above changed them.)
	want = nil
	for _, s := range stmts {
		st, _ := client.Decode[types.Statement](query("/statement/" + strconv.FormatUint(s.Epoch, 10)))
		for _, l := range st.Lines {
			dir := map[types.Direction]string{types.DirectionPayable: "pays", types.DirectionReceivable: "receives", types.DirectionNone: "none"}[types.DirectionOf(l.NetPaise)]
			want = append(want, fmt.Sprintf("%d %s %d %s %v %s %d", st.Epoch, l.SellerId, l.NetPaise, dir,
				l.Status == types.LineStatus_LINE_STATUS_CONFIRMED, l.BankReference, st.ClosedHeight))
		}
	}
	sort.Strings(want)
	got = rowsOf(`SELECT epoch, ' ', seller, ' ', net_paise, ' ', direction, ' ', confirmed, ' ', coalesce(bank_reference, ''), ' ', closed_height
		FROM statement_lines WHERE epoch = ANY($1) ORDER BY 1, 3`, epochs(stmts))
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statement_lines\n%q\nchain\n%q", got, want)
	}
	confirmed := rowsOf(`SELECT count(*) FROM statement_lines WHERE confirmed AND confirmed_by_tx IS NOT NULL`)
	if confirmed[0] == "0" {
		t.Fatal("no confirmed line in the view")
	}

	// imports and import_batches against the file and /imports/{seller}.
	want = nil
	for _, row := range file {
		want = append(want, fmt.Sprintf("%s %s %d %d %s", sb, row.CustomerId, row.Points, row.ExpiresAt, row.ExternalRef))
	}
	got = rowsOf(`SELECT seller, ' ', customer, ' ', points, ' ', expires_at_unix, ' ', coalesce(external_ref, '') FROM imports ORDER BY height, tx_hash`)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("imports %q, file %q", got, want)
	}
	imp, err := client.Decode[types.ImportResponse](query("/imports/" + sb))
	if err != nil {
		t.Fatal(err)
	}
	f := imp.Files[0]
	got = rowsOf(`SELECT file_digest, ' ', count(*), ' ', sum(last_row - first_row + 1)::bigint, ' ', sum(points)::bigint, ' ', sum(paid_paise)::bigint, ' ', min(remaining_points)
		FROM import_batches WHERE seller = $1 GROUP BY 1`, sb)
	want = []string{fmt.Sprintf("%x %d %d %d %d %d", f.Digest, f.Batches, f.BookedRows, f.Points, 100*f.Points, imp.Approval.MaxPoints-imp.Approval.UsedPoints)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("import_batches %q, chain %q", got, want)
	}
}

func epochs(sts []*types.Statement) []int64 {
	var out []int64
	for _, s := range sts {
		out = append(out, int64(s.Epoch))
	}
	return out
}
