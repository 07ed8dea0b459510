package imports_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/types"
)

var sellers = []string{"s-0", "s-1", "s-2", "s-3"}

func op(s string) string { return apptest.Operator(s) }

// approve passes approve_import for seller by three of the four members.
func approve(t testing.TB, c *apptest.Chain, seller string, points uint64, until int64) {
	t.Helper()
	r := apptest.MustOK(t, c.Do(op("s-1"), &types.MsgPropose{Action: &types.MsgPropose_ApproveImport{
		ApproveImport: &types.ApproveImport{SellerId: seller, MaxPoints: points, UntilHeight: until}}})).GetPropose()
	require.False(t, r.Executed, "one yes of four does not pass")
	v := apptest.MustOK(t, c.Do(op("s-2"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote()
	require.False(t, v.Executed, "two yes of four do not pass")
	v = apptest.MustOK(t, c.Do(op("s-3"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote()
	require.True(t, v.Executed, "three of four pass")
}

func digest(s string) []byte { d := sha256.Sum256([]byte(s)); return d[:] }

func rows(c *apptest.Chain, n int, points uint64) []*types.ImportRow {
	var out []*types.ImportRow
	for i := 0; i < n; i++ {
		out = append(out, &types.ImportRow{CustomerId: fmt.Sprintf("cust-%03d", i), Points: points,
			ExpiresAt: c.Time + 30*86400, ExternalRef: fmt.Sprintf("M%d", i)})
	}
	return out
}

func query[T any, P interface {
	*T
	Unmarshal([]byte) error
}](t *testing.T, c *apptest.Chain, path string) P {
	t.Helper()
	q := c.App.Query(path, false)
	require.Equal(t, types.CodeOK, q.Code, q.Log)
	var v T
	require.NoError(t, P(&v).Unmarshal(q.Value))
	return &v
}

func position(t *testing.T, c *apptest.Chain, s string) int64 {
	return query[types.SellerResponse](t, c, "/seller/"+s).Seller.PositionPaise
}

// An import books each row as an imported lot of the seller, charges the
// seller 100 paise per point, spends the approval, and shows in its own
// statement column; the conservation laws (checked after every block by
// the chain harness, with the import invariant) hold throughout.
func TestImportBooksLotsAndChargesTheSeller(t *testing.T) {
	c := apptest.New(t, sellers, nil)
	c.Block(5)
	m := &types.MsgImportBalances{FileDigest: digest("file-1"), FileRows: 3, Rows: rows(c, 3, 0)}
	m.Rows[0].Points, m.Rows[1].Points, m.Rows[2].Points = 100, 250, 7
	res := c.Do(op("s-0"), m)
	require.Equal(t, types.CodeUnauthorized, res.Code, "no approval yet: %s", res.Log)
	require.Contains(t, res.Log, "approve-import")

	approve(t, c, "s-0", 1000, 0)
	before := position(t, c, "s-0")
	tot0 := query[types.Totals](t, c, "/totals")
	r := apptest.MustOK(t, c.Do(op("s-0"), m)).GetImportBalances()
	require.Equal(t, &types.ImportResult{Rows: 3, Points: 357, SellerPaymentPaise: 35700, RemainingPoints: 643, FileBookedRows: 3, FileRows: 3}, r)
	require.Equal(t, before-35700, position(t, c, "s-0"), "100 paise per point, as issuance")

	b := query[types.BalanceResponse](t, c, "/balance/cust-001")
	require.Equal(t, uint64(250), b.Points)
	require.Len(t, b.Lots, 1)
	require.True(t, b.Lots[0].Imported)
	require.Equal(t, "s-0", b.Lots[0].Issuer)
	require.Equal(t, m.Rows[1].ExpiresAt, b.Lots[0].ExpiresAt)
	h := query[types.HistoryResponse](t, c, "/history/cust-001")
	require.Equal(t, types.HistoryKind_HISTORY_KIND_IMPORT, h.Entries[0].Kind)

	tot := query[types.Totals](t, c, "/totals")
	require.Equal(t, tot0.Purchases, tot.Purchases, "an import is no purchase")
	require.Equal(t, tot0.OutstandingPoints+357, tot.OutstandingPoints)
	require.Equal(t, tot0.EscrowPaise+35700, tot.EscrowPaise)
	require.Equal(t, tot0.Customers+3, tot.Customers)
	crms := query[types.DecisionResponse](t, c, "/crms/cust-001/1000")
	require.Zero(t, crms.Payments, "no payment flow, no CRMS history")

	open := query[types.SellerResponse](t, c, "/seller/s-0").OpenEpoch
	require.Equal(t, uint64(357), open.ImportedPoints)
	require.Zero(t, open.IssuedPoints, "not the epoch issuance (its cap)")
	c.Block(86400) // closes the epoch
	sts := query[types.StatementsResponse](t, c, "/statements")
	var line *types.StatementLine
	for _, l := range sts.Statements[0].Lines {
		if l.SellerId == "s-0" {
			line = l
		}
	}
	require.Equal(t, uint64(357), line.Activity.ImportedPoints)
	require.Equal(t, int64(-35700), line.NetPaise)

	imp := query[types.ImportResponse](t, c, "/imports/s-0")
	require.Equal(t, uint64(357), imp.Approval.UsedPoints)
	require.Equal(t, uint64(3), imp.Approval.Rows)
	require.Len(t, imp.Files, 1)
	require.Equal(t, m.FileDigest, imp.Files[0].Digest)
	require.Equal(t, []*types.RowRange{{First: 0, End: 3}}, imp.Files[0].Booked)
	all := query[types.ImportsResponse](t, c, "/imports")
	require.Equal(t, &types.ImportsTotals{Approvals: 1, Rows: 3, Points: 357}, all.Totals)

	// Imported points spend anywhere; a void restores the lot still marked
	// imported; at expiry the value goes back to the issuer as breakage.
	red := apptest.MustOK(t, c.Do(op("s-2"), &types.MsgRedeem{CustomerId: "cust-001", Points: 250, BillPaise: 30000, Flow: apptest.Flow()})).GetRedeem()
	require.Equal(t, uint64(250), red.CrossSellerPoints)
	apptest.MustOK(t, c.Do(op("s-2"), &types.MsgVoidRedemption{RedemptionId: red.RedemptionId}))
	b = query[types.BalanceResponse](t, c, "/balance/cust-001")
	require.Len(t, b.Lots, 1)
	require.True(t, b.Lots[0].Imported, "restored as imported")
	pos := position(t, c, "s-0")
	c.Block(31 * 86400)
	require.Equal(t, pos+35700, position(t, c, "s-0"), "breakage to the issuer")
}

// Each way a batch is refused, with its code; a refused batch books nothing.
func TestImportRefusals(t *testing.T) {
	p := app.DefaultParams()
	p.MaxImportRowsPerTx = 5
	c := apptest.New(t, sellers, p)
	apptest.MustOK(t, c.Do(op("s-0"), &types.MsgRegisterTerminal{TerminalId: "t1", Pubkey: apptest.Pub("s-0/t1")}))
	approve(t, c, "s-0", 1000, c.Height+40)
	d := digest("file-r")
	apptest.MustOK(t, c.Do(op("s-0"), &types.MsgImportBalances{FileDigest: d, FirstRow: 2, FileRows: 10, Rows: rows(c, 2, 10)}))
	good := func() *types.MsgImportBalances {
		return &types.MsgImportBalances{FileDigest: digest("file-x"), FileRows: 10, Rows: rows(c, 3, 10)}
	}
	cases := []struct {
		name   string
		signer string
		edit   func(*types.MsgImportBalances)
		code   types.Code
		log    string
	}{
		{"terminal key", "s-0/t1", nil, types.CodeUnauthorized, "only the operator key"},
		{"for another seller", op("s-1"), func(m *types.MsgImportBalances) { m.SellerId = "s-0" }, types.CodeUnauthorized, "may not act"},
		{"seller without approval", op("s-1"), nil, types.CodeUnauthorized, "no approved import"},
		{"past the approval", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[1].Points = 975 }, types.CodeInvalidAmount, "row 2 of the file passes the import approval"},
		{"a huge row", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[2].Points = ^uint64(0) }, types.CodeInvalidAmount, "row 3"},
		{"zero points", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[0].Points = 0 }, types.CodeInvalidAmount, "row 1 of the file: points must be positive"},
		{"bad customer id", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[1].CustomerId = "no spaces" }, types.CodeInvalidArgument, "row 2 of the file: customer id"},
		{"expired already", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[0].ExpiresAt = c.Time }, types.CodeInvalidArgument, "not after"},
		{"beyond the lot validity", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[0].ExpiresAt = c.Time + p.LotValiditySeconds + 100 }, types.CodeInvalidArgument, "lot validity"},
		{"too many rows", op("s-0"), func(m *types.MsgImportBalances) { m.Rows = rows(c, 6, 1) }, types.CodeInvalidArgument, "at most 5 rows"},
		{"no rows", op("s-0"), func(m *types.MsgImportBalances) { m.Rows = nil }, types.CodeInvalidArgument, "at least one row"},
		{"short digest", op("s-0"), func(m *types.MsgImportBalances) { m.FileDigest = m.FileDigest[:8] }, types.CodeInvalidArgument, "32 bytes"},
		{"rows past the file", op("s-0"), func(m *types.MsgImportBalances) { m.FirstRow = 8 }, types.CodeInvalidArgument, "past the file's 10 rows"},
		{"rows already booked", op("s-0"), func(m *types.MsgImportBalances) { m.FileDigest = d }, types.CodeInvalidArgument, "rows 3 to 4 are already booked"},
		{"file size changed", op("s-0"), func(m *types.MsgImportBalances) { m.FileDigest, m.FileRows, m.FirstRow = d, 11, 5 }, types.CodeInvalidArgument, "has 10 rows, not 11"},
		{"long external ref", op("s-0"), func(m *types.MsgImportBalances) { m.Rows[0].ExternalRef = strings.Repeat("x", 65) }, types.CodeInvalidArgument, "external reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			if tc.edit != nil {
				tc.edit(m)
			}
			before := query[types.Totals](t, c, "/totals")
			// CheckTx refuses it with the same code the block gives.
			tx := c.Tx(tc.signer, m)
			require.Equal(t, tc.code, c.App.CheckTx(tx).Code)
			res := c.Block(5, tx)[0]
			require.Equal(t, tc.code, res.Code, res.Log)
			require.Contains(t, res.Log, tc.log)
			require.Equal(t, before, query[types.Totals](t, c, "/totals"), "books nothing")
		})
	}
	// After the deadline height no row books.
	for c.Height <= 40+2 {
		c.Block(5)
	}
	res := c.Do(op("s-0"), good())
	require.Equal(t, types.CodeExpired, res.Code, res.Log)
}

