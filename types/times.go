package types

import (
	"strconv"
	"strings"
	"time"
)

// Times have one format on every surface: RFC 3339 in UTC ("2026-12-03T13:27:44Z"),
// with milliseconds only where the value has them. JSON that also wants a
// number carries it beside the text as <name>_unix (seconds) or
// <name>_unix_ms. These helpers format values the chain already holds; they
// never read a clock.

// FormatUnix renders Unix seconds as RFC 3339 UTC.
func FormatUnix(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }

// FormatUnixMs renders Unix milliseconds as RFC 3339 UTC, with the
// milliseconds when there are any.
func FormatUnixMs(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// FormatDate renders Unix seconds as the UTC date ("2026-12-03").
func FormatDate(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.DateOnly) }

// ParseTimeMs reads a time a person or a till typed: RFC 3339 (any offset,
// converted to UTC), or Unix milliseconds as a plain integer. An empty
// string is invalid_argument.
func ParseTimeMs(what, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, Errorf(CodeInvalidArgument, "%s is empty: give an RFC 3339 time such as 2026-12-03T10:15:00Z", what)
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, Errorf(CodeInvalidArgument, "%s %q: give an RFC 3339 time such as 2026-12-03T10:15:00Z (or Unix milliseconds)", what, clip(s))
	}
	return t.UnixMilli(), nil
}
