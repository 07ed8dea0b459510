package audit

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

	"github.com/bytepoints/bytepoints/node/chartstyle"
	"github.com/bytepoints/bytepoints/types"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series are the net amounts per seller and epoch of rows, in rupees (a
// drawing only: the rows keep the exact paise), sellers in id order.
func Series(rows []StatementRow) (sellers []string, points map[string]plotter.XYs) {
	points = map[string]plotter.XYs{}
	for _, r := range rows {
		if r.Party == PartyEscrow {
			continue // the chart is the sellers'; the escrow is their mirror
		}
		if _, ok := points[r.SellerID]; !ok {
			sellers = append(sellers, r.SellerID)
		}
		points[r.SellerID] = append(points[r.SellerID], plotter.XY{X: float64(r.Epoch), Y: float64(r.NetPaise) / 100})
	}
	sort.Strings(sellers)
	for _, s := range sellers {
		xy := points[s]
		sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
	}
	return sellers, points
}

// epochTicks labels whole epochs only, at most about a dozen.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	step := math.Max(1, math.Ceil((last-first+1)/12))
	var ts []plot.Tick
	for v := first; v <= last; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ts
}

// Chart draws the net position per seller per epoch (Rs; positive: the
// escrow pays the seller, negative: the seller pays the escrow) as "svg"
// or "png".
func Chart(rows []StatementRow, from, to uint64, format string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Net settlement per seller, epochs %d to %d", from, to)
	p.Title.TextStyle.Font = chartstyle.Sans(15)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = fmt.Sprintf("net (Rs): + the seller %s, - it %s", types.DirectionReceivable.Does(), types.DirectionPayable.Does())
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = chartstyle.Sans(12)
		ax.Tick.Label.Font = chartstyle.Sans(10.5)
		ax.Padding = vg.Points(4)
	}
	p.X.Tick.Marker = epochTicks{}
	p.Legend.TextStyle.Font = chartstyle.Sans(11)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = vg.Points(3)
	p.Add(plotter.NewGrid())

	zero, err := plotter.NewLine(plotter.XYs{{X: float64(from) - 0.5, Y: 0}, {X: float64(to) + 0.5, Y: 0}})
	if err != nil {
		return nil, err
	}
	zero.Color, zero.Width = color.Gray{Y: 0x60}, vg.Points(1)
	p.Add(zero)
	sellers, pts := Series(rows)
	for i, s := range sellers {
		line, points, err := plotter.NewLinePoints(pts[s])
		if err != nil {
			return nil, err
		}
		c := chartstyle.Palette[i%len(chartstyle.Palette)]
		line.Color, line.Width = c, vg.Points(2)
		points.Color, points.Radius, points.Shape = c, vg.Points(3), draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(s, line, points)
	}
	p.X.Min, p.X.Max = float64(from)-0.5, float64(to)+0.5
	if p.Y.Max <= p.Y.Min {
		p.Y.Min, p.Y.Max = p.Y.Min-1, p.Y.Max+1
	}
	p.Y.Max += 0.15 * (p.Y.Max - p.Y.Min) // headroom for the legend

	var buf bytes.Buffer
	if err := chartstyle.Encode(p, &buf, format); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return buf.Bytes(), nil
}
