package sim

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress draws a progress bar for a long run. On a terminal it redraws one
// line (at most ten times a second) with a bar, the percentage, the rows
// done, the rate and the time left; elsewhere (a log file, CI) it prints one
// plain line at each tenth of the work, so logs stay short.
type Progress struct {
	w      io.Writer
	tty    bool
	label  string
	total  int64 // units of work (bytes or rows); 0 = unknown
	start  time.Time
	last   time.Time
	decile int
	now    func() time.Time
	drawn  bool
}

// NewProgress returns a progress reporter writing to f (normally os.Stderr)
// for total units of work. It draws a bar when f is a character device.
func NewProgress(f *os.File, label string, total int64) *Progress {
	tty := false
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	return newProgress(f, tty, label, total, time.Now)
}

func newProgress(w io.Writer, tty bool, label string, total int64, now func() time.Time) *Progress {
	t := now()
	return &Progress{w: w, tty: tty, label: label, total: total, start: t, now: now}
}

// SetTotal corrects the units of work once they are known exactly.
func (p *Progress) SetTotal(total int64) { p.total = total }

// Update reports done units of work and rows processed so far.
func (p *Progress) Update(done, rows int64) {
	if p == nil {
		return
	}
	t := p.now()
	if p.tty {
		if p.drawn && t.Sub(p.last) < 100*time.Millisecond {
			return
		}
		p.last, p.drawn = t, true
		fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(done, rows, t, true))
		return
	}
	if p.total <= 0 {
		return
	}
	if d := int(done * 10 / p.total); d > p.decile && d < 10 {
		p.decile = d
		fmt.Fprintln(p.w, p.line(done, rows, t, false))
	}
}

// Done finishes the bar with the final figures on their own line.
func (p *Progress) Done(done, rows int64) {
	if p == nil {
		return
	}
	t := p.now()
	line := p.line(done, rows, t, p.tty)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *Progress) line(done, rows int64, t time.Time, bar bool) string {
	el := t.Sub(p.start).Seconds()
	var b strings.Builder
	b.WriteString(p.label)
	frac := -1.0
	if p.total > 0 {
		frac = min(1, max(0, float64(done)/float64(p.total)))
	}
	if bar && frac >= 0 {
		const width = 30
		n := int(frac * width)
		b.WriteString(" [")
		b.WriteString(strings.Repeat("=", n))
		if n < width {
			b.WriteString(">")
			b.WriteString(strings.Repeat(" ", width-n-1))
		}
		b.WriteString("]")
	}
	if frac >= 0 {
		fmt.Fprintf(&b, " %5.1f%%", 100*frac)
	}
	fmt.Fprintf(&b, "  %s rows", groupThousands(rows))
	if el > 0 {
		fmt.Fprintf(&b, "  %s rows/s", humanRate(float64(rows)/el))
	}
	switch {
	case frac >= 1:
		fmt.Fprintf(&b, "  %s", fmtDuration(el))
	case frac > 0 && el > 0:
		fmt.Fprintf(&b, "  ETA %s", fmtDuration(el/frac-el))
	}
	return b.String()
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.0fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

func fmtDuration(s float64) string {
	n := int(s + 0.5)
	if n >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", n/3600, n/60%60, n%60)
	}
	return fmt.Sprintf("%d:%02d", n/60, n%60)
}

// groupThousands formats n with thousands separators: 2,463,203.
func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
