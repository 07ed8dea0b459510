package chainreplay

import (
	"fmt"
	"time"
)

// TimeMap is t' = base + (t − t0)/scale, all in Unix ms: how trace times
// become payment times the chain accepts (see the package documentation).
type TimeMap struct {
	T0Ms      int64 `json:"t0_ms"`
	BaseMs    int64 `json:"base_ms"`
	Scale     int64 `json:"scale"`
	FirstMs   int64 `json:"first_ms"` // the sample's oldest and newest trace time
	LastMs    int64 `json:"last_ms"`
	MappedMin int64 `json:"mapped_first_ms"` // and where they land
	MappedMax int64 `json:"mapped_last_ms"`
}

// At maps a trace time.
func (m TimeMap) At(t int64) int64 { return m.BaseMs + (t-m.T0Ms)/m.Scale }

// Memo is what the first row's transaction carries, so a re-run can read
// the map back from the chain (ParseMemo).
func (m TimeMap) Memo() string {
	return fmt.Sprintf("sim-replay t0=%d base=%d scale=%d", m.T0Ms, m.BaseMs, m.Scale)
}

// ParseMemo reads a Memo back.
func ParseMemo(s string) (t0, base, scale int64, ok bool) {
	n, err := fmt.Sscanf(s, "sim-replay t0=%d base=%d scale=%d", &t0, &base, &scale)
	return t0, base, scale, err == nil && n == 3 && scale >= 1
}

// newestGapMs is how long before the chain's latest block time the newest
// row lands.
const newestGapMs = 60_000

// FitTimeMap chooses the map for a sample spanning [firstMs, lastMs] on a
// chain whose latest block time is nowMs and whose payment-lag window is
// lag: the newest row a minute before now, the oldest at least margin inside
// the window. scale 0 picks the smallest scale that fits (1 when the sample
// fits as it is); a given scale that does not fit is an error.
func FitTimeMap(firstMs, lastMs, nowMs int64, lag, margin time.Duration, scale int64) (TimeMap, error) {
	usable := lag.Milliseconds() - margin.Milliseconds() - newestGapMs
	span := lastMs - firstMs
	if usable <= 0 {
		return TimeMap{}, fmt.Errorf("--margin %s leaves no room in the chain's %s payment-lag window", margin, lag)
	}
	switch {
	case scale < 0:
		return TimeMap{}, fmt.Errorf("time scale %d: must be 0 (auto) or a positive whole number", scale)
	case scale == 0:
		scale = max(1, (span+usable-1)/usable)
	case span/scale > usable:
		return TimeMap{}, fmt.Errorf("--time-scale %d maps the sample's %s onto %s, more than the %s the lag window leaves", scale,
			time.Duration(span)*time.Millisecond, time.Duration(span/scale)*time.Millisecond, time.Duration(usable)*time.Millisecond)
	}
	m := TimeMap{T0Ms: firstMs, Scale: scale, FirstMs: firstMs, LastMs: lastMs, BaseMs: nowMs - newestGapMs - span/scale}
	m.MappedMin, m.MappedMax = m.At(firstMs), m.At(lastMs)
	return m, nil
}

// Resume adopts the base and scale a first run used (read back from its
// memo), keeping the sample's times.
func (m *TimeMap) Resume(base, scale int64) {
	m.BaseMs, m.Scale = base, scale
	m.MappedMin, m.MappedMax = m.At(m.FirstMs), m.At(m.LastMs)
}
