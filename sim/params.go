package sim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/types"
)

// ParamOverride is one CRMS parameter that a what-if run may set on the
// command line (SPEC §8: every CRMS parameter can be overridden). The value
// syntax is the parameter's natural one: a decimal for real numbers (exact
// to 1e-9), a whole number for N, a duration for the AvgT floor and an
// amount in the traces' currency for the hard cap.
type ParamOverride struct {
	Flag  string                     // flag name, without dashes
	Usage string                     // one line of help
	Get   func(p crms.Params) string // the value of p in flag syntax
	Set   func(p *crms.Params, v string) error
}

// ParamOverrides lists every CRMS parameter in a stable order. The rating
// table, the other governed input, is a file: ReadRatings.
func ParamOverrides() []ParamOverride {
	decimal := func(flag, usage string, f func(*crms.Params) *int64) ParamOverride {
		return ParamOverride{Flag: flag, Usage: usage,
			Get: func(p crms.Params) string { return fmtNano(*f(&p)) },
			Set: func(p *crms.Params, v string) error {
				n, err := ParseNano(v)
				if err != nil {
					return err
				}
				*f(p) = n
				return nil
			}}
	}
	return []ParamOverride{
		decimal("p", "p: risk per unit of amount before reputation; risk = amount·p·a/(b·R)", func(p *crms.Params) *int64 { return &p.P }),
		decimal("a", "a: numerator of f(R) = a/(b·R); with p it sets the calibration (skip limit at R = Rmax is Risk_max·b/(p·a))", func(p *crms.Params) *int64 { return &p.A }),
		decimal("b", "b: denominator of f(R) = a/(b·R); only a/b matters", func(p *crms.Params) *int64 { return &p.B }),
		{Flag: "n", Usage: "N: the window, how many of a card's most recent flows count (1..200)",
			Get: func(p crms.Params) string { return strconv.Itoa(p.N) },
			Set: func(p *crms.Params, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return fmt.Errorf("%q is not a whole number", v)
				}
				p.N = n
				return nil
			}},
		decimal("tau", "τ: time decay in units of the card's mean gap AvgT: a flow's weight is exp(−age/(τ·AvgT))", func(p *crms.Params) *int64 { return &p.Tau }),
		decimal("xd", "x_d: width of the fall-off of the rank weight ½erfc((rank − x_m)/(√2·x_d))", func(p *crms.Params) *int64 { return &p.Xd }),
		decimal("xm", "x_m: the rank at which a flow's weight halves", func(p *crms.Params) *int64 { return &p.Xm }),
		decimal("rmin", "R_min: a reputation at or below it is no reputation (f(R) = ∞, no skip)", func(p *crms.Params) *int64 { return &p.Rmin }),
		decimal("rmax", "R_max: the ceiling of R (at most 1)", func(p *crms.Params) *int64 { return &p.Rmax }),
		{Flag: "avgt-floor", Usage: "floor of AvgT, the card's mean gap between past payments (and AvgT of a card with one payment), e.g. 24h",
			Get: func(p crms.Params) string { return (time.Duration(p.AvgTFloorMs) * time.Millisecond).String() },
			Set: func(p *crms.Params, v string) error {
				d, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil {
					return fmt.Errorf("%q is not a duration (e.g. 24h, 90m)", v)
				}
				if d%time.Millisecond != 0 {
					return fmt.Errorf("%q: the floor is kept in whole milliseconds", v)
				}
				p.AvgTFloorMs = d.Milliseconds()
				return nil
			}},
		{Flag: "hard-cap", Usage: "no skip above this amount, whatever R says (traces' currency; 0: never skip)",
			Get: func(p crms.Params) string { return string(appendRupees(nil, p.HardCapPaise)) },
			Set: func(p *crms.Params, v string) error {
				a, err := parsePaise([]byte(strings.TrimSpace(v)))
				if err != nil {
					return err
				}
				p.HardCapPaise = a
				return nil
			}},
		decimal("context-min", "lower bound of the terminal's context multiplier on Risk_max (≤ 1)", func(p *crms.Params) *int64 { return &p.ContextMin }),
		decimal("context-max", "upper bound of the terminal's context multiplier on Risk_max (≥ 1)", func(p *crms.Params) *int64 { return &p.ContextMax }),
		decimal("epoch-budget", "risk a shop may take by skipping per epoch (UTC day); each skip charges its risk", func(p *crms.Params) *int64 { return &p.EpochRiskBudget }),
	}
}

