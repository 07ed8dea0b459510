package lint

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Marker is the comment that allows one wall-clock use, followed by the
// reason: `//wallclock:ok <why this only bounds or paces a wait>`.
const Marker = "//wallclock:ok"

// Finding is one wall-clock use that carries no marker.
type Finding struct {
	Pos  token.Position
	Rule string // sleep, elapsed, deadline, short-timing, marker
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s: [%s] %s", f.Pos, f.Rule, f.Msg) }

// The rules, by name.
const (
	RuleSleep    = "sleep"        // time.Sleep: sleep-then-assert, or an unmarked poll
	RuleElapsed  = "elapsed"      // a duration measured from the clock, compared or asserted on
	RuleDeadline = "deadline"     // time.Now() against a deadline: only a bound of a wait, so say so
	RuleShort    = "short-timing" // timing that depends on testing.Short()
	RuleSilence  = "silence"      // a fixed wait whose expiry is taken as a pass
	RuleMarker   = "marker"       // a marker without a reason
)

// CheckTree parses every *_test.go file under the roots (build tags
// ignored, testdata skipped) and returns the unmarked wall-clock uses,
// sorted by position.
func CheckTree(roots ...string) ([]Finding, error) {
	var out []Finding
	fset := token.NewFileSet()
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fs, err := CheckSource(fset, path, src)
			if err != nil {
				return err
			}
			out = append(out, fs...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pos.Filename != out[j].Pos.Filename {
			return out[i].Pos.Filename < out[j].Pos.Filename
		}
		return out[i].Pos.Line < out[j].Pos.Line
	})
	return out, nil
}

// CheckSource checks one Go file's source.
func CheckSource(fset *token.FileSet, name string, src []byte) ([]Finding, error) {
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	c := &checker{fset: fset, marks: map[int]string{}}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != "time" && p != "testing" {
			continue
		}
		local := p
		if imp.Name != nil {
			local = imp.Name.Name
		}
		if local == "_" || local == "." {
			continue
		}
		if p == "time" {
			c.time = local
		} else {
			c.testing = local
		}
	}
	for _, cg := range f.Comments {
		for _, cm := range cg.List {
			if strings.HasPrefix(cm.Text, Marker) {
				line := fset.Position(cm.Slash).Line
				c.marks[line] = strings.TrimSpace(strings.TrimPrefix(cm.Text, Marker))
				if c.marks[line] == "" {
					c.out = append(c.out, Finding{fset.Position(cm.Slash), RuleMarker, Marker + " needs a reason: what wait does this clock bound or pace?"})
				}
			}
		}
	}
	if c.time == "" {
		return c.out, nil
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		c.elapsedVars = map[string]bool{}
		c.collectElapsed(fd.Body)
		c.walk(fd.Body)
	}
	return c.out, nil
}

type checker struct {
	fset          *token.FileSet
	time, testing string         // local names of the imports ("" if not imported)
	marks         map[int]string // line -> reason of a marker on that line
	elapsedVars   map[string]bool
	out           []Finding
}

// report records a finding unless its line, or the line above, carries a
// marker (a marker with an empty reason was reported already).
func (c *checker) report(n ast.Node, rule, msg string) {
	pos := c.fset.Position(n.Pos())
	if _, ok := c.marks[pos.Line]; ok {
		return
	}
	if _, ok := c.marks[pos.Line-1]; ok {
		return
	}
	c.out = append(c.out, Finding{pos, rule, msg})
}

// isPkgCall reports whether e is a call pkg.fn(...) of one of fns.
func isPkgCall(e ast.Expr, pkg string, fns ...string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok || pkg == "" {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok || id.Name != pkg {
		return false
	}
	for _, fn := range fns {
		if sel.Sel.Name == fn {
			return true
		}
	}
	return false
}

// clockRead reports whether e reads the wall clock: time.Now(),
// time.Since(...), time.Until(...), or a variable assigned from an elapsed
// measurement in the same function. Function literals are not entered.
func (c *checker) clockRead(e ast.Node) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if isPkgCall(x, c.time, "Now", "Since", "Until") {
				found = true
			}
		case *ast.Ident:
			if c.elapsedVars[x.Name] {
				found = true
			}
		}
		return true
	})
	return found
}

// elapsedExpr reports whether e measures a duration from the clock:
// time.Since, time.Until, or a .Sub involving time.Now().
func (c *checker) elapsedExpr(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if isPkgCall(x, c.time, "Since", "Until") {
				found = true
			}
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sub" && c.clockRead(x) {
				found = true
			}
		case *ast.Ident:
			if c.elapsedVars[x.Name] {
				found = true
			}
		}
		return true
	})
	return found
}

