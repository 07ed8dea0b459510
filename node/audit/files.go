package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/types"
)

// Columns are the CSV header of a row type: its JSON names, embedded
// structs' fields in place.
func Columns(row any) []string {
	var cols []string
	walk(reflect.ValueOf(row), func(name string, _ reflect.Value) { cols = append(cols, name) })
	return cols
}

// walk visits a struct's exported fields in order, by JSON name.
func walk(v reflect.Value, visit func(string, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			walk(v.Field(i), visit)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		visit(name, v.Field(i))
	}
}

func cell(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return cell(v.Elem())
	}
	panic(fmt.Sprintf("audit: no CSV form for %s", v.Type()))
}

// CSV renders rows (structs) with a header of their JSON names: a CSV row
// and the JSON object of the same row carry the same values.
func CSV[T any](rows []T) ([]byte, error) {
	var zero T
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(Columns(zero)); err != nil {
		return nil, err
	}
	for _, r := range rows {
		var rec []string
		walk(reflect.ValueOf(r), func(_ string, v reflect.Value) { rec = append(rec, cell(v)) })
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// JSON renders rows as an indented array ([] when there are none).
func JSON[T any](rows []T) ([]byte, error) {
	if rows == nil {
		rows = []T{}
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	return append(b, '\n'), err
}

// File names in the export directory.
const (
	StatementsCSV     = "statements.csv"
	StatementsJSON    = "statements.json"
	LiabilitiesCSV    = "liabilities.csv"
	LiabilitiesJSON   = "liabilities.json"
	ConfirmationsCSV  = "confirmations.csv"
	ConfirmationsJSON = "confirmations.json"
	SummarySVG        = "summary.svg"
	SummaryPNG        = "summary.png"
	ManifestJSON      = "manifest.json"
)

// FileEntry is one written file in the manifest.
type FileEntry struct {
	Name   string `json:"name"`
	Rows   int    `json:"rows,omitempty"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Header is one header the export's rows were proven against.
type Header struct {
	Height  int64  `json:"height"`
	AppHash string `json:"app_hash"`
}

// Manifest describes an export: the range, the chain, what was verified
// against which headers, and the files with their digests.
type Manifest struct {
	ChainID      string         `json:"chain_id"`
	RPC          string         `json:"rpc"`
	FromEpoch    uint64         `json:"from_epoch"`
	ToEpoch      uint64         `json:"to_epoch"`
	GeneratedAt  string         `json:"generated_at"`
	Verification string         `json:"verification"`
	Trust        *TrustRoot     `json:"trust_root"`
	Statements   int            `json:"statements"`
	Missing      []uint64       `json:"missing_epochs"`
	Epochs       []EpochSummary `json:"epochs"`
	// Balanced: every epoch whose escrow change is known conserves value.
	Balanced bool `json:"balanced"`
	// Latest is the most recent proof among the liabilities and totals.
	Latest  Proof          `json:"latest"`
	Totals  map[string]any `json:"totals"`
	Headers []Header       `json:"headers"`
	Files   []FileEntry    `json:"files"`
}

// Export is a report rendered to rows, ready to write.
type Export struct {
	Statements    []StatementRow
	Liabilities   []LiabilityRow
	Confirmations []ConfirmationRow
	Epochs        []EpochSummary
	Manifest      Manifest
}

// Verification describes what node/client's prove=true checks.
const Verification = "every row's Merkle proofs were checked, through the app's CometBFT proof operator, against the app hash " +
	"of the header at proven_height, which CometBFT's light client verified from the trust root below (cross-checked by its witnesses)"

// Build renders a collected report into rows; it reads nothing.
func Build(r *Report) *Export {
	x := &Export{}
	for _, ps := range r.Statements {
		x.Statements = append(x.Statements, StatementRows(ps.Statement, ps.Proof)...)
	}
	if x.Statements == nil {
		x.Statements = []StatementRow{}
	}
	x.Confirmations = Confirmations(x.Statements)
	x.Liabilities = Liabilities(r.Sellers, x.Statements)
	x.Epochs = EpochSummaries(r.Statements, r.EscrowBefore)
	// Each epoch's escrow row follows its sellers' rows, where the escrow
	// before it is known.
	if len(x.Statements) > 0 {
		var rows []StatementRow
		at := 0
		for i, ps := range r.Statements {
			n := len(ps.Statement.Lines)
			rows = append(rows, x.Statements[at:at+n]...)
			at += n
			if ch := x.Epochs[i].EscrowChangePaise; ch != nil {
				rows = append(rows, EscrowRow(ps.Statement, *ch, ps.Proof))
			}
		}
		x.Statements = rows
	}
	m := Manifest{
		ChainID: r.ChainID, RPC: r.RPC, FromEpoch: r.From, ToEpoch: r.To,
		GeneratedAt: r.GeneratedAt.UTC().Format(time.RFC3339), Verification: Verification, Trust: r.Trust,
		Statements: len(r.Statements), Missing: r.Missing, Epochs: x.Epochs, Balanced: true, Latest: r.TotalsProof,
	}
	if m.Missing == nil {
		m.Missing = []uint64{}
	}
	for _, e := range x.Epochs {
		if e.Balanced != nil && !*e.Balanced {
			m.Balanced = false
		}
	}
	seen := map[int64]string{}
	note := func(p Proof) {
		seen[p.ProvenHeight] = p.AppHash
		if p.ProvenHeight > m.Latest.ProvenHeight {
			m.Latest = p
		}
	}
	for _, ps := range r.Statements {
		note(ps.Proof)
	}
	for _, s := range r.Sellers {
		note(s.Proof)
	}
	if r.Totals != nil {
		note(r.TotalsProof)
		t := r.Totals
		m.Totals = map[string]any{"outstanding_points": t.OutstandingPoints, "escrow_paise": t.EscrowPaise,
			"escrow_rupees": types.FormatPaise(t.EscrowPaise), "statements": t.Statements, "proof": r.TotalsProof}
	}
	for h, a := range seen {
		m.Headers = append(m.Headers, Header{Height: h, AppHash: a})
	}
	sort.Slice(m.Headers, func(i, j int) bool { return m.Headers[i].Height < m.Headers[j].Height })
	x.Manifest = m
	return x
}

// PrepareDir creates dir if needed and checks that files can be written
// in it, before anything is read from the node.
func PrepareDir(dir string) error {
	if dir == "" {
		return types.Errorf(types.CodeInvalidArgument, "--out is required: the directory to write the report to")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return types.Errorf(types.CodeInvalidArgument, "--out %s: %v", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return types.Errorf(types.CodeInvalidArgument, "--out %s is not writable: %v", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Write writes the export's files into dir (summary.png too when png) and
// the manifest last, listing the others with their SHA-256.
func (x *Export) Write(dir string, png bool) ([]FileEntry, error) {
	type file struct {
		name string
		rows int
		data func() ([]byte, error)
	}
	files := []file{
		{StatementsCSV, len(x.Statements), func() ([]byte, error) { return CSV(x.Statements) }},
		{StatementsJSON, len(x.Statements), func() ([]byte, error) { return JSON(x.Statements) }},
		{LiabilitiesCSV, len(x.Liabilities), func() ([]byte, error) { return CSV(x.Liabilities) }},
		{LiabilitiesJSON, len(x.Liabilities), func() ([]byte, error) { return JSON(x.Liabilities) }},
		{ConfirmationsCSV, len(x.Confirmations), func() ([]byte, error) { return CSV(x.Confirmations) }},
		{ConfirmationsJSON, len(x.Confirmations), func() ([]byte, error) { return JSON(x.Confirmations) }},
		{SummarySVG, 0, func() ([]byte, error) { return Chart(x.Statements, x.Manifest.FromEpoch, x.Manifest.ToEpoch, "svg") }},
	}
	if png {
		files = append(files, file{SummaryPNG, 0, func() ([]byte, error) {
			return Chart(x.Statements, x.Manifest.FromEpoch, x.Manifest.ToEpoch, "png")
		}})
	}
	var out []FileEntry
	for _, f := range files {
		b, err := f.data()
		if err != nil {
			return out, fmt.Errorf("audit: %s: %w", f.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			return out, err
		}
		sum := sha256.Sum256(b)
		out = append(out, FileEntry{Name: f.name, Rows: f.rows, Bytes: len(b), SHA256: hex.EncodeToString(sum[:])})
	}
	x.Manifest.Files = out
	b, err := json.MarshalIndent(x.Manifest, "", "  ")
	if err != nil {
		return out, err
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestJSON), append(b, '\n'), 0o644); err != nil {
		return out, err
	}
	return out, nil
}
