package chainreplay

import (
	"strings"
	"testing"
	"time"
)

func TestFitTimeMap(t *testing.T) {
	const now = int64(1_750_000_000_000)
	lag, margin := 7*24*time.Hour, 2*time.Hour
	usable := lag.Milliseconds() - margin.Milliseconds() - newestGapMs
	for _, span := range []int64{0, 3_600_000, usable, usable + 1, 365 * 86_400_000} {
		first := int64(1_700_000_000_000)
		m, err := FitTimeMap(first, first+span, now, lag, margin, 0)
		if err != nil {
			t.Fatalf("span %d: %v", span, err)
		}
		// The newest row a minute before now, the oldest inside the window
		// with the margin to spare, and the smallest scale that does it.
		if m.At(first+span) > now-newestGapMs || m.MappedMax != m.At(first+span) || m.MappedMin != m.At(first) {
			t.Errorf("span %d: newest at %d, now %d", span, m.At(first+span), now)
		}
		if now-m.At(first) > lag.Milliseconds()-margin.Milliseconds() {
			t.Errorf("span %d: oldest %d ms before now, beyond the window less the margin", span, now-m.At(first))
		}
		if m.Scale > 1 && span/(m.Scale-1) <= usable {
			t.Errorf("span %d: scale %d is not the smallest", span, m.Scale)
		}
		if span <= usable && m.Scale != 1 {
			t.Errorf("span %d fits, scale %d", span, m.Scale)
		}
		// Monotone: order is kept.
		if m.At(first+span/2) < m.At(first) || m.At(first+span/2) > m.At(first+span) {
			t.Errorf("span %d: not monotone", span)
		}
	}
	if _, err := FitTimeMap(0, 365*86_400_000, now, lag, margin, 2); err == nil || !strings.Contains(err.Error(), "--time-scale 2") {
		t.Errorf("a scale that does not fit: %v", err)
	}
	if m, err := FitTimeMap(0, 365*86_400_000, now, lag, margin, 100); err != nil || m.Scale != 100 {
		t.Errorf("a given scale that fits: %v %+v", err, m)
	}
	if _, err := FitTimeMap(0, 1, now, lag, lag, 0); err == nil || !strings.Contains(err.Error(), "--margin") {
		t.Errorf("margin filling the window: %v", err)
	}
	if _, err := FitTimeMap(0, 1, now, lag, margin, -1); err == nil {
		t.Error("negative scale accepted")
	}
}

func TestTimeMapMemo(t *testing.T) {
	m := TimeMap{T0Ms: 1_700_000_000_000, BaseMs: 1_750_000_000_123, Scale: 53, FirstMs: 1_700_000_000_000, LastMs: 1_731_536_000_000}
	t0, base, scale, ok := ParseMemo(m.Memo())
	if !ok || t0 != m.T0Ms || base != m.BaseMs || scale != m.Scale {
		t.Fatalf("memo %q → %d %d %d %v", m.Memo(), t0, base, scale, ok)
	}
	for _, bad := range []string{"", "hello", "sim-replay t0=1 base=2 scale=0", "sim-replay t0=x base=2 scale=3"} {
		if _, _, _, ok := ParseMemo(bad); ok {
			t.Errorf("memo %q accepted", bad)
		}
	}
	var r TimeMap = m
	r.Resume(1_760_000_000_000, 60)
	if r.MappedMin != 1_760_000_000_000 || r.MappedMax != r.At(m.LastMs) || r.T0Ms != m.T0Ms {
		t.Errorf("resume %+v", r)
	}
}
