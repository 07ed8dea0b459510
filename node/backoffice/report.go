package backoffice

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// SalesRow is one row of the sales_by_day_terminal view.
type SalesRow struct {
	Day              string `json:"day"`
	Seller           string `json:"seller"`
	Terminal         string `json:"terminal"`
	Purchases        int64  `json:"purchases"`
	SalesPaise       int64  `json:"sales_paise"`
	PointsIssued     int64  `json:"points_issued"`
	Redemptions      int64  `json:"redemptions"`
	PointsRedeemed   int64  `json:"points_redeemed"`
	Refunds          int64  `json:"refunds"`
	RefundedPaise    int64  `json:"refunded_paise"`
	PointsClawedBack int64  `json:"points_clawed_back"`
	Voids            int64  `json:"voids"`
	PointsRestored   int64  `json:"points_restored"`
}

// Sales reads sales_by_day_terminal for the UTC days from..to (inclusive),
// for one terminal when terminal is not empty.
func Sales(ctx context.Context, url string, from, to time.Time, terminal string) ([]SalesRow, error) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.Background())
	rows, err := c.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), coalesce(seller, ''), terminal, purchases, sales_paise, points_issued,
		redemptions, points_redeemed, refunds, refunded_paise, points_clawed_back, voids, points_restored
		FROM sales_by_day_terminal WHERE day BETWEEN $1 AND $2 AND ($3 = '' OR terminal = $3) ORDER BY 1, 2, 3`,
		from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02"), terminal)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SalesRow, error) {
		var s SalesRow
		err := r.Scan(&s.Day, &s.Seller, &s.Terminal, &s.Purchases, &s.SalesPaise, &s.PointsIssued, &s.Redemptions,
			&s.PointsRedeemed, &s.Refunds, &s.RefundedPaise, &s.PointsClawedBack, &s.Voids, &s.PointsRestored)
		return s, err
	})
}
