package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
)

// TxType is the trace's transaction type (SPEC §8).
type TxType uint8

const (
	TxSale   TxType = 1
	TxRefund TxType = 6
)

// DefaultUTCOffset is the offset of the terminals' local clock used to turn a
// trace's date and time into an instant: India Standard Time. The chain's
// settlement epoch (and so the CRMS risk budget) is the UTC day, whose
// boundary falls at 05:30 local time, when the shops are closed.
const DefaultUTCOffset = 5*time.Hour + 30*time.Minute

// Trace is one row of a trace file. Strings returned by a Reader are interned:
// every row of the same card shares one string, so keeping a Trace costs no
// allocation beyond the first row of each card, terminal and shop.
type Trace struct {
	Card        string        // card token (opaque; by convention 64 hex characters)
	ReadType    crms.ReadType // 2 magstripe, 3 contact EMV, 5 contactless magstripe, 6 contactless EMV
	Date        int32         // local date YYYYMMDD
	Clock       int32         // local time HHMMSS
	TimeMs      int64         // the same instant in ms since the Unix epoch
	Type        TxType        // 1 sale, 6 refund
	AmountPaise uint64        // amount in 1/100 units of the traces' currency; the file holds units with 2 decimals
	Terminal    string        // optional
	Shop        string        // optional; the seller whose risk budget a skip uses
	CVM         crms.CVM      // optional "flow" column: CVM code 1..7, 0 = not recorded
	VerifyMs    uint32        // optional "cvm_ms": measured verification time, 0 = not measured
	Auth        crms.Auth     // optional "auth": 1 approved, 2 declined, 0 = not recorded (approved)
}

// Column names, in the order Writer writes them. The first six are required
// on input; the others are optional and may come in any order.
var columns = []string{"card", "read_type", "date", "time", "type", "amount", "terminal", "shop", "flow", "cvm_ms", "auth"}

const (
	colCard = iota
	colReadType
	colDate
	colTime
	colType
	colAmount
	colTerminal
	colShop
	colFlow
	colCVMMs
	colAuth
	numCols
	nRequired = colAmount + 1
)

// aliases accepted in a header, besides the canonical names.
var columnAliases = map[string]int{
	"card_token": colCard, "token": colCard, "readtype": colReadType,
	"tx_type": colType, "transaction_type": colType, "terminal_id": colTerminal,
	"shop_id": colShop, "seller": colShop, "seller_id": colShop, "cvm": colFlow,
	"verify_ms": colCVMMs, "verification_ms": colCVMMs,
}