// A batch sent again with its key is a replay: booked once, answered with
// the original result. Sent with another key (or cut into other batches),
// the chain still refuses rows of the file it booked.
func TestImportReplayBooksOnce(t *testing.T) {
	c := apptest.New(t, sellers, nil)
	approve(t, c, "s-0", 10_000, 0)
	d := digest("file-2")
	m := &types.MsgImportBalances{FileDigest: d, FileRows: 4, Rows: rows(c, 2, 50)}
	body := c.Body(op("s-0"), m)
	body.IdempotencyKey = imports.BatchKey(d, 0, 2)
	tx := apptest.Sign(body, op("s-0"))
	first := apptest.MustOK(t, c.Block(5, tx)[0]).GetImportBalances()
	pos := position(t, c, "s-0")

	body.ValidUntilHeight++ // a rerun signs a fresh envelope of the same message
	again := c.Block(5, apptest.Sign(body, op("s-0")))[0]
	require.Equal(t, types.CodeDuplicate, again.Code, again.Log)
	var data types.TxResultData
	require.NoError(t, data.Unmarshal(again.Data))
	require.Equal(t, first, data.GetImportBalances(), "the original answer")
	require.Equal(t, pos, position(t, c, "s-0"))
	require.Equal(t, uint64(50), query[types.BalanceResponse](t, c, "/balance/cust-000").Points)

	// Rows 1-3 with another key overlap row 1: refused; rows 2-3 book.
	all := rows(c, 4, 50)
	res := c.Do(op("s-0"), &types.MsgImportBalances{FileDigest: d, FirstRow: 1, FileRows: 4, Rows: all[1:]})
	require.Equal(t, types.CodeInvalidArgument, res.Code, res.Log)
	r := apptest.MustOK(t, c.Do(op("s-0"), &types.MsgImportBalances{FileDigest: d, FirstRow: 2, FileRows: 4, Rows: all[2:]})).GetImportBalances()
	require.Equal(t, uint64(4), r.FileBookedRows)
	f := query[types.ImportResponse](t, c, "/imports/s-0").Files[0]
	require.Equal(t, []*types.RowRange{{First: 0, End: 4}}, f.Booked, "adjacent ranges merge")
	require.Equal(t, uint64(2), f.Batches)
	require.Equal(t, pos-100*100, position(t, c, "s-0"))
}

