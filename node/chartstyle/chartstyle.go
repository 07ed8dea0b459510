// Package chartstyle is the one look of the project's charts (the CRMS
// simulator's and the audit report's): size, resolution, font, palette,
// and encoding a gonum plot as SVG or PNG. It is product code (node/audit
// and sim import it), so it lives under node/, not internal/, which holds
// test support only. Reporting code: floats are fine here.
package chartstyle

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Size and resolution: 9 × 5.5 in, PNG at 120 dpi (1080 × 660 px).
const (
	W   = 9 * vg.Inch
	H   = 5.5 * vg.Inch
	DPI = 120
)

// Palette colours series in order.
var Palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// Sans is the charts' font at size.
func Sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// Encode draws p at the charts' size to w as "svg" or "png".
func Encode(p *plot.Plot, w io.Writer, format string) error {
	switch format {
	case "svg":
		c := vgsvg.New(W, H)
		p.Draw(draw.New(c))
		_, err := c.WriteTo(w)
		return err
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(W, H), vgimg.UseDPI(DPI))
		p.Draw(draw.New(c))
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	}
	return fmt.Errorf("chart format %q: svg or png", format)
}
