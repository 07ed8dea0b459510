package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

var proof = Proof{StateHeight: 41, ProvenHeight: 42, AppHash: "00ff"}

func line(seller string, net int64, st types.LineStatus, ref string) *types.StatementLine {
	return &types.StatementLine{SellerId: seller, NetPaise: net, Status: st, BankReference: ref, ConfirmedHeight: 77,
		Activity: &types.SellerEpoch{NetPaise: net, IssuedPoints: 100, RedeemedSamePoints: 1, RedeemedCrossPoints: 2,
			ClawedBackPoints: 3, RefundShortfallPoints: 4, ExpiredPoints: 5, VoidedPoints: 6}}
}

func TestStatementRows(t *testing.T) {
	day := int64(20415 * 86400) // 2025-11-23
	cases := []struct {
		name                 string
		s                    *types.Statement
		start, end, startRFC string
		rows                 []struct {
			seller, net, dir, status, ref string
			paise, confirmed              int64
		}
	}{
		{
			name: "daily epoch, one line of each status",
			s: &types.Statement{Epoch: 20415, StartTime: day, EndTime: day + 86400, StartHeight: 10, ClosedHeight: 20,
				Lines: []*types.StatementLine{
					line("shop-a", -10050, types.LineStatus_LINE_STATUS_CONFIRMED, "UTR1"),
					line("shop-b", 10050, types.LineStatus_LINE_STATUS_OUTSTANDING, "ignored"),
					line("shop-c", 0, types.LineStatus_LINE_STATUS_NOTHING_DUE, ""),
				}},
			start: "2025-11-23", end: "2025-11-23", startRFC: "2025-11-23T00:00:00Z",
			rows: []struct {
				seller, net, dir, status, ref string
				paise, confirmed              int64
			}{
				{"shop-a", "-100.50", "payable", "confirmed", "UTR1", -10050, 77},
				{"shop-b", "100.50", "receivable", "outstanding", "", 10050, 0},
				{"shop-c", "0.00", "none", "nothing-due", "", 0, 0},
			},
		},
		{
			name: "short epoch starting mid-day",
			s: &types.Statement{Epoch: 7, StartTime: day + 3600, EndTime: day + 3603,
				Lines: []*types.StatementLine{{SellerId: "x", NetPaise: 5, Status: types.LineStatus_LINE_STATUS_OUTSTANDING}}},
			start: "2025-11-23", end: "2025-11-23", startRFC: "2025-11-23T01:00:00Z",
			rows: []struct {
				seller, net, dir, status, ref string
				paise, confirmed              int64
			}{{"x", "0.05", "receivable", "outstanding", "", 5, 0}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := StatementRows(c.s, proof)
			require.Len(t, rows, len(c.rows))
			for i, w := range c.rows {
				r := rows[i]
				require.Equal(t, c.s.Epoch, r.Epoch)
				require.Equal(t, c.start, r.EpochStart)
				require.Equal(t, c.end, r.EpochEnd)
				require.Equal(t, c.startRFC, r.EpochStartTime)
				require.Equal(t, w.seller, r.SellerID)
				require.Equal(t, w.net, r.Net)
				require.Equal(t, w.paise, r.NetPaise)
				require.Equal(t, w.dir, r.Direction)
				require.Equal(t, w.status, r.Status)
				require.Equal(t, w.ref, r.BankReference)
				require.Equal(t, w.confirmed, r.ConfirmedAt)
				require.Equal(t, proof, r.Proof)
			}
		})
	}
	rows := StatementRows(cases[0].s, proof)
	require.Equal(t, uint64(100), rows[0].Issued)
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, []uint64{rows[0].RedeemedSame, rows[0].RedeemedCross, rows[0].Refunded,
		rows[0].Shortfall, rows[0].Expired, rows[0].Voided})
	c := Confirmations(rows)
	require.Len(t, c, 1)
	require.Equal(t, ConfirmationRow{Epoch: 20415, SellerID: "shop-a", Net: "-100.50", NetPaise: -10050, Direction: "payable",
		BankReference: "UTR1", ConfirmedAt: 77, Proof: proof}, c[0])
}