// ParseError is a bad row or header, with its 1-based line number.
type ParseError struct {
	Line   int64
	Column string // empty when the row as a whole is wrong
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("traces: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("traces: line %d: column %s: %v", e.Line, e.Column, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reader streams a trace CSV: a header row, then one row per payment.
// Fields are split by hand on commas (optionally wrapped in double quotes,
// without embedded commas or quotes), so a row costs no allocation.
type Reader struct {
	br        *bufio.Reader
	line      int64
	bytes     int64
	idx       [numCols]int // column number of each field, -1 if absent
	ncol      int
	fields    [][]byte
	utcOffset int64 // ms
	intern    map[string]string
	cardIDs   map[string]int32 // card token → dense number, in order of first appearance
	cardID    int32            // number of the card of the row last read
	cards     []string
}

// NewReader reads the header and returns a reader positioned at the first
// row. Times are read as local time at DefaultUTCOffset (see SetUTCOffset).
func NewReader(r io.Reader) (*Reader, error) {
	tr := &Reader{
		br:        bufio.NewReaderSize(r, 1<<20),
		utcOffset: DefaultUTCOffset.Milliseconds(),
		intern:    make(map[string]string),
		cardIDs:   make(map[string]int32, 1<<16),
	}
	line, err := tr.readLine()
	if err == io.EOF {
		return nil, &ParseError{Line: 1, Err: errors.New("empty file: expected a header row " + strings.Join(columns[:nRequired], ","))}
	}
	if err != nil {
		return nil, err
	}
	for i := range tr.idx {
		tr.idx[i] = -1
	}
	hdr := splitFields(line, nil)
	tr.ncol = len(hdr)
	for i, h := range hdr {
		name := strings.ToLower(strings.TrimSpace(string(h)))
		c := -1
		for j, n := range columns {
			if n == name {
				c = j
			}
		}
		if c < 0 {
			if a, ok := columnAliases[name]; ok {
				c = a
			}
		}
		if c < 0 {
			continue // unknown columns are ignored
		}
		if tr.idx[c] >= 0 {
			return nil, &ParseError{Line: 1, Err: fmt.Errorf("column %q appears twice", columns[c])}
		}
		tr.idx[c] = i
	}
	for c := range nRequired {
		if tr.idx[c] < 0 {
			return nil, &ParseError{Line: 1, Err: fmt.Errorf("header lacks required column %q (need %s)", columns[c], strings.Join(columns[:nRequired], ","))}
		}
	}
	tr.fields = make([][]byte, 0, tr.ncol)
	return tr, nil
}

// SetUTCOffset sets the offset of the local clock in the date and time
// columns (default DefaultUTCOffset).
func (r *Reader) SetUTCOffset(d time.Duration) { r.utcOffset = d.Milliseconds() }

// Line is the number of the line last read (the header is line 1).
func (r *Reader) Line() int64 { return r.line }

// BytesRead is how many bytes of input the rows read so far took.
func (r *Reader) BytesRead() int64 { return r.bytes }

// readLine returns the next line without its line ending; the slice is valid
// until the next call.
func (r *Reader) readLine() ([]byte, error) {
	for {
		line, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, &ParseError{Line: r.line + 1, Err: errors.New("line longer than 1 MiB")}
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(line) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		r.line++
		r.bytes += int64(len(line))
		line = trimEOL(line)
		if len(line) == 0 {
			if err == io.EOF {
				return nil, io.EOF
			}
			continue // blank lines are allowed
		}
		return line, nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func splitFields(line []byte, dst [][]byte) [][]byte {
	dst = dst[:0]
	start := 0
	for i := 0; i <= len(line); i++ {
		if i == len(line) || line[i] == ',' {
			f := line[start:i]
			for len(f) > 0 && f[0] == ' ' {
				f = f[1:]
			}
			for len(f) > 0 && f[len(f)-1] == ' ' {
				f = f[:len(f)-1]
			}
			if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
				f = f[1 : len(f)-1]
			}
			dst = append(dst, f)
			start = i + 1
		}
	}
	return dst
}

// Read reads the next row into t. It returns io.EOF after the last row and a
// *ParseError for a malformed one.
func (r *Reader) Read(t *Trace) error {
	line, err := r.readLine()
	if err != nil {
		return err
	}
	r.fields = splitFields(line, r.fields)
	if len(r.fields) != r.ncol {
		return &ParseError{Line: r.line, Err: fmt.Errorf("%d fields, the header has %d", len(r.fields), r.ncol)}
	}
	bad := func(c int, err error) error {
		return &ParseError{Line: r.line, Column: columns[c], Err: err}
	}
	get := func(c int) []byte {
		if i := r.idx[c]; i >= 0 {
			return r.fields[i]
		}
		return nil
	}

	*t = Trace{}
	card := get(colCard)
	if len(card) == 0 {
		return bad(colCard, errors.New("empty card token"))
	}
	if id, ok := r.cardIDs[string(card)]; ok { // no allocation for a known card
		r.cardID = id
		t.Card = r.cards[id]
	} else {
		r.cardID = int32(len(r.cards))
		t.Card = string(card)
		r.cardIDs[t.Card] = r.cardID
		r.cards = append(r.cards, t.Card)
	}

	rt, ok := atoiSmall(get(colReadType))
	if !ok || !crms.ReadType(rt).Valid() {
		return bad(colReadType, fmt.Errorf("%q is not a read type (2 magstripe, 3 contact EMV, 5 contactless magstripe, 6 contactless EMV)", get(colReadType)))
	}
	t.ReadType = crms.ReadType(rt)

	d, ok := atoiSmall(get(colDate))
	if !ok || len(get(colDate)) != 8 {
		return bad(colDate, fmt.Errorf("%q is not a date YYYYMMDD", get(colDate)))
	}
	y, mo, dd := d/10000, d/100%100, d%100
	if mo < 1 || mo > 12 || dd < 1 || dd > daysIn(y, mo) || y < 1970 {
		return bad(colDate, fmt.Errorf("%q is not a valid date", get(colDate)))
	}
	tf := get(colTime)
	hms, ok := atoiSmall(tf)
	if !ok || len(tf) < 1 || len(tf) > 6 {
		return bad(colTime, fmt.Errorf("%q is not a time HHMMSS", tf))
	}
	h, mi, s := hms/10000, hms/100%100, hms%100
	if h > 23 || mi > 59 || s > 59 {
		return bad(colTime, fmt.Errorf("%q is not a valid time", tf))
	}
	t.Date, t.Clock = int32(d), int32(hms)
	t.TimeMs = localToUnixMs(y, mo, dd, h, mi, s, r.utcOffset)

	typ, ok := atoiSmall(get(colType))
	if !ok || (typ != int(TxSale) && typ != int(TxRefund)) {
		return bad(colType, fmt.Errorf("%q is not a transaction type (1 sale, 6 refund)", get(colType)))
	}
	t.Type = TxType(typ)

	amt, err := parsePaise(get(colAmount))
	if err != nil {
		return bad(colAmount, err)
	}
	t.AmountPaise = amt

	if f := get(colTerminal); len(f) > 0 {
		t.Terminal = r.internBytes(f)
	}
	if f := get(colShop); len(f) > 0 {
		t.Shop = r.internBytes(f)
	}
	if f := get(colFlow); len(f) > 0 {
		c, ok := atoiSmall(f)
		if !ok || !crms.CVM(c).Valid() {
			return bad(colFlow, fmt.Errorf("%q is not a CVM code 1..7", f))
		}
		t.CVM = crms.CVM(c)
	}
	if f := get(colCVMMs); len(f) > 0 {
		v, ok := atoiSmall(f)
		if !ok || v > 3_600_000 {
			return bad(colCVMMs, fmt.Errorf("%q is not a duration in ms (0..3600000)", f))
		}
		t.VerifyMs = uint32(v)
	}
	if f := get(colAuth); len(f) > 0 {
		a, ok := atoiSmall(f)
		if !ok || !crms.Auth(a).Valid() {
			return bad(colAuth, fmt.Errorf("%q is not an authorisation result (1 approved, 2 declined)", f))
		}
		t.Auth = crms.Auth(a)
	}
	// A contradictory flow (SPEC §6.1) is refused here, so every trace read
	// has a flow the chain accepts.
	f := t.Flow()
	if err := crms.ValidFlow(f.ReadType, f.CVM, f.Auth); err != nil {
		return &ParseError{Line: r.line, Column: columns[colAuth], Err: fmt.Errorf("flow %d with auth %d: %w", f.CVM, f.Auth, err)}
	}
	return nil
}

// CardIndex is the number of the last row's card: 0, 1, 2, ... in order of
// first appearance in the file. Simulate uses it instead of a second map.
func (r *Reader) CardIndex() int32 { return r.cardID }

func (r *Reader) internBytes(b []byte) string {
	if s, ok := r.intern[string(b)]; ok { // no allocation: the compiler optimises the lookup
		return s
	}
	s := string(b)
	r.intern[s] = s
	return s
}

// atoiSmall parses a non-negative decimal of at most 9 digits.
func atoiSmall(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parsePaise parses an amount with at most 2 decimals ("12", "12.5",
// "12.50") into 1/100 units, exactly.
func parsePaise(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty amount")
	}
	var units, paise uint64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an amount (digits, optional '.' and up to 2 decimals)", b)
		}
		if units > 1e15 {
			return 0, fmt.Errorf("%q is too large", b)
		}
		units = units*10 + uint64(c-'0')
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not an amount", b)
	}
	if i < len(b) { // fractional part
		frac := b[i+1:]
		if len(frac) == 0 || len(frac) > 2 {
			return 0, fmt.Errorf("%q: amounts have 1 or 2 decimals", b)
		}
		for j := range 2 {
			paise *= 10
			if j < len(frac) {
				c := frac[j]
				if c < '0' || c > '9' {
					return 0, fmt.Errorf("%q is not an amount", b)
				}
				paise += uint64(c - '0')
			}
		}
	}
	return units*100 + paise, nil
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic
// Gregorian; Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func localToUnixMs(y, mo, d, h, mi, s int, offsetMs int64) int64 {
	secs := daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s)
	return secs*1000 - offsetMs
}

// Writer writes a trace CSV with every column (SPEC §8 fields, then terminal,
// shop, flow, cvm_ms, auth). Optional fields that are zero are left empty.
type Writer struct {
	bw  *bufio.Writer
	buf []byte
}

// NewWriter writes the header to w and returns the writer. Call Flush at the end.
func NewWriter(w io.Writer) (*Writer, error) {
	tw := &Writer{bw: bufio.NewWriterSize(w, 1<<20), buf: make([]byte, 0, 256)}
	_, err := tw.bw.WriteString(strings.Join(columns, ",") + "\n")
	return tw, err
}

// Write writes one row. Date and Clock are written as they are (TimeMs is
// not consulted: it is derived from them when reading).
func (w *Writer) Write(t *Trace) error {
	if badField(t.Card) || badField(t.Terminal) || badField(t.Shop) {
		return fmt.Errorf("traces: card, terminal and shop may not contain commas, quotes or line breaks")
	}
	b := w.buf[:0]
	b = append(b, t.Card...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(t.ReadType), 10)
	b = append(b, ',')
	b = appendPadded(b, int(t.Date), 8)
	b = append(b, ',')
	b = appendPadded(b, int(t.Clock), 6)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(t.Type), 10)
	b = append(b, ',')
	b = appendRupees(b, t.AmountPaise)
	b = append(b, ',')
	b = append(b, t.Terminal...)
	b = append(b, ',')
	b = append(b, t.Shop...)
	b = append(b, ',')
	if t.CVM != 0 {
		b = strconv.AppendInt(b, int64(t.CVM), 10)
	}
	b = append(b, ',')
	if t.VerifyMs != 0 {
		b = strconv.AppendUint(b, uint64(t.VerifyMs), 10)
	}
	b = append(b, ',')
	if t.Auth != 0 {
		b = strconv.AppendInt(b, int64(t.Auth), 10)
	}
	b = append(b, '\n')
	w.buf = b
	_, err := w.bw.Write(b)
	return err
}

