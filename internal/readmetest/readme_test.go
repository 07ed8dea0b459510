//go:build readme

// Package readmetest runs the README's examples as written (make
// test-readme). The convention, documented in the README's "Trying it"
// section: a ```sh block right after the line <!-- readme-test --> is run;
// the blocks run in order as one bash script (set -euo pipefail, so
// variables carry from block to block) in an empty temporary directory
// with the freshly built bytepointsd first on PATH. A ```text block right
// after a run block is the shape of that block's standard output: each of
// its lines must match an output line, in order (other output lines may
// come between), where "…" stands for any text. The only thing filled in
// is the port range: 26656-26659 become a free range of this machine.
// Processes the blocks leave running (nodes started with &) are stopped
// at the end with their process group.
package readmetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
)

const marker = "<!-- readme-test -->"

// block is one runnable example and the shape of its output, if shown.
type block struct {
	line  int // README line of the ```sh fence
	code  string
	shape []string
}

// parse finds the runnable blocks of a README.
func parse(readme string) ([]block, error) {
	lines := strings.Split(readme, "\n")
	var out []block
	fence := func(i int, lang string) ([]string, int, error) {
		if i >= len(lines) || strings.TrimSpace(lines[i]) != "```"+lang {
			return nil, i, fmt.Errorf("line %d: want a ```%s block", i+1, lang)
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == "```" {
				return lines[i+1 : j], j, nil
			}
		}
		return nil, i, fmt.Errorf("line %d: block never closed", i+1)
	}
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != marker {
			continue
		}
		code, end, err := fence(i+1, "sh")
		if err != nil {
			return nil, fmt.Errorf("after %s on line %d: %w", marker, i+1, err)
		}
		b := block{line: i + 2, code: strings.Join(code, "\n")}
		j := end + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j < len(lines) && strings.TrimSpace(lines[j]) == "```text" {
			shape, send, err := fence(j, "text")
			if err != nil {
				return nil, err
			}
			for _, s := range shape {
				if strings.TrimSpace(s) != "" {
					b.shape = append(b.shape, s)
				}
			}
			j = send
		}
		out = append(out, b)
		i = j
	}
	return out, nil
}

// shapeRe turns a shape line into a regexp: literal text, "…" any text,
// surrounding space ignored.
func shapeRe(s string) *regexp.Regexp {
	parts := strings.Split(strings.TrimSpace(s), "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// matchShape checks that every shape line matches an output line, in order.
func matchShape(shape []string, output string) error {
	out := strings.Split(output, "\n")
	k := 0
	for _, s := range shape {
		re := shapeRe(s)
		for k < len(out) && !re.MatchString(strings.TrimSpace(out[k])) {
			k++
		}
		if k == len(out) {
			return fmt.Errorf("no output line (in order) has the shape %q", strings.TrimSpace(s))
		}
		k++
	}
	return nil
}

func TestParse(t *testing.T) {
	bs, err := parse("x\n" + marker + "\n```sh\necho a\necho b\n```\n\n```text\na\n…\n```\n" + marker + "\n```sh\ntrue\n```\n")
	if err != nil || len(bs) != 2 || bs[0].code != "echo a\necho b" || len(bs[0].shape) != 2 || bs[1].code != "true" || bs[1].shape != nil {
		t.Fatalf("%v %+v", err, bs)
	}
	if _, err := parse(marker + "\n```go\n```\n"); err == nil {
		t.Fatal("a marker before a non-sh block was accepted")
	}
	if err := matchShape([]string{"a …", "{\"x\":…}"}, "zz\na 1\nq\n{\"x\":2}\n"); err != nil {
		t.Fatal(err)
	}
	if err := matchShape([]string{"{\"x\":…}", "a …"}, "a 1\n{\"x\":2}\n"); err == nil {
		t.Fatal("out-of-order shapes matched")
	}
}

// TestREADME runs the README's runnable blocks.
func TestREADME(t *testing.T) {
	bin := os.Getenv("BYTEPOINTSD")
	if bin == "" {
		t.Fatal("BYTEPOINTSD must name the built binary (make test-readme sets it)")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatal("the README's examples use jq and curl: install them")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parse(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatalf("README.md has no %s blocks", marker)
	}
	base, err := harness.FreeBase(1)
	if err != nil {
		t.Fatal(err)
	}
	ports := strings.NewReplacer("26656", strconv.Itoa(base), "26657", strconv.Itoa(base+1),
		"26658", strconv.Itoa(base+2), "26659", strconv.Itoa(base+3))

	// One script: each block announced on stdout and stderr so output is
	// attributed to its block.
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo '@@block %d@@'; echo '@@block %d@@' >&2\n%s\n", i, i, ports.Replace(b.code))
	}
	fmt.Fprintf(&script, "echo '@@block %d@@'\n", len(blocks))

	dir := t.TempDir()
	binDir := filepath.Dir(bin)
	if abs, err := filepath.Abs(binDir); err == nil {
		binDir = abs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	runErr := cmd.Wait()
	// Stop what the blocks left running: SIGINT (the nodes stop cleanly),
	// then SIGKILL.
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(-pgid, 0) == nil {
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)

	outs, errs := split(stdout.String()), split(stderr.String())
	if runErr != nil {
		last := len(outs) - 1
		b := blocks[min(max(last, 0), len(blocks)-1)]
		t.Fatalf("README block at line %d failed: %v\n--- its commands:\n%s\n--- stdout:\n%s\n--- stderr:\n%s\n%s",
			b.line, runErr, b.code, outs[last], errs[min(last, len(errs)-1)], nodeLogs(dir))
	}
	if len(outs) != len(blocks)+1 {
		t.Fatalf("the script ended early: %d of %d blocks announced", len(outs)-1, len(blocks))
	}
	for i, b := range blocks {
		if b.shape == nil {
			continue
		}
		if err := matchShape(b.shape, outs[i]); err != nil {
			t.Errorf("README block at line %d: %v\n--- its output:\n%s", b.line, err, outs[i])
		}
	}
}

// split cuts a script's output at the block markers: element i is block
// i's output.
func split(s string) []string {
	var out []string
	var cur strings.Builder
	started := false
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "@@block ") && strings.HasSuffix(l, "@@") {
			if started {
				out = append(out, cur.String())
			}
			cur.Reset()
			started = true
			continue
		}
		cur.WriteString(l + "\n")
	}
	return append(out, cur.String())
}

// nodeLogs is the tail of every *.log under dir, for a failure report.
func nodeLogs(dir string) string {
	var b strings.Builder
	logs, _ := filepath.Glob(filepath.Join(dir, "*", "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range append(logs, more...) {
		data, _ := os.ReadFile(l)
		if len(data) > 1500 {
			data = data[len(data)-1500:]
		}
		fmt.Fprintf(&b, "--- %s (tail):\n%s\n", l, data)
	}
	return b.String()
}