// TestCSVMatchesJSON: the CSV header is the JSON names, and every cell is
// the JSON value of the same field.
func TestCSVMatchesJSON(t *testing.T) {
	s := &types.Statement{Epoch: 3, StartTime: 30, EndTime: 40, Lines: []*types.StatementLine{
		line("shop-a", -200, types.LineStatus_LINE_STATUS_CONFIRMED, `ref, with "quotes"`),
		line("shop-b", 200, types.LineStatus_LINE_STATUS_OUTSTANDING, "")}}
	rows := StatementRows(s, proof)
	for name, pair := range map[string][2]func() ([]byte, error){
		"statements":    {func() ([]byte, error) { return CSV(rows) }, func() ([]byte, error) { return JSON(rows) }},
		"confirmations": {func() ([]byte, error) { return CSV(Confirmations(rows)) }, func() ([]byte, error) { return JSON(Confirmations(rows)) }},
		"empty":         {func() ([]byte, error) { return CSV([]ConfirmationRow(nil)) }, func() ([]byte, error) { return JSON([]ConfirmationRow(nil)) }},
	} {
		t.Run(name, func(t *testing.T) {
			cb, err := pair[0]()
			require.NoError(t, err)
			jb, err := pair[1]()
			require.NoError(t, err)
			AssertCSVMatchesJSON(t, cb, jb)
		})
	}
	require.Equal(t, []string{"epoch", "seller_id", "net_rupees", "net_paise", "direction", "bank_reference", "confirmed_height",
		"state_height", "proven_height", "app_hash"}, Columns(ConfirmationRow{}))
}

// AssertCSVMatchesJSON checks that a CSV file and a JSON array of objects
// hold the same rows: the header is each object's keys, each cell the
// value of its key.
func AssertCSVMatchesJSON(t *testing.T, csvData, jsonData []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
	require.NoError(t, err)
	var objs []map[string]any
	d := json.NewDecoder(bytes.NewReader(jsonData))
	d.UseNumber()
	require.NoError(t, d.Decode(&objs))
	require.NotNil(t, objs, "JSON is an array, never null")
	require.Len(t, recs, len(objs)+1)
	for i, o := range objs {
		require.Len(t, o, len(recs[0]))
		for j, col := range recs[0] {
			v, ok := o[col]
			require.True(t, ok, "row %d lacks %s", i, col)
			var s string
			switch x := v.(type) {
			case string:
				s = x
			case json.Number:
				s = x.String()
			case bool:
				s = strconv.FormatBool(x)
			default:
				t.Fatalf("row %d %s: unexpected %T", i, col, v)
			}
			require.Equal(t, s, recs[i+1][j], "row %d column %s", i, col)
		}
	}
}

func TestEpochSummaries(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	st := func(e, escrow uint64, nets ...int64) ProvenStatement {
		s := &types.Statement{Epoch: e, EscrowPaise: escrow}
		for _, n := range nets {
			s.Lines = append(s.Lines, &types.StatementLine{NetPaise: n})
		}
		return ProvenStatement{Statement: s, Proof: proof}
	}
	cases := []struct {
		name     string
		sts      []ProvenStatement
		before   *uint64
		change   []any // int64 or nil
		balanced []any // bool or nil
	}{
		{"from genesis: issue 100, redeem 40 cross", []ProvenStatement{st(5, 6000, -10000, 4000)}, u(0), []any{int64(6000)}, []any{true}},
		{"unknown baseline, then chained", []ProvenStatement{st(5, 6000, -10000, 4000), st(6, 1000, 3000, 2000), st(8, 1000, 0, 0)}, nil,
			[]any{nil, int64(-5000), int64(0)}, []any{nil, true, true}},
		{"a line that does not add up", []ProvenStatement{st(5, 6000, -10000, 4001)}, u(0), []any{int64(6000)}, []any{false}},
		{"all issued points redeemed in the epoch: nets sum to zero", []ProvenStatement{st(9, 500, -7000, 7000)}, u(500), []any{int64(0)}, []any{true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := EpochSummaries(c.sts, c.before)
			require.Len(t, got, len(c.sts))
			for i, e := range got {
				if c.change[i] == nil {
					require.Nil(t, e.EscrowChangePaise)
					require.Nil(t, e.Balanced)
					continue
				}
				require.Equal(t, c.change[i], *e.EscrowChangePaise)
				require.Equal(t, c.balanced[i], *e.Balanced)
			}
		})
	}
}

func TestLiabilities(t *testing.T) {
	sellers := []ProvenSeller{
		{Seller: &types.SellerResponse{Seller: &types.SellerRecord{SellerId: "shop-b", PositionPaise: 4000, Status: types.SellerStatus_SELLER_STATUS_ACTIVE}}, Proof: proof},
		{Seller: &types.SellerResponse{Seller: &types.SellerRecord{SellerId: "shop-a", PositionPaise: -6000, Status: types.SellerStatus_SELLER_STATUS_SUSPENDED},
			OpenEpoch: &types.SellerEpoch{NetPaise: -150}}, Proof: proof},
	}
	rows := []StatementRow{
		{Epoch: 1, SellerID: "shop-a", NetPaise: -10000, Status: "confirmed"},
		{Epoch: 2, SellerID: "shop-a", NetPaise: -250, Status: "outstanding"},
		{Epoch: 3, SellerID: "shop-a", NetPaise: -100, Status: "outstanding"},
		{Epoch: 2, SellerID: "shop-b", NetPaise: 0, Status: "nothing-due"},
	}
	got := Liabilities(sellers, rows)
	require.Equal(t, []LiabilityRow{
		{SellerID: "shop-a", Status: "suspended", Position: "-60.00", PositionPaise: -6000, Direction: "payable", OpenNet: "-1.50", OpenNetPaise: -150,
			OutstandingLines: 2, Outstanding: "-3.50", OutstandingPaise: -350, ConfirmedLines: 1, Proof: proof},
		{SellerID: "shop-b", Status: "active", Position: "40.00", PositionPaise: 4000, Direction: "receivable", OpenNet: "0.00",
			Outstanding: "0.00", Proof: proof},
	}, got)
}

