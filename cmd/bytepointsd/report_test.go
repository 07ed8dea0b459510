package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/internal/pgtest"
	"github.com/bytepoints/bytepoints/node/backoffice"
)

// TestReportSales: the CLI prints the rows of sales_by_day_terminal, filtered
// by day and terminal, as CSV and as JSON.
func TestReportSales(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	db := pg.Conn()
	if _, err := db.Exec(ctx, backoffice.Schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO bo_txs (height, tx_index, tx_hash, time, code, log, msg, seller, terminal, customer, amount_paise, points, idempotency_key) VALUES
		(5, 0, 'aa', '2026-03-01 10:00Z', 0, '', 'purchase', 's0', 't1', 'alice', 25050, 250, 'k1'),
		(5, 1, 'bb', '2026-03-01 11:00Z', 0, '', 'purchase', 's0', 't2', 'bob', 10000, 100, 'k2'),
		(6, 0, 'cc', '2026-03-02 09:00Z', 0, '', 'redeem', 's0', 't1', 'alice', 5000, 50, 'k3'),
		(7, 0, 'dd', '2026-03-03 09:00Z', 0, '', 'purchase', 's0', 't1', 'carol', 700, 7, 'k4')`); err != nil {
		t.Fatal(err)
	}
	out, code := cli(t, "report", "sales", "--from", "2026-03-01", "--to", "2026-03-02", "--terminal", "t1", "--postgres-url", pg.URL(), "-o", "csv")
	want := "day,seller,terminal,purchases,sales_paise,points_issued,redemptions,points_redeemed,refunds,refunded_paise,points_clawed_back,voids,points_restored\n" +
		"2026-03-01,s0,t1,1,25050,250,0,0,0,0,0,0,0\n" +
		"2026-03-02,s0,t1,0,0,0,1,50,0,0,0,0,0\n"
	if code != 0 || out != want {
		t.Fatalf("csv (exit %d):\n%s\nwant:\n%s", code, out, want)
	}
	out, code = cli(t, "report", "sales", "--from", "2026-03-01", "--to", "2026-03-03", "--postgres-url", pg.URL(), "-o", "json")
	var rows []backoffice.SalesRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("json (exit %d): %s", code, out)
	}
	var n int
	db.QueryRow(ctx, "SELECT count(*) FROM sales_by_day_terminal").Scan(&n)
	if len(rows) != n || n != 4 || rows[3].Day != "2026-03-03" || rows[3].SalesPaise != 700 {
		t.Fatalf("json rows %+v, view has %d", rows, n)
	}
	if _, code := cli(t, "report", "sales", "--from", "2026-03-01", "--to", "2026-03-02", "--postgres-url", pg.URL(), "-o", "text"); code != 0 {
		t.Fatal("default -o text should print csv")
	}
	if out, code := cli(t, "report", "sales", "--from", "March", "--to", "2026-03-02", "--postgres-url", pg.URL()); code == 0 || strings.Contains(out, "day,") {
		t.Fatalf("a bad --from was accepted: %s", out)
	}
}
