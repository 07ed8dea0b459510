package imports

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/types"
)

// An import file is CSV, one row per customer:
//
//	customer_id,points,expires_at[,external_ref]
//
// with an optional header line whose first field is "customer_id".
// expires_at is RFC 3339 (2026-12-31T23:59:59Z), a date (2026-12-31,
// meaning its 00:00:00 UTC) or Unix seconds. The client (bytepointsd import
// balances) parses, validates and batches a file with these functions; the
// chain checks every row again with CheckRow.

// Line is one data row of a file, as parsed.
type Line struct {
	Line int    // 1-based line number in the file
	Err  string // why the row could not be parsed ("" = it parsed)
	Row  *types.ImportRow
}

// FileRows is a parsed file.
type FileRows struct {
	Digest []byte // SHA-256 of the file's bytes
	Lines  []Line // data rows in file order; Lines[i] is row index i
}

// ParseFile reads an import file. Only unreadable input is an error; a row
// that does not parse is kept with its Err, so a dry run can list it.
func ParseFile(r io.Reader) (*FileRows, error) {
	h := sha256.New()
	cr := csv.NewReader(io.TeeReader(r, h))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	out := &FileRows{}
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			out.Lines = append(out.Lines, Line{Line: perr.Line, Err: perr.Err.Error()})
			continue
		}
		if err != nil {
			return nil, err
		}
		if first {
			first = false
			if len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "customer_id") {
				continue
			}
		}
		out.Lines = append(out.Lines, parseLine(line, rec))
	}
	out.Digest = h.Sum(nil)
	return out, nil
}

func parseLine(line int, rec []string) Line {
	l := Line{Line: line}
	if len(rec) < 3 || len(rec) > 4 {
		l.Err = fmt.Sprintf("%d fields; want customer_id,points,expires_at[,external_ref]", len(rec))
		return l
	}
	row := &types.ImportRow{CustomerId: strings.TrimSpace(rec[0])}
	pts := strings.TrimSpace(rec[1])
	p, err := strconv.ParseUint(pts, 10, 64)
	if err != nil {
		l.Err = fmt.Sprintf("points %q is not a positive whole number", pts)
		return l
	}
	row.Points = p
	exp, err := ParseExpiry(strings.TrimSpace(rec[2]))
	if err != nil {
		l.Err = err.Error()
		return l
	}
	row.ExpiresAt = exp
	if len(rec) == 4 {
		row.ExternalRef = strings.TrimSpace(rec[3])
	}
	l.Row = row
	return l
}

// ParseExpiry reads an expiry: RFC 3339, a date (its 00:00:00 UTC) or
// Unix seconds.
func ParseExpiry(s string) (int64, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Unix(), nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	return 0, fmt.Errorf("expiry %q is neither RFC 3339, a date (YYYY-MM-DD) nor Unix seconds", s)
}

// Problem is a bad row (or, with Line 0, the file as a whole).
type Problem struct {
	Line   int
	Kind   string // "malformed", "customer-id", "points", "expiry", "duplicate", "allowance", "external-ref"
	Detail string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("file: %s: %s", p.Kind, p.Detail)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Kind, p.Detail)
}

// Validate checks every row as the chain would at block time now with
// params p, plus what only the whole file shows: a customer twice, and a
// total beyond the approval's remaining allowance (reported at the line
// where the running total passes it). It returns the problems in line
// order and the total points of the rows that are good.
func Validate(f *FileRows, p *types.Params, now int64, remaining uint64) ([]Problem, uint64) {
	var out []Problem
	seen := make(map[string]int, len(f.Lines))
	var total uint64
	passed := false
	for _, l := range f.Lines {
		if l.Err != "" {
			out = append(out, Problem{l.Line, "malformed", l.Err})
			continue
		}
		if err := CheckRow(p, now, l.Row); err != nil {
			out = append(out, Problem{l.Line, rowKind(l.Row, err), types.Message(err)})
			continue
		}
		if prev, dup := seen[l.Row.CustomerId]; dup {
			out = append(out, Problem{l.Line, "duplicate", fmt.Sprintf("customer %s is already on line %d", l.Row.CustomerId, prev)})
			continue
		}
		seen[l.Row.CustomerId] = l.Line
		if l.Row.Points > ^uint64(0)-total {
			total = ^uint64(0)
		} else {
			total += l.Row.Points
		}
		if total > remaining && !passed {
			passed = true
			out = append(out, Problem{l.Line, "allowance", fmt.Sprintf("the running total %s passes the approval's remaining %s here",
				types.PointsText(total), types.PointsText(remaining))})
		}
	}
	return out, total
}

// rowKind names what CheckRow refused.
func rowKind(row *types.ImportRow, err error) string {
	switch {
	case types.ValidateCustomerID(row.CustomerId) != nil:
		return "customer-id"
	case row.Points == 0:
		return "points"
	case types.ValidateText("external reference", row.ExternalRef, MaxExternalRefLen) != nil && strings.Contains(types.Message(err), "external"):
		return "external-ref"
	}
	return "expiry"
}

// Batch is a range of a file's rows sent in one transaction.
type Batch struct {
	First, End uint64 // data row indices [First, End)
	Key        string // the idempotency key: from the file digest and the range
}

// BatchKey is the idempotency key of rows [first, end) of the file with
// digest: a rerun of the same file with the same batch size signs the same
// keys, so a batch booked before is answered as a replay.
func BatchKey(digest []byte, first, end uint64) string {
	return fmt.Sprintf("import/%s/%d-%d", hex.EncodeToString(digest[:16]), first, end)
}

// MaxBatchRowBytes bounds the encoded rows of one batch, so that a signed
// batch stays within the chain's transaction size (app.MaxTxBytes, 16 KiB)
// with room for the envelope.
const MaxBatchRowBytes = 14 << 10

// Batches cuts the file's rows into batches of at most size rows and
// MaxBatchRowBytes encoded bytes, in order. The cut depends on the file
// alone, so a rerun with the same size makes the same batches (and keys).
func Batches(f *FileRows, size uint64) []Batch {
	var out []Batch
	emit := func(first, end uint64) {
		out = append(out, Batch{First: first, End: end, Key: BatchKey(f.Digest, first, end)})
	}
	var first uint64
	bytes := 0
	for i := range f.Lines {
		sz := 3 // the row's field tag and length
		if r := f.Lines[i].Row; r != nil {
			sz += r.Size()
		}
		if j := uint64(i); j > first && (j-first == size || bytes+sz > MaxBatchRowBytes) {
			emit(first, j)
			first, bytes = j, 0
		}
		bytes += sz
	}
	if n := uint64(len(f.Lines)); first < n {
		emit(first, n)
	}
	return out
}

// Unbooked returns what of the batches no booked range covers: a batch
// untouched as it is, a batch partly booked (only after a run with another
// batch size) cut to its unbooked parts, each with its own key.
func Unbooked(digest []byte, bs []Batch, booked []*types.RowRange) []Batch {
	var out []Batch
	for _, b := range bs {
		first := b.First
		for _, r := range booked { // sorted and disjoint
			if r.End <= first || r.First >= b.End {
				continue
			}
			if r.First > first {
				out = append(out, Batch{First: first, End: r.First})
			}
			first = max(first, r.End)
		}
		if first < b.End {
			out = append(out, Batch{First: first, End: b.End})
		}
	}
	for i := range out {
		out[i].Key = BatchKey(digest, out[i].First, out[i].End)
	}
	return out
}