// ParseXML checks that data is well-formed XML with an <svg> root.
func ParseXML(t *testing.T, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	require.Equal(t, "svg", root)
}

func TestChart(t *testing.T) {
	rows := []StatementRow{{Epoch: 4, SellerID: "shop-b", NetPaise: 4000}, {Epoch: 4, SellerID: "shop-a", NetPaise: -10000},
		{Epoch: 5, SellerID: "shop-a", NetPaise: 2500}}
	sellers, pts := Series(rows)
	require.Equal(t, []string{"shop-a", "shop-b"}, sellers)
	require.Equal(t, -100.0, pts["shop-a"][0].Y)
	require.Equal(t, 25.0, pts["shop-a"][1].Y)
	for _, c := range []struct {
		name     string
		rows     []StatementRow
		from, to uint64
	}{{"two sellers", rows, 4, 5}, {"one epoch", rows[:2], 4, 4}, {"no rows", nil, 1, 1}, {"all zero", []StatementRow{{Epoch: 2, SellerID: "x"}}, 2, 2}} {
		t.Run(c.name, func(t *testing.T) {
			svg, err := Chart(c.rows, c.from, c.to, "svg")
			require.NoError(t, err)
			ParseXML(t, svg)
			png, err := Chart(c.rows, c.from, c.to, "png")
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
		})
	}
	_, err := Chart(rows, 4, 5, "gif")
	require.Error(t, err)
}

// fake answers queries from fixed messages, verified or not.
type fake struct {
	msgs       map[string]interface{ Marshal() ([]byte, error) }
	unverified string
	asked      []string
	dates      bool // the test's range was given as dates
}

func (f *fake) Query(_ context.Context, path string, prove bool) (*client.QueryResult, error) {
	f.asked = append(f.asked, path)
	m, ok := f.msgs[path]
	if !ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(path, "/statement/")); err == nil && n >= 10 {
			return nil, &client.QueryError{Code: types.CodeNotFound, Log: fmt.Sprintf("not_found: epoch %d is not closed yet (open epoch is 10)", n)}
		}
		return nil, &client.QueryError{Code: types.CodeNotFound, Log: "not_found: no statement for " + path}
	}
	bz, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	q := &client.QueryResult{Value: bz, Height: 99}
	if prove && path != f.unverified {
		q.Verified = &client.Verification{Height: 100, AppHash: []byte{0xAB, 0xCD}}
	}
	return q, nil
}

func chain() *fake {
	return &fake{msgs: map[string]interface{ Marshal() ([]byte, error) }{
		"/statement/5": &types.Statement{Epoch: 5, StartHeight: 1, EscrowPaise: 6000, Lines: []*types.StatementLine{
			line("shop-a", -10000, types.LineStatus_LINE_STATUS_CONFIRMED, "UTR"), line("shop-b", 4000, types.LineStatus_LINE_STATUS_OUTSTANDING, "")}},
		"/statement/7": &types.Statement{Epoch: 7, StartHeight: 30, EscrowPaise: 6000, Lines: []*types.StatementLine{
			line("shop-a", 0, types.LineStatus_LINE_STATUS_NOTHING_DUE, ""), line("shop-b", 0, types.LineStatus_LINE_STATUS_NOTHING_DUE, "")}},
		"/sellers":       &types.SellersResponse{Sellers: []*types.SellerRecord{{SellerId: "shop-a"}, {SellerId: "shop-b"}}},
		"/seller/shop-a": &types.SellerResponse{Seller: &types.SellerRecord{SellerId: "shop-a", PositionPaise: -10000}},
		"/seller/shop-b": &types.SellerResponse{Seller: &types.SellerRecord{SellerId: "shop-b", PositionPaise: 4000}},
		"/totals":        &types.Totals{OutstandingPoints: 60, EscrowPaise: 6000},
		"/statements/0":  &types.StatementsResponse{Open: &types.EpochState{Epoch: 10}},
	}}
}