// ApplyOverrides returns base with the given flag values (flag name → value,
// as typed) applied, validated. A value that does not parse, or that breaks
// a bound on its own, is reported with its flag; a combination that breaks
// a bound (--rmin above --rmax) is reported with the flags involved.
func ApplyOverrides(base crms.Params, values map[string]string) (crms.Params, error) {
	p := base
	var set []string
	for _, o := range ParamOverrides() {
		v, ok := values[o.Flag]
		if !ok {
			continue
		}
		if err := o.Set(&p, v); err != nil {
			return base, fmt.Errorf("--%s: %w", o.Flag, err)
		}
		one := base
		_ = o.Set(&one, v)
		if err := one.Validate(); err != nil {
			return base, fmt.Errorf("--%s %s: %w", o.Flag, v, err)
		}
		set = append(set, "--"+o.Flag+" "+v)
	}
	for f := range values {
		if !knownOverride(f) {
			return base, fmt.Errorf("--%s is not a CRMS parameter", f)
		}
	}
	if err := p.Validate(); err != nil {
		return base, fmt.Errorf("%s: %w", strings.Join(set, ", "), err)
	}
	return p, nil
}

func knownOverride(f string) bool {
	for _, o := range ParamOverrides() {
		if o.Flag == f {
			return true
		}
	}
	return false
}

// Rating table files. A CSV with the header read_type,cvm,auth,rating and one
// entry per row: the flow's names from the protocol's vocabulary
// (types/names.go: contact-emv, pin-online, approved, ...; the crms codes
// 2, 3, 5, 6 / 1..7 / 1, 2 are read too), * (or 0) for "any", and the
// rating as a decimal in [0, 1]. Blank lines and lines starting with # are ignored. Lookup is the
// chain's (crms.RatingTable: the most specific matching entry wins). A
// report directory holds the table a run used (FileRatings), a starting
// point for a what-if.

// FileRatings is the rating table a report was made with, in WriteReport's
// directory.
const FileRatings = "crms_ratings.csv"

var ratingColumns = []string{"read_type", "cvm", "auth", "rating"}

// ReadRatings reads and validates a rating table file.
func ReadRatings(r io.Reader) (crms.RatingTable, error) {
	sc := bufio.NewScanner(r)
	var t crms.RatingTable
	line, header := 0, false
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Split(s, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("ratings: line %d: "+format, append([]any{line}, a...)...)
		}
		if !header {
			if strings.Join(f, ",") != strings.Join(ratingColumns, ",") {
				return nil, bad("header must be %s, got %q", strings.Join(ratingColumns, ","), s)
			}
			header = true
			continue
		}
		if len(f) != len(ratingColumns) {
			return nil, bad("%d fields, want %d (%s)", len(f), len(ratingColumns), strings.Join(ratingColumns, ","))
		}
		var code [3]int32
		for i := range 3 {
			if f[i] == "*" {
				continue
			}
			v, err := ratingCode(i, f[i])
			if err != nil {
				return nil, bad("%s %q: %v (or * for any)", ratingColumns[i], f[i], err)
			}
			code[i] = v
		}
		rating, err := ParseNano(f[3])
		if err != nil || rating > crms.Nano {
			return nil, bad("rating %q is not a decimal in [0, 1]", f[3])
		}
		t = append(t, crms.RatingEntry{ReadType: crms.ReadType(code[0]), CVM: crms.CVM(code[1]), Auth: crms.Auth(code[2]), RatingNano: rating})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t) == 0 {
		return nil, errors.New("ratings: no entries (the header is " + strings.Join(ratingColumns, ",") + ")")
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	return t, nil
}

