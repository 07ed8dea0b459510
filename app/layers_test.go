package app_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// The rooms and their one-way arrows (docs/architecture.md). A package may
// import packages of its own rank or below, never above; a row's deny list
// names lower packages it must still not reach past (the node reads state
// only through package app). Rows are tried in order, the first whose
// pattern matches a package places it; "x/..." is x and everything under
// it, "x/*" a direct child of x. A package no row places fails the test:
// a new room gets a row.
type layer struct {
	pattern string
	rank    int
	deny    []string
}

var layers = []layer{
	{pattern: "types", rank: 0},
	{pattern: "internal/...", rank: 0}, // test support with no imports from the module
	{pattern: "app/crms", rank: 10},    // the pure engine
	{pattern: "app/store", rank: 10},
	{pattern: "app/state", rank: 20},
	{pattern: "app/query", rank: 30},
	{pattern: "app/upgrade", rank: 35},          // the upgrade plan: governance (members) schedules it
	{pattern: "app/program/tiers", rank: 35},    // the tier table and spend buckets: governance (members) installs a table
	{pattern: "app/imports/approval", rank: 35}, // import approvals: governance (members) grants them
	{pattern: "app/members", rank: 40},
	{pattern: "app/settle", rank: 41},
	{pattern: "app/risk", rank: 42},
	{pattern: "app/program", rank: 42}, // sellers' programs: the ledger reads their rules and campaigns at issue and redeem
	{pattern: "app/ledger", rank: 43},
	{pattern: "app/apptest", rank: 55}, // test support: drives the app over a store
	{pattern: "app/*", rank: 45},       // further modules: over the four above
	{pattern: "app", rank: 50},
	{pattern: "abci", rank: 60},
	{pattern: "node/...", rank: 70, deny: []string{
		"app/store", "app/state", "app/query", "app/members", "app/settle", "app/ledger", "app/program/...", "app/apptest"}},
	{pattern: "sim/...", rank: 80},
	{pattern: "networks/...", rank: 80},
	{pattern: "cmd/...", rank: 80},
}

const module = "github.com/bytepoints/bytepoints"

func match(pattern, pkg string) bool {
	switch {
	case strings.HasSuffix(pattern, "/..."):
		base := strings.TrimSuffix(pattern, "/...")
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	case strings.HasSuffix(pattern, "/*"):
		base := strings.TrimSuffix(pattern, "*")
		return strings.HasPrefix(pkg, base) && !strings.Contains(pkg[len(base):], "/")
	}
	return pkg == pattern
}

func place(pkg string) (layer, bool) {
	for _, l := range layers {
		if match(l.pattern, pkg) {
			return l, true
		}
	}
	return layer{}, false
}

// violations checks each package's (non-test) imports within the module
// against the table: pkgs maps a module-relative path to its imports
// (full import paths, as go list gives them).
func violations(pkgs map[string][]string) []string {
	var out []string
	for pkg, imports := range pkgs {
		l, ok := place(pkg)
		if !ok {
			out = append(out, pkg+": no layer places it (add a row to app/layers_test.go)")
			continue
		}
		for _, imp := range imports {
			rel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				if imp == module {
					rel = ""
				} else {
					continue // outside the module
				}
			}
			il, ok := place(rel)
			if !ok {
				continue // reported as a package of its own
			}
			if il.rank > l.rank {
				out = append(out, pkg+" imports "+rel+", a layer above it")
			}
			for _, d := range l.deny {
				if match(d, rel) {
					out = append(out, pkg+" imports "+rel+", which its layer reads only through package app")
				}
			}
		}
	}
	return out
}

func TestLayers(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	bz, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(bz))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		pkgs[rel] = f[1:]
	}
	if len(pkgs) < 20 || pkgs["node/gateway"] == nil {
		t.Fatalf("go list gave %d packages; expected the whole module", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The checker fails on a wrong import: the node reaching into app/state,
// a module importing the app above it, a record layer importing a module,
// and a package in no room; the same packages imported the right way pass.
func TestLayersCatchWrongImports(t *testing.T) {
	p := func(rel string) string { return module + "/" + rel }
	good := map[string][]string{
		"node/x":      {p("app"), p("app/risk"), p("types"), "fmt"},
		"app/ledger":  {p("app/members"), p("app/settle"), p("app/risk"), p("app/query")},
		"app/upgrade": {p("app/state"), p("app/store")},
		"app/members": {p("app/upgrade"), p("app/state")},
		"app/newmod":  {p("app/ledger"), p("app/members")},
		"app":         {p("app/ledger"), p("app/store")},
	}
	if v := violations(good); len(v) != 0 {
		t.Fatalf("right imports refused: %v", v)
	}
	for _, bad := range []map[string][]string{
		{"node/x": {p("app/state")}},
		{"node/gateway": {p("app/store")}},
		{"app/members": {p("app")}},
		{"app/members": {p("app/ledger")}},
		{"app/state": {p("app/settle")}},
		{"app/upgrade": {p("abci")}},
		{"app/upgrade": {p("app/members")}},
		{"tools/x": {p("types")}},
	} {
		if v := violations(bad); len(v) == 0 {
			t.Errorf("wrong import passed: %v", bad)
		}
	}
}