// Flush writes buffered rows to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// badField reports a character that would break the CSV row.
func badField(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			return true
		}
	}
	return false
}

func appendPadded(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendRupees(b []byte, paise uint64) []byte {
	b = strconv.AppendUint(b, paise/100, 10)
	f := paise % 100
	return append(b, '.', byte('0'+f/10), byte('0'+f%10))
}

// Source yields traces; *Reader is one, SliceSource another.
type Source interface {
	Read(t *Trace) error
}

// SliceSource returns a Source over traces held in memory (tests, replay).
func SliceSource(ts []Trace) Source { return &sliceSource{ts: ts} }

type sliceSource struct {
	ts []Trace
	i  int
}

func (s *sliceSource) Read(t *Trace) error {
	if s.i >= len(s.ts) {
		return io.EOF
	}
	*t = s.ts[s.i]
	s.i++
	return nil
}

// MakeTrace fills Date, Clock and TimeMs of t from a local time (at offset
// from UTC): a helper for building traces in code.
func MakeTrace(t Trace, local time.Time, offset time.Duration) Trace {
	t.Date = int32(local.Year()*10000 + int(local.Month())*100 + local.Day())
	t.Clock = int32(local.Hour()*10000 + local.Minute()*100 + local.Second())
	t.TimeMs = localToUnixMs(local.Year(), int(local.Month()), local.Day(), local.Hour(), local.Minute(), local.Second(), offset.Milliseconds())
	return t
}