// A second approval raises the allowance; the proven /imports answers
// verify against the app hash and fail on a dropped entry.
func TestImportQueriesProve(t *testing.T) {
	c := apptest.New(t, sellers, nil)
	approve(t, c, "s-0", 100, 0)
	approve(t, c, "s-3", 100, 0)
	approve(t, c, "s-0", 50, 0)
	apptest.MustOK(t, c.Do(op("s-0"), &types.MsgImportBalances{FileDigest: digest("a"), FileRows: 1, Rows: rows(c, 1, 120)}))
	apptest.MustOK(t, c.Do(op("s-0"), &types.MsgImportBalances{FileDigest: digest("b"), FileRows: 1, Rows: rows(c, 1, 30)}))
	res := c.Do(op("s-0"), &types.MsgImportBalances{FileDigest: digest("c"), FileRows: 1, Rows: rows(c, 1, 1)})
	require.Equal(t, types.CodeInvalidAmount, res.Code, "150 approved, 150 used: %s", res.Log)
	_, hash := c.App.Info()
	for _, path := range []string{"/imports", "/imports/s-0", "/imports/s-3"} {
		q := c.App.Query(path, true)
		require.Equal(t, types.CodeOK, q.Code, q.Log)
		require.NoError(t, app.VerifyQuery(path, q.Value, q.Proofs, hash))
		for i := range q.Proofs {
			dropped := append(append([]*types.ProvenEntry{}, q.Proofs[:i]...), q.Proofs[i+1:]...)
			require.Error(t, app.VerifyQuery(path, q.Value, dropped, hash), "%s without proof %d", path, i)
		}
	}
	imp := query[types.ImportResponse](t, c, "/imports/s-0")
	require.Equal(t, uint64(150), imp.Approval.MaxPoints)
	require.Len(t, imp.Files, 2)
	q := c.App.Query("/imports/s-1", true)
	require.Equal(t, types.CodeNotFound, q.Code)
	require.NoError(t, app.VerifyAbsence("/imports/s-1", q.Proofs, hash))
}

