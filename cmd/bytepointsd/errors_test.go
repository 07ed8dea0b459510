package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The CLI's error contract (SPEC §9): an unknown command or flag, a bad
// flag value or a failure exits non-zero; with -o json the error is a JSON
// object {"error","code","code_name"} on stdout, else text on stderr.
func TestCLIErrorsExitNonZeroAndAreJSONWithOutputJSON(t *testing.T) {
	home := t.TempDir() // no node here: commands that need one fail
	cases := []struct {
		name string
		args []string
		code uint32
	}{
		{"unknown command", []string{"bogus"}, 14},
		{"unknown subcommand", []string{"tx", "bogus"}, 14},
		{"unknown query", []string{"query", "nope"}, 14},
		{"unknown flag", []string{"tx", "purchase", "--bogus-flag"}, 14},
		{"missing required flag", []string{"tx", "purchase", "--home", home}, 14},
		{"bad amount", []string{"tx", "purchase", "--home", home, "--customer", "C", "--amount", "ten"}, 14},
		{"bad output format", []string{"version", "-o", "yaml"}, 14},
		{"not a home", []string{"query", "totals", "--home", home}, 1},
		{"audit report, reversed range", []string{"audit", "report", "--home", home, "--from-epoch", "9", "--to-epoch", "3", "--out", t.TempDir()}, 14},
		{"audit report, bad epoch", []string{"audit", "report", "--home", home, "--from-epoch", "yesterday", "--to-epoch", "3", "--out", t.TempDir()}, 14},
		{"audit report, not a home", []string{"audit", "report", "--home", home, "--from-epoch", "1", "--to-epoch", "3", "--out", t.TempDir()}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.NotZero(t, run(tc.args, &out, &errOut), "text: exit status")
			require.Empty(t, out.String(), "text errors go to stderr")
			require.Contains(t, errOut.String(), "Error:")

			out.Reset()
			errOut.Reset()
			args := append(append([]string{}, tc.args...), "-o", "json")
			if tc.name == "bad output format" {
				args = tc.args // -o yaml is the error itself
			}
			require.NotZero(t, run(args, &out, &errOut), "json: exit status")
			if tc.name == "bad output format" {
				return
			}
			var e struct {
				Error    string `json:"error"`
				Code     uint32 `json:"code"`
				CodeName string `json:"code_name"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &e), "stdout is one JSON object: %q (stderr %q)", out.String(), errOut.String())
			require.NotEmpty(t, e.Error)
			require.Equal(t, tc.code, e.Code, e.Error)
			require.NotEmpty(t, e.CodeName)
		})
	}
}

func TestGroupsWithoutSubcommandPrintHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Zero(t, run([]string{"tx"}, &out, &errOut))
	require.Contains(t, out.String(), "purchase")
}
