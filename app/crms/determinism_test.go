package crms

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDeterminismGuard parses the package's non-test sources and fails on
// anything that could make two validators disagree: floating point (types,
// literals, the math functions that return floats), clocks, randomness,
// goroutines, maps (whose iteration order is random) and unsafe.
func TestDeterminismGuard(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	bannedImports := map[string]bool{
		"time": true, "math/rand": true, "math/rand/v2": true, "crypto/rand": true,
		"unsafe": true, "sync": true, "os": true, "reflect": true,
	}
	bannedIdents := map[string]bool{
		"float32": true, "float64": true, "complex64": true, "complex128": true,
		"complex": true, "real": true, "imag": true,
	}
	// math is allowed for its integer constants only.
	allowedMath := map[string]bool{
		"MaxInt64": true, "MinInt64": true, "MaxUint64": true, "MaxInt32": true, "MaxInt": true, "MaxUint32": true,
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if bannedImports[path] {
				t.Errorf("%s imports %q", fset.Position(imp.Pos()), path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if bannedIdents[n.Name] {
					t.Errorf("%s uses %s", fset.Position(n.Pos()), n.Name)
				}
			case *ast.BasicLit:
				if n.Kind == token.FLOAT || n.Kind == token.IMAG {
					t.Errorf("%s has a floating-point literal %s", fset.Position(n.Pos()), n.Value)
				}
			case *ast.GoStmt:
				t.Errorf("%s starts a goroutine", fset.Position(n.Pos()))
			case *ast.MapType:
				t.Errorf("%s declares a map", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "math" && !allowedMath[n.Sel.Name] {
					t.Errorf("%s uses math.%s", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
		// A plain scan as well, so a mention in any form (a comment that
		// became code through a generated file, a build-tagged file) is seen.
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if strings.Contains(code, "float") {
				t.Errorf("%s:%d mentions float: %s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d files; is the test running in the package directory?", checked)
	}
}