// WriteRatings writes t in the format ReadRatings reads, flows by name.
func WriteRatings(w io.Writer, t crms.RatingTable) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# CRMS rating table: read_type ("+strings.Join(types.ReadTypes.Names(), ", ")+"),")
	fmt.Fprintln(bw, "# cvm ("+strings.Join(types.CVMs.Names(), ", ")+"),")
	fmt.Fprintln(bw, "# auth ("+strings.Join(types.AuthResults.Names(), ", ")+"); * = any; the most specific entry wins.")
	fmt.Fprintln(bw, strings.Join(ratingColumns, ","))
	for _, e := range t {
		fmt.Fprintf(bw, "%s,%s,%s,%s\n", ratingName(0, int32(e.ReadType)), ratingName(1, int32(e.CVM)), ratingName(2, int32(e.Auth)), fmtNano(e.RatingNano))
	}
	return bw.Flush()
}

// ratingName is the name of column i's code (read type, cvm, auth); 0 is *.
func ratingName(i int, v int32) string {
	if v == 0 {
		return "*"
	}
	switch i {
	case 0:
		return types.ReadTypes.Name(types.ReadType(v))
	case 1:
		return types.CVMs.Name(types.CVM(v))
	}
	return types.AuthResults.Name(types.AuthResult(v))
}

// NamedRatings is a rating table whose JSON names the flows as every other
// surface does: {"read_type":"*","cvm":"pin-online","auth":"approved","rating":1}.
type NamedRatings crms.RatingTable

type namedRating struct {
	ReadType string      `json:"read_type"`
	CVM      string      `json:"cvm"`
	Auth     string      `json:"auth"`
	Rating   json.Number `json:"rating"`
}

func (t NamedRatings) MarshalJSON() ([]byte, error) {
	out := make([]namedRating, len(t))
	for i, e := range t {
		out[i] = namedRating{ratingName(0, int32(e.ReadType)), ratingName(1, int32(e.CVM)), ratingName(2, int32(e.Auth)), json.Number(fmtNano(e.RatingNano))}
	}
	return json.Marshal(out)
}

func (t *NamedRatings) UnmarshalJSON(b []byte) error {
	var in []namedRating
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	out := make(NamedRatings, len(in))
	for i, r := range in {
		var code [3]int32
		for j, s := range []string{r.ReadType, r.CVM, r.Auth} {
			if s == "*" {
				continue
			}
			v, err := ratingCode(j, s)
			if err != nil {
				return fmt.Errorf("ratings[%d]: %s %q: %w", i, ratingColumns[j], s, err)
			}
			code[j] = v
		}
		rating, err := ParseNano(r.Rating.String())
		if err != nil {
			return fmt.Errorf("ratings[%d]: rating %q: %w", i, r.Rating, err)
		}
		out[i] = crms.RatingEntry{ReadType: crms.ReadType(code[0]), CVM: crms.CVM(code[1]), Auth: crms.Auth(code[2]), RatingNano: rating}
	}
	*t = out
	return nil
}

// ratingCode reads column i (read type, cvm, auth) of a rating entry: a
// vocabulary name, or the code's number (0 = any).
func ratingCode(i int, s string) (int32, error) {
	if v, err := strconv.ParseInt(s, 10, 32); err == nil {
		return int32(v), nil
	}
	var v int32
	var err error
	switch i {
	case 0:
		var x types.ReadType
		x, err = types.ReadTypes.Parse(s)
		v = int32(x)
	case 1:
		var x types.CVM
		x, err = types.CVMs.Parse(s)
		v = int32(x)
	default:
		var x types.AuthResult
		x, err = types.AuthResults.Parse(s)
		v = int32(x)
	}
	if err != nil {
		return 0, errors.New(types.Message(err))
	}
	return v, nil
}

// Table is t as the engine's rating table.
func (t NamedRatings) Table() crms.RatingTable { return crms.RatingTable(t) }