// The dry run's checks: each kind of bad row is found at its line.
func TestValidateFile(t *testing.T) {
	p := app.DefaultParams()
	now := apptest.GenesisTime
	ok := "2026-06-01"
	csv := strings.Join([]string{
		"customer_id,points,expires_at,external_ref",
		"alice,100," + ok + ",A1",
		"bad id!,5," + ok,                  // 3: customer-id
		"bob,0," + ok,                      // 4: points (zero)
		"carol,-3," + ok,                   // 5: malformed (not a whole number)
		"dave,10,2025-01-01",               // 6: expiry (past)
		"erin,10,2030-01-01",               // 7: expiry (beyond the lot validity)
		"alice,1," + ok,                    // 8: duplicate
		"frank,10",                         // 9: malformed (fields)
		"gina,10,tomorrow",                 // 10: malformed (expiry)
		"hank,900,2026-03-01T12:00:00Z,H1", // 11: passes the allowance of 950
		"ivan,1,1780000000",                // Unix seconds
	}, "\n") + "\n"
	f, err := imports.ParseFile(strings.NewReader(csv))
	require.NoError(t, err)
	require.Len(t, f.Lines, 11)
	want := sha256.Sum256([]byte(csv))
	require.Equal(t, want[:], f.Digest)
	probs, total := imports.Validate(f, p, now, 950)
	var got []string
	for _, pr := range probs {
		got = append(got, fmt.Sprintf("%d %s", pr.Line, pr.Kind))
	}
	require.Equal(t, []string{"3 customer-id", "4 points", "5 malformed", "6 expiry", "7 expiry", "8 duplicate",
		"9 malformed", "10 malformed", "11 allowance"}, got)
	require.Equal(t, uint64(1001), total)
	probs, _ = imports.Validate(&imports.FileRows{Lines: f.Lines[:1]}, p, now, 950)
	require.Empty(t, probs)

	bs := imports.Batches(f, 4)
	require.Equal(t, []uint64{0, 4, 8}, []uint64{bs[0].First, bs[1].First, bs[2].First})
	require.Equal(t, uint64(11), bs[2].End)
	require.NoError(t, types.ValidateIdempotencyKey(bs[2].Key))
	left := imports.Unbooked(f.Digest, bs, []*types.RowRange{{First: 0, End: 4}})
	require.Equal(t, bs[1:], left, "booked batches are not sent again")
	left = imports.Unbooked(f.Digest, bs, []*types.RowRange{{First: 1, End: 2}, {First: 3, End: 6}, {First: 10, End: 11}})
	var ranges []string
	for _, b := range left {
		ranges = append(ranges, fmt.Sprintf("%d-%d", b.First, b.End))
		require.Equal(t, imports.BatchKey(f.Digest, b.First, b.End), b.Key)
	}
	require.Equal(t, []string{"0-1", "2-3", "6-8", "8-10"}, ranges, "partly booked batches cut to what is left")
	require.True(t, bytes.HasPrefix([]byte(left[0].Key), []byte("import/")))

	// Rows of the longest ids and references: batches stay within the
	// chain's transaction size whatever the row count allows.
	long := &imports.FileRows{Digest: f.Digest}
	for i := 0; i < 1000; i++ {
		long.Lines = append(long.Lines, imports.Line{Row: &types.ImportRow{CustomerId: strings.Repeat("a", 64), Points: 1 << 60,
			ExpiresAt: 1 << 40, ExternalRef: strings.Repeat("r", 64)}})
	}
	c := apptest.New(t, sellers, nil)
	for _, b := range imports.Batches(long, 1000) {
		m := &types.MsgImportBalances{SellerId: "s-0", FileDigest: long.Digest, FirstRow: b.First, FileRows: 1000}
		for _, l := range long.Lines[b.First:b.End] {
			m.Rows = append(m.Rows, l.Row)
		}
		body := c.Body(op("s-0"), m)
		body.IdempotencyKey = b.Key
		tx := apptest.Sign(body, op("s-0"))
		require.LessOrEqual(t, len(tx), app.MaxTxBytes, "batch %d-%d", b.First, b.End)
		if b.End < 1000 {
			require.Greater(t, b.End-b.First, uint64(80), "batches are not cut needlessly small")
		}
	}
}