// collectElapsed names the variables that hold an elapsed duration
// (el := time.Since(t0), s := time.Since(t0).Seconds()), so comparing them
// later is caught too.
func (c *checker) collectElapsed(body ast.Node) {
	ast.Inspect(body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, r := range as.Rhs {
			if id, ok := as.Lhs[i].(*ast.Ident); ok && c.directElapsed(r) {
				c.elapsedVars[id.Name] = true
			}
		}
		return true
	})
}

// directElapsed reports whether e is itself a measured duration:
// time.Since(x), time.Until(x), time.Now().Sub(x), or a method of one
// (.Seconds(), .Round(...)).
func (c *checker) directElapsed(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	if isPkgCall(call, c.time, "Since", "Until") {
		return true
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if sel.Sel.Name == "Sub" && c.clockRead(sel.X) {
		return true
	}
	return c.directElapsed(sel.X)
}

var comparisons = map[token.Token]bool{token.LSS: true, token.GTR: true, token.LEQ: true, token.GEQ: true, token.EQL: true, token.NEQ: true}

// assertions on orderings and durations in testify and friends.
var orderAsserts = map[string]bool{"Less": true, "LessOrEqual": true, "Greater": true, "GreaterOrEqual": true,
	"WithinDuration": true, "WithinRange": true, "InDelta": true, "Lessf": true, "Greaterf": true}

func (c *checker) walk(body ast.Node) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if isPkgCall(x, c.time, "Sleep") {
				c.report(x, RuleSleep, "time.Sleep in a test: wait on a height, an event or a result (a sleep that only paces a poll or picks a kill moment needs "+Marker+" <why>)")
			}
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
				switch {
				case (sel.Sel.Name == "After" || sel.Sel.Name == "Before") && len(x.Args) == 1 && (c.clockRead(sel.X) || c.clockRead(x.Args[0])):
					c.report(x, RuleDeadline, "the clock against a deadline: fine only as the bound of a wait that fails as a timeout; mark it "+Marker+" <the wait it bounds>")
				case orderAsserts[sel.Sel.Name]:
					for _, a := range x.Args {
						if c.elapsedExpr(a) || c.clockRead(a) {
							c.report(x, RuleElapsed, "an assertion on a wall-clock duration: assert on what was committed instead")
							break
						}
					}
				}
			}
		case *ast.BinaryExpr:
			if comparisons[x.Op] && (c.elapsedExpr(x.X) || c.elapsedExpr(x.Y)) {
				c.report(x, RuleElapsed, "a wall-clock duration compared: a test must not pass or fail by how long something took (a bound of a wait needs "+Marker+" <why>)")
				return false
			}
		case *ast.CommClause:
			// case <-time.After(d): with an empty body paces a poll; with a
			// failure it bounds a wait; anything else takes silence as a pass.
			if es, ok := x.Comm.(*ast.ExprStmt); ok && len(x.Body) > 0 {
				if u, ok := es.X.(*ast.UnaryExpr); ok && u.Op == token.ARROW && isPkgCall(u.X, c.time, "After") && !fails(x.Body) {
					c.report(x, RuleSilence, "a fixed wait whose expiry does not fail: nothing happening for a while proves nothing; wait for the event that shows it cannot happen")
				}
			}
		case *ast.IfStmt:
			if c.testing != "" && containsCall(x.Cond, c.testing, "Short") && c.mentions(x, c.time) {
				c.report(x, RuleShort, "timing that depends on testing.Short(): a test's verdict must not depend on the clock in either mode")
			}
		}
		return true
	})
}

func containsCall(e ast.Node, pkg string, fn string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if ex, ok := n.(ast.Expr); ok && isPkgCall(ex, pkg, fn) {
			found = true
		}
		return !found
	})
	return found
}

// mentions reports whether n refers to package pkg anywhere.
func (c *checker) mentions(n ast.Node, pkg string) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if sel, ok := m.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
				found = true
			}
		}
		return !found
	})
	return found
}

// failureCalls are the calls that end a test as failed (or skipped) or
// hand an error up.
var failureCalls = map[string]bool{"Fatal": true, "Fatalf": true, "Error": true, "Errorf": true, "FailNow": true, "Fail": true,
	"Skip": true, "Skipf": true, "SkipNow": true, "panic": true}

// fails reports whether the statements fail the test or return an error.
func fails(body []ast.Stmt) bool {
	found := false
	for _, st := range body {
		ast.Inspect(st, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				switch f := x.Fun.(type) {
				case *ast.SelectorExpr:
					if id, ok := f.X.(*ast.Ident); ok && (id.Name == "require" || id.Name == "assert") || failureCalls[f.Sel.Name] {
						found = true
					}
				case *ast.Ident:
					if failureCalls[f.Name] {
						found = true
					}
				}
			case *ast.ReturnStmt:
				if len(x.Results) > 0 {
					found = true // hands a result (an error) to the caller, which judges it
				}
			}
			return !found
		})
	}
	return found
}
