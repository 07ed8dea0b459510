package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/backoffice"
	"github.com/spf13/cobra"
)

// newReportCmd: reports read from the back office's PostgreSQL views
// (docs/backoffice.md), not from the chain.
func newReportCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "report",
		Short: "Back-office reports from the seller's PostgreSQL books (docs/backoffice.md)",
		// -o here is csv or json (the root allows text or json).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output == "text" {
				g.output = "csv"
			}
			if g.output != "csv" && g.output != "json" {
				return usagef("report: --output must be csv or json, not %q", g.output)
			}
			return nil
		},
	}
	var from, to, terminal, url string
	sales := &cobra.Command{
		Use:   "sales --from YYYY-MM-DD --to YYYY-MM-DD [--terminal T]",
		Short: "Sales and points by UTC day, seller and terminal (view sales_by_day_terminal)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := time.Parse("2006-01-02", from)
			if err != nil {
				return usagef("--from %q: want YYYY-MM-DD", from)
			}
			t, err := time.Parse("2006-01-02", to)
			if err != nil {
				return usagef("--to %q: want YYYY-MM-DD", to)
			}
			if url == "" {
				acfg, err := node.LoadAppConfig(g.home)
				if err != nil {
					return err
				}
				url = acfg.Backoffice.PostgresURL
			}
			if url == "" {
				return usagef("no database: set [backoffice] postgres_url in %s/config/app.toml or pass --postgres-url", g.home)
			}
			rows, err := backoffice.Sales(cmd.Context(), url, f, t, terminal)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.output == "json" {
				if rows == nil {
					rows = []backoffice.SalesRow{}
				}
				e := json.NewEncoder(out)
				e.SetIndent("", "  ")
				return e.Encode(rows)
			}
			w := csv.NewWriter(out)
			w.Write([]string{"day", "seller", "terminal", "purchases", "sales_paise", "points_issued", "redemptions",
				"points_redeemed", "refunds", "refunded_paise", "points_clawed_back", "voids", "points_restored"})
			for _, r := range rows {
				n := func(v int64) string { return strconv.FormatInt(v, 10) }
				w.Write([]string{r.Day, r.Seller, r.Terminal, n(r.Purchases), n(r.SalesPaise), n(r.PointsIssued), n(r.Redemptions),
					n(r.PointsRedeemed), n(r.Refunds), n(r.RefundedPaise), n(r.PointsClawedBack), n(r.Voids), n(r.PointsRestored)})
			}
			w.Flush()
			if err := w.Error(); err != nil {
				return fmt.Errorf("csv: %w", err)
			}
			return nil
		},
	}
	sales.Flags().StringVar(&from, "from", "", "first UTC day, YYYY-MM-DD")
	sales.Flags().StringVar(&to, "to", "", "last UTC day, YYYY-MM-DD (inclusive)")
	sales.Flags().StringVar(&terminal, "terminal", "", "one terminal only")
	sales.Flags().StringVar(&url, "postgres-url", "", "connection string (default: [backoffice] postgres_url of the home's app.toml)")
	sales.MarkFlagRequired("from")
	sales.MarkFlagRequired("to")
	c.AddCommand(sales)
	return c
}