func TestCollect(t *testing.T) {
	ctx := context.Background()
	f := chain()
	var progress []uint64
	r, err := Collect(ctx, f, Options{ChainID: "c", From: 5, To: 9, Progress: func(done, total int, e uint64, _ *Proof) {
		require.Equal(t, 5, total)
		progress = append(progress, e)
	}, Now: func() time.Time { return time.Unix(0, 0) }})
	require.NoError(t, err)
	require.Equal(t, []uint64{5, 6, 7, 8, 9}, progress)
	require.Equal(t, []uint64{6, 8, 9}, r.Missing)
	require.Len(t, r.Statements, 2)
	require.Equal(t, uint64(0), *r.EscrowBefore, "epoch 5 starts at genesis")
	require.Equal(t, Proof{StateHeight: 99, ProvenHeight: 100, AppHash: "abcd"}, r.Statements[0].Proof)
	require.Equal(t, []string{"/statements/0", "/statement/9", "/statement/4"}, f.asked[:3], "the open epoch, the last epoch, then the baseline for epoch 5's escrow change")

	x := Build(r)
	require.Len(t, x.Statements, 6, "two lines and the escrow's row for each of two statements")
	sums := map[uint64]int64{}
	for _, row := range x.Statements {
		sums[row.Epoch] += row.NetPaise
	}
	require.Equal(t, map[uint64]int64{5: 0, 7: 0}, sums, "every epoch's rows, the escrow's included, sum to zero")
	require.Equal(t, Party{PartyEscrow, 6000}, Party{x.Statements[2].Party, x.Statements[2].NetPaise}, "epoch 5: the escrow received 60.00")
	// The escrow's row speaks the one vocabulary (types.Directions, types.LineStatuses).
	require.Equal(t, "receivable", x.Statements[2].Direction)
	require.Equal(t, types.LineStatuses.Name(types.LineStatus_LINE_STATUS_NOTHING_DUE), x.Statements[2].Status)
	require.Equal(t, "nothing-due", x.Statements[2].Status)
	require.Len(t, x.Confirmations, 1)
	require.Len(t, x.Liabilities, 2)
	require.True(t, x.Manifest.Balanced)
	require.Equal(t, []Header{{Height: 100, AppHash: "abcd"}}, x.Manifest.Headers)
	dir := t.TempDir()
	require.NoError(t, PrepareDir(dir))
	files, err := x.Write(dir, true)
	require.NoError(t, err)
	require.Len(t, files, 8)
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestJSON))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, uint64(5), m.FromEpoch)
	require.Equal(t, files, m.Files)
	cb, _ := os.ReadFile(filepath.Join(dir, StatementsCSV))
	jb, _ := os.ReadFile(filepath.Join(dir, StatementsJSON))
	AssertCSVMatchesJSON(t, cb, jb)
	svg, _ := os.ReadFile(filepath.Join(dir, SummarySVG))
	ParseXML(t, svg)
}

func TestCollectRefuses(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		from, to uint64
		edit     func(*fake)
		want     string
		code     types.Code
	}{
		{"from after to", 7, 5, nil, "--from-epoch 7 is after --to-epoch 5", types.CodeInvalidArgument},
		{"open epoch", 5, 10, nil, "--to-epoch 10 is not closed yet (open epoch is 10)", types.CodeInvalidArgument},
		{"no statement in range", 8, 9, nil, "no statement in epochs 8 to 9", types.CodeNotFound},
		{"dates on a chain of short epochs", 5, 7, func(f *fake) { f.dates = true; f.msgs["/params"] = &types.Params{EpochSeconds: 3} },
			"a date names a daily epoch, and this chain's epochs last 3 s", types.CodeInvalidArgument},
		{"an unverified answer", 5, 7, func(f *fake) { f.unverified = "/statement/7" }, "the answer to /statement/7 was not verified", 0},
		{"an unverified seller", 5, 7, func(f *fake) { f.unverified = "/seller/shop-b" }, "the answer to /seller/shop-b was not verified", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := chain()
			if c.edit != nil {
				c.edit(f)
			}
			_, err := Collect(ctx, f, Options{From: c.from, To: c.to, Dates: f.dates})
			require.ErrorContains(t, err, c.want)
			if c.code != 0 {
				require.Equal(t, c.code, types.CodeOf(err))
			}
		})
	}
}

func TestPrepareDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, PrepareDir(filepath.Join(dir, "a", "b")))
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := PrepareDir(filepath.Join(file, "sub"))
	require.Error(t, err)
	require.Equal(t, types.CodeInvalidArgument, types.CodeOf(err))
	require.Error(t, PrepareDir(""))
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o555))
		require.ErrorContains(t, PrepareDir(ro), "not writable")
	}
}

// Party pairs a row's party with its net, for comparisons.
type Party struct {
	Name string
	Net  int64
}
