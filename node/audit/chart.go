package audit

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The chart's size and style follow sim's charts (sim/charts.go): 9 × 5.5
// in, PNG at 120 dpi, Liberation Sans, the same palette.
const (
	chartW   = 9 * vg.Inch
	chartH   = 5.5 * vg.Inch
	chartDPI = 120
)

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

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
	p.Title.TextStyle.Font = sans(15)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "net (Rs): + the escrow pays the seller, - the seller pays it"
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(12)
		ax.Tick.Label.Font = sans(10.5)
		ax.Padding = vg.Points(4)
	}
	p.X.Tick.Marker = epochTicks{}
	p.Legend.TextStyle.Font = sans(11)
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
		c := palette[i%len(palette)]
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
	switch format {
	case "svg":
		c := vgsvg.New(chartW, chartH)
		p.Draw(draw.New(c))
		_, err = c.WriteTo(&buf)
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(chartW, chartH), vgimg.UseDPI(chartDPI))
		p.Draw(draw.New(c))
		_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(&buf)
	default:
		return nil, fmt.Errorf("audit: chart format %q: svg or png", format)
	}
	return buf.Bytes(), err
}
