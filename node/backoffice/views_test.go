package backoffice_test

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/internal/pgtest"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/jackc/pgx/v5"
)

const (
	viewSellerA = "seller-a"
	viewSellerB = "seller-b"
	// Short epochs so that a statement closes within the test; short lots
	// (until governance lengthens them) so that one expires.
	viewEpochSeconds = 20
	viewLotSeconds   = 2
)

// TestViewsMatchChain plays a scripted day on a real two-seller network
// (two validators; seller A's node feeds a real PostgreSQL): a lot that
// expires (breakage), a cross-seller redemption voided after its lot
// expired, a governance vote lengthening lot validity, purchases at both
// sellers, cross- and same-seller redemptions, a void, refunds (one short
// of points), a closed settlement epoch and one confirmation. It then holds
// the views cross_seller_redemptions, breakage, statement_lines and
// outstanding_points to what the chain's own queries answer (/redemption,
// /statement, /totals, /balance).
func TestViewsMatchChain(t *testing.T) {
	pg := pgtest.Start(t)
	plan, err := node.FreePortPlan(2)
	if err != nil {
		t.Fatal(err)
	}
	params := app.DefaultParams()
	params.EpochSeconds = viewEpochSeconds
	params.LotValiditySeconds = viewLotSeconds
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 2, Output: filepath.Join(t.TempDir(), "net"),
		Sellers: []string{viewSellerA, viewSellerB}, Ports: plan, Params: params,
		TimeoutCommit: 100 * time.Millisecond, Invariants: true})
	if err != nil {
		t.Fatal(err)
	}
	acfg, err := node.LoadAppConfig(m.Homes[0].Dir)
	if err != nil {
		t.Fatal(err)
	}
	acfg.Backoffice.PostgresURL = pg.URL()
	if err := node.WriteAppConfig(m.Homes[0].Dir, acfg); err != nil {
		t.Fatal(err)
	}
	nodes, err := networks.StartInProcess(m, io.Discard, "none", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { networks.StopAll(nodes) })
	na := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := networks.WaitHeight(ctx, na.RPCURL(), 2); err != nil {
		t.Fatal(err)
	}
	dial := func(i int) *client.Client {
		k, err := node.LoadKey(m.Homes[i].Dir, node.OperatorKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Dial(ctx, nodes[i].RPCURL(), k)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ca, cb := dial(0), dial(1)
	pin := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	// do books msg through c and waits until both nodes have it, so the
	// next step may go through the other seller's node.
	do := func(what string, c *client.Client, msg any) *client.Result {
		t.Helper()
		r, err := c.Submit(ctx, msg, client.Options{})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !r.OK() {
			t.Fatalf("%s: %s: %s", what, r.Code.Name(), r.Log)
		}
		for _, n := range nodes {
			if err := networks.WaitHeight(ctx, n.RPCURL(), r.Height); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	blockTime := func() time.Time {
		t.Helper()
		st, err := ca.RPC.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockTime
	}
	// waitBlockTime waits until a committed block's time satisfies ok.
	waitBlockTime := func(what string, ok func(time.Time) bool) {
		t.Helper()
		for !ok(blockTime()) {
			select {
			case <-ctx.Done():
				t.Fatalf("waiting for %s: block time %v", what, blockTime())
			case <-time.After(100 * time.Millisecond): //wallclock:ok paces the poll of the chain's block time
			}
		}
	}
	var redemptions []*client.Result
	voidOf := map[string]*client.Result{} // redemption id (hex) → its void
	void := func(what string, c *client.Client, redemption []byte) *client.Result {
		t.Helper()
		v := do(what, c, &types.MsgVoidRedemption{RedemptionId: redemption})
		voidOf[hex.EncodeToString(redemption)] = v
		return v
	}

	// 1. Breakage, and a void after expiry. At the start of an epoch (so
	// that the void falls in the redemption's epoch): dora earns at A, B
	// redeems part of it (cross-seller), the rest expires at block level,
	// then B voids the redemption: its lot has expired meanwhile, so its
	// points are not handed back but lapse as A's breakage at once.
	waitBlockTime("the start of an epoch", func(bt time.Time) bool { return bt.Unix()%viewEpochSeconds < 3 })
	dora := do("dora buys at A", ca, &types.MsgPurchase{CustomerId: "dora", AmountPaise: 10000, Flow: pin})
	red := do("dora redeems at B", cb, &types.MsgRedeem{CustomerId: "dora", Points: 30, BillPaise: 5000, Flow: pin})
	redemptions = append(redemptions, red)
	exp := dora.Data.GetPurchase().ExpiresAt
	waitBlockTime("dora's lot to expire", func(bt time.Time) bool { return bt.Unix() > exp })
	if v := void("B voids dora's redemption", cb, red.TxHash).Data.GetVoid(); v.PointsExpired != 30 || v.PointsRestored != 0 {
		t.Fatalf("the void after expiry restored %d and lapsed %d, want 0 and 30", v.PointsRestored, v.PointsExpired)
	}

	// 2. Governance lengthens lot validity: nothing else expires in the test.
	q, err := ca.Query(ctx, "/params", false)
	if err != nil {
		t.Fatal(err)
	}
	np, err := client.Decode[types.Params](q)
	if err != nil {
		t.Fatal(err)
	}
	np.LotValiditySeconds = 365 * 86400
	prop := do("A proposes year-long lots", ca, &types.MsgPropose{Description: "year-long lots", Action: &types.MsgPropose_SetParams{SetParams: np}})
	vote := do("B votes yes", cb, &types.MsgVote{ProposalId: prop.Data.GetPropose().ProposalId, Yes: true})
	if !vote.Data.GetVote().Executed {
		t.Fatalf("the params change did not pass: %+v", vote.Data.GetVote())
	}

	// 3. The day's bookings.
	a1 := do("alice buys at A", ca, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 20000, Flow: pin})
	a2 := do("alice buys again at A", ca, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 8000, Flow: pin})
	do("bob buys at B", cb, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 15000, Flow: pin})
	do("alice buys at B", cb, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 4000, Flow: pin})
	redemptions = append(redemptions, do("alice redeems A's points at B", cb, &types.MsgRedeem{CustomerId: "alice", Points: 250, BillPaise: 50000, Flow: pin}))
	r := do("bob redeems B's points at A", ca, &types.MsgRedeem{CustomerId: "bob", Points: 50, BillPaise: 9000, Flow: pin})
	redemptions = append(redemptions, r)
	void("A voids bob's redemption", ca, r.TxHash)
	redemptions = append(redemptions, do("alice redeems at A", ca, &types.MsgRedeem{CustomerId: "alice", Points: 20, BillPaise: 3000, Flow: pin}))
	ref := do("A refunds ₹30 of alice's second purchase", ca, &types.MsgRefund{PurchaseId: a2.TxHash, AmountPaise: 3000})
	if ref.Data.GetRefund().PointsShortfall == 0 {
		t.Fatalf("the refund found the points it reverses: %+v (the script wants a shortfall)", ref.Data.GetRefund())
	}
	carol := do("carol buys at B", cb, &types.MsgPurchase{CustomerId: "carol", AmountPaise: 1000, Flow: pin})
	last := do("B refunds carol", cb, &types.MsgRefund{PurchaseId: carol.TxHash})
	_ = a1

	// 4. The epoch holding the day closes; A confirms its line.
	var closed *types.Statement
	for closed == nil {
		q, err := ca.Query(ctx, "/statements", false)
		if err != nil {
			t.Fatal(err)
		}
		s, err := client.Decode[types.StatementsResponse](q)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Statements) > 0 && s.Statements[0].ClosedHeight > last.Height {
			closed = s.Statements[0]
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the day's epoch did not close")
		case <-time.After(200 * time.Millisecond): //wallclock:ok paces the poll of /statements
		}
	}
	var line *types.StatementLine
	for _, l := range closed.Lines {
		if l.SellerId == viewSellerA {
			line = l
		}
	}
	if line == nil || line.Status != types.LineStatus_LINE_STATUS_OUTSTANDING {
		t.Fatalf("A's line of epoch %d: %+v", closed.Epoch, line)
	}
	do("A confirms its line", ca, &types.MsgConfirmSettlement{Epoch: closed.Epoch, BankReference: "UTR-VIEWS-1"})

	// The chain's answers, then the database caught up to their height.
	stq, err := ca.Query(ctx, "/statements", false)
	if err != nil {
		t.Fatal(err)
	}
	sts, err := client.Decode[types.StatementsResponse](stq)
	if err != nil {
		t.Fatal(err)
	}
	asOf := stq.Height
	if sts.Statements[len(sts.Statements)-1].StartHeight > 1 {
		t.Fatalf("/statements did not list every statement: oldest starts at %d", sts.Statements[len(sts.Statements)-1].StartHeight)
	}
	for na.Backoffice.Cursor() < asOf {
		select {
		case <-ctx.Done():
			t.Fatalf("back office at %d, chain answered at %d", na.Backoffice.Cursor(), asOf)
		case <-time.After(50 * time.Millisecond): //wallclock:ok paces the poll of the follower's cursor
		}
	}
	db := pg.Conn()
	dayOf := func(unix int64) string { return time.Unix(unix, 0).UTC().Format("2006-01-02") }
	blockDay := func(h int64) string {
		b, err := na.Backoffice.Chain.Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		return b.Block.Time.UTC().Format("2006-01-02")
	}

	// cross_seller_redemptions against the redemption records: each lot
	// use whose issuer is not the redeeming seller, minus voided ones on
	// the void's day.
	wantCross := map[string]int64{}
	crossBySeller := map[string]int64{}
	for _, r := range redemptions {
		q, err := ca.Query(ctx, "/redemption/"+hex.EncodeToString(r.TxHash), false)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := client.Decode[types.Redemption](q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range rec.Consumed {
			if u.Issuer == rec.SellerId {
				continue
			}
			wantCross[fmt.Sprintf("%s %s %s", dayOf(rec.Time), rec.SellerId, u.Issuer)] += int64(u.Points)
			crossBySeller[rec.SellerId] += int64(u.Points)
			if rec.Voided {
				v := voidOf[hex.EncodeToString(rec.RedemptionId)]
				if v == nil {
					t.Fatalf("redemption %x is voided but the script booked no void of it", rec.RedemptionId)
				}
				wantCross[fmt.Sprintf("%s %s %s", blockDay(v.Height), rec.SellerId, u.Issuer)] -= int64(u.Points)
				crossBySeller[rec.SellerId] -= int64(u.Points)
			}
		}
	}
	gotCross := map[string]int64{}
	for _, row := range rowsOf(t, db, "SELECT to_char(day, 'YYYY-MM-DD'), redeemed_by, issuer, points, value_paise FROM cross_seller_redemptions") {
		if row[4] != fmt.Sprint(100*atoi(t, row[3])) {
			t.Fatalf("cross-seller row %v: value is not 100 paise a point", row)
		}
		gotCross[strings.Join(row[:3], " ")] += atoi(t, row[3])
	}
	if fmt.Sprint(gotCross) != fmt.Sprint(wantCross) {
		t.Errorf("cross_seller_redemptions %v, the redemption records %v", gotCross, wantCross)
	}
	// ... and per redeeming seller against the statements' cross-seller points.
	stmtCross, stmtExpired := map[string]int64{}, map[string]int64{}
	for _, st := range sts.Statements {
		for _, l := range st.Lines {
			stmtCross[l.SellerId] += int64(l.Activity.GetRedeemedCrossPoints())
			stmtExpired[l.SellerId] += int64(l.Activity.GetExpiredPoints())
		}
	}
	viewCross := map[string]int64{}
	for k, v := range gotCross {
		viewCross[strings.Fields(k)[1]] += v
	}
	for s, v := range stmtCross {
		if crossBySeller[s] != v {
			t.Errorf("cross-seller points redeemed by %s: redemption records %d, statements %d", s, crossBySeller[s], v)
		}
		if viewCross[s] != v {
			t.Errorf("cross-seller points redeemed by %s: view %d, statements %d", s, viewCross[s], v)
		}
	}

	// breakage against the statements' expired points by issuer and /totals.
	tq, err := ca.Query(ctx, "/totals", false)
	if err != nil {
		t.Fatal(err)
	}
	totals, _ := client.Decode[types.Totals](tq)
	gotBreak := map[string]int64{}
	var breakTotal int64
	for _, row := range rowsOf(t, db, "SELECT issuer, points, value_paise FROM breakage") {
		if row[2] != fmt.Sprint(100*atoi(t, row[1])) {
			t.Fatalf("breakage row %v: value is not 100 paise a point", row)
		}
		gotBreak[row[0]] += atoi(t, row[1])
		breakTotal += atoi(t, row[1])
	}
	for s, v := range stmtExpired {
		if gotBreak[s] != v {
			t.Errorf("breakage of %s: view %d, statements %d", s, gotBreak[s], v)
		}
	}
	if breakTotal != int64(totals.ExpiredPoints) || breakTotal != 100 || gotBreak[viewSellerA] != 100 {
		t.Errorf("breakage %v (total %d), /totals expired %d, want dora's 100 points as A's", gotBreak, breakTotal, totals.ExpiredPoints)
	}

	// statement_lines against every /statement/{epoch}.
	var want []string
	for _, st := range sts.Statements {
		q, err := ca.Query(ctx, fmt.Sprintf("/statement/%d", st.Epoch), false)
		if err != nil {
			t.Fatal(err)
		}
		s, err := client.Decode[types.Statement](q)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range s.Lines {
			want = append(want, fmt.Sprintf("%d %s %d %s %d %s ref=%q at=%d", s.Epoch, l.SellerId, l.NetPaise,
				types.LineStatuses.Name(l.Status), s.ClosedHeight, dayOf(s.EndTime), l.BankReference, l.ConfirmedHeight))
		}
	}
	sort.Strings(want)
	var got []string
	for _, row := range rowsOf(t, db, `SELECT epoch, seller, net_paise, status, closed_height, to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
		coalesce(bank_reference, ''), coalesce(confirmed_height, 0), confirmed, direction FROM statement_lines WHERE closed_height <= $1`, asOf) {
		net := atoi(t, row[2])
		dir := map[bool]string{true: "receives", false: "pays"}[net > 0]
		if net == 0 {
			dir = "none"
		}
		if row[9] != dir || (row[8] == "true") != (row[3] == "confirmed") {
			t.Errorf("statement line %v: direction or confirmed does not follow net and status", row)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s ref=%q at=%s", row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]))
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statement_lines:\n%s\n/statement:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(strings.Join(got, "\n"), fmt.Sprintf("%d %s %d confirmed", closed.Epoch, viewSellerA, line.NetPaise)) {
		t.Errorf("A's confirmed line of epoch %d is not in statement_lines:\n%s", closed.Epoch, strings.Join(got, "\n"))
	}

	// outstanding_points against /balance's lots by issuer, every customer.
	for _, c := range []string{"dora", "alice", "bob", "carol"} {
		q, err := ca.Query(ctx, "/balance/"+c, false)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := client.Decode[types.BalanceResponse](q)
		lots := map[string]int64{}
		for _, l := range b.Lots {
			lots[l.Issuer] += int64(l.Points)
		}
		view := map[string]int64{}
		for _, row := range rowsOf(t, db, "SELECT issuer, points FROM outstanding_points WHERE customer = $1", c) {
			view[row[0]] = atoi(t, row[1])
		}
		if fmt.Sprint(view) != fmt.Sprint(lots) {
			t.Errorf("outstanding_points of %s: view %v, /balance lots %v", c, view, lots)
		}
	}
	var others int
	db.QueryRow(ctx, "SELECT count(*) FROM outstanding_points WHERE customer NOT IN ('dora', 'alice', 'bob', 'carol')").Scan(&others)
	var sumView int64
	db.QueryRow(ctx, "SELECT coalesce(sum(points), 0)::bigint FROM outstanding_points").Scan(&sumView)
	if others != 0 || sumView != int64(totals.OutstandingPoints) {
		t.Errorf("outstanding_points: %d rows of unknown customers, sum %d, /totals outstanding %d", others, sumView, totals.OutstandingPoints)
	}

	// The rows, for docs/backoffice.md.
	for _, v := range []string{
		"SELECT day, seller, terminal, purchases, sales_paise, points_issued, redemptions, points_redeemed, refunds, points_clawed_back, voids, points_restored FROM sales_by_day_terminal ORDER BY day, seller, terminal",
		"SELECT customer, points FROM outstanding_points WHERE issuer = 'seller-b' ORDER BY points DESC",
		"SELECT * FROM cross_seller_redemptions ORDER BY day, redeemed_by, issuer",
		"SELECT * FROM breakage ORDER BY day, issuer",
		"SELECT epoch, seller, net_paise, direction, status, bank_reference, confirmed_height FROM statement_lines WHERE net_paise <> 0 ORDER BY epoch, seller",
	} {
		t.Logf("%s\n%s", v, table(t, db, v))
	}
}

// rowsOf runs a query and returns its rows as text.
func rowsOf(t *testing.T, db *pgx.Conn, sql string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				row[i] = ""
			case time.Time:
				row[i] = x.UTC().Format("2006-01-02")
			case driver.Valuer: // numeric sums
				dv, err := x.Value()
				if err != nil {
					t.Fatal(err)
				}
				row[i] = fmt.Sprint(dv)
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// table prints a query's result as psql's aligned format would.
func table(t *testing.T, db *pgx.Conn, sql string) string {
	t.Helper()
	rows, err := db.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var head []string
	for _, f := range rows.FieldDescriptions() {
		head = append(head, f.Name)
	}
	rows.Close()
	body := rowsOf(t, db, sql)
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = len([]rune(h))
		for _, r := range body {
			width[i] = max(width[i], len([]rune(r[i])))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(c + strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		return strings.TrimRight(b.String(), " ")
	}
	out := []string{line(head)}
	var sep []string
	for _, w := range width {
		sep = append(sep, strings.Repeat("-", w))
	}
	out = append(out, strings.Join(sep, "-+-"))
	for _, r := range body {
		out = append(out, line(r))
	}
	out = append(out, fmt.Sprintf("(%d rows)", len(body)))
	return strings.Join(out, "\n")
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	var v int64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("%q is not a number: %v", s, err)
	}
	return v
}
