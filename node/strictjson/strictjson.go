// Package strictjson decodes JSON that people and programs send in: the
// gateway's request bodies and the JSON files the CLI reads. A document
// must mean one thing to every reader, so a duplicate member name is an
// error (RFC 8259 leaves duplicates to the reader: a proxy that keeps the
// first "amount" and a server that keeps the last would see two different
// payments), as are unknown members, anything after the one value, and
// invalid UTF-8. The decoder is github.com/go-json-experiment/json (the
// encoding/json/v2 proposal), which checks all of this itself; nothing
// here re-parses the input.
//
// Errors name the offending member by its JSON path ("amount",
// "flow.read_type") and speak JSON, never Go types.
package strictjson

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Options are the decoder's: duplicate names and invalid UTF-8 refused
// (v2's defaults, stated so that they stay), unknown members refused,
// member names matched exactly.
var options = json.JoinOptions(
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
)

// Unmarshal decodes exactly one JSON value from data into v.
func Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v, options); err != nil {
		return Reword(err)
	}
	return nil
}

// Decode reads all of r and decodes it as Unmarshal does.
func Decode(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return Unmarshal(data, v)
}

// Error is a decoding error: where (a dotted JSON path, "" for the whole
// document) and what went wrong there.
type Error struct {
	Path   string
	Offset int64
	Msg    string
	err    error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.err }

// IsDuplicateName reports whether err is a duplicate member name.
func IsDuplicateName(err error) bool { return errors.Is(err, jsontext.ErrDuplicateName) }

// Reword turns the decoder's errors into Errors in terms of the JSON the
// client sent.
func Reword(err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		path := dotted(syn.JSONPointer)
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return &Error{Path: path, Offset: syn.ByteOffset, err: err,
				Msg: fmt.Sprintf("duplicate member name %q at byte %d: each name may appear once in an object", syn.JSONPointer.LastToken(), syn.ByteOffset)}
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			return &Error{Path: "", Offset: syn.ByteOffset, err: err, Msg: "the JSON ends before the value is complete"}
		case strings.Contains(syn.Err.Error(), "after top-level value"):
			return &Error{Offset: syn.ByteOffset, err: err,
				Msg: fmt.Sprintf("unexpected data after the JSON object at byte %d: send exactly one JSON object", syn.ByteOffset)}
		}
		return &Error{Path: path, Offset: syn.ByteOffset, err: err,
			Msg: fmt.Sprintf("not valid JSON at byte %d: %s", syn.ByteOffset, strings.TrimPrefix(syn.Err.Error(), "jsontext: "))}
	case errors.As(err, &sem):
		path := dotted(sem.JSONPointer)
		if errors.Is(sem.Err, json.ErrUnknownName) {
			return &Error{Path: path, Offset: sem.ByteOffset, err: err, Msg: "unknown member: this object has no field of that name"}
		}
		if sem.Err != nil {
			var inner *jsontext.SyntacticError
			if errors.As(sem.Err, &inner) {
				return Reword(inner)
			}
		}
		what := "this value"
		if sem.JSONKind != 0 {
			what = "a JSON " + kindName(sem.JSONKind)
		}
		return &Error{Path: path, Offset: sem.ByteOffset, err: err,
			Msg: fmt.Sprintf("%s is not accepted here (expected %s)", what, goKind(sem.GoType))}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &Error{err: err, Msg: "the JSON ends before the value is complete"}
	}
	return &Error{err: err, Msg: "not the expected JSON value"}
}

// dotted is a JSON pointer as a dotted path ("/flow/read_type" ->
// "flow.read_type"); array indexes stay numbers ("lines.0.net").
func dotted(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

func goKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer in range"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Interface:
		return "a JSON value"
	}
	return "another type"
}
