//go:build network

package networks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

const (
	upgradeName = "v2-test"
	daemonName  = "bytepointsd"
	// exitUpgradeNeeded is cmd/bytepointsd's documented exit status.
	exitUpgradeNeeded = 3
	// v2TestHistoryPage is what the v2-test migration sets
	// (app/upgrade/handlers_upgradetest.go).
	v2TestHistoryPage = 321
)

// buildBinary builds bytepointsd into dir with go build (and tags).
func buildBinary(t *testing.T, dir string, tags ...string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, daemonName)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, "github.com/bytepoints/bytepoints/cmd/bytepointsd")...)
	if bz, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", tags, err, bz)
	}
	return out
}

// installCosmovisor lays out home the way cosmovisor does
// (DAEMON_HOME/cosmovisor/{genesis,upgrades/<name>}/bin/DAEMON_NAME, and
// current, a symlink to the one to run), with current at from.
func installCosmovisor(t *testing.T, home, oldBin, newBin, from string) {
	t.Helper()
	root := filepath.Join(home, "cosmovisor")
	for dir, bin := range map[string]string{"genesis": oldBin, filepath.Join("upgrades", upgradeName): newBin} {
		if err := os.MkdirAll(filepath.Join(root, dir, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(bin, filepath.Join(root, dir, "bin", daemonName)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(from, filepath.Join(root, "current")); err != nil {
		t.Fatal(err)
	}
}

// supervisor is the test's cosmovisor: it runs current/bin/bytepointsd;
// when the node exits and upgrade-info.json names an upgrade whose binary
// is installed and not yet current, it points current at it and restarts
// the node; otherwise it stops supervising.
type supervisor struct {
	t    *testing.T
	home string
	// beforeSwitch, when set, runs once the old binary has stopped for the
	// upgrade, before the switch.
	beforeSwitch func()

	mu      sync.Mutex
	proc    *harness.Process
	exits   []int // exit statuses of the runs that ended
	info    *node.UpgradeInfo
	stopped bool
	done    chan struct{}
}

func startSupervisor(t *testing.T, home string, beforeSwitch func()) *supervisor {
	s := &supervisor{t: t, home: home, beforeSwitch: beforeSwitch, done: make(chan struct{})}
	s.run()
	go s.loop()
	return s
}

func (s *supervisor) current() string {
	target, _ := os.Readlink(filepath.Join(s.home, "cosmovisor", "current"))
	return target
}

func (s *supervisor) run() {
	bin := filepath.Join(s.home, "cosmovisor", "current", "bin", daemonName)
	p, err := harness.StartProcess(bin, s.home, []string{"DAEMON_NAME=" + daemonName, "DAEMON_HOME=" + s.home})
	if err != nil {
		s.t.Error(err)
		return
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

func (s *supervisor) loop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		p := s.proc
		s.mu.Unlock()
		if p == nil {
			return
		}
		err := p.Wait()
		status := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		} else if err != nil {
			status = -1
		}
		s.mu.Lock()
		s.exits = append(s.exits, status)
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return
		}
		info, err := node.ReadUpgradeInfo(s.home)
		if err != nil {
			return // no upgrade asked for: the node just ended
		}
		next := filepath.Join("upgrades", info.Name)
		if _, err := os.Stat(filepath.Join(s.home, "cosmovisor", next, "bin", daemonName)); err != nil || s.current() == next {
			return
		}
		if s.beforeSwitch != nil {
			s.beforeSwitch()
		}
		s.mu.Lock()
		s.info = info // the switch: waitSwitched returns from here on
		s.mu.Unlock()
		cur := filepath.Join(s.home, "cosmovisor", "current")
		if err := os.Remove(cur); err != nil {
			s.t.Error(err)
			return
		}
		if err := os.Symlink(next, cur); err != nil {
			s.t.Error(err)
			return
		}
		s.run()
	}
}

// stop ends the supervised node (SIGINT) and the supervision.
func (s *supervisor) stop() { s.end(func(p *harness.Process) { _ = p.Stop(30 * time.Second) }) }

// kill ends the supervised node (SIGKILL) and the supervision.
func (s *supervisor) kill() { s.end((*harness.Process).Kill) }

// end stops supervising and ends whichever process is current until the
// loop is done (a restart may be under way).
func (s *supervisor) end(f func(*harness.Process)) {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	for {
		s.mu.Lock()
		p := s.proc
		s.mu.Unlock()
		if p != nil {
			f(p)
		}
		select {
		case <-s.done:
			return
		case <-time.After(100 * time.Millisecond): // a process started meanwhile
		}
	}
}

func (s *supervisor) state() (exits []int, info *node.UpgradeInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.exits...), s.info
}

// waitSwitched waits until the supervisor has restarted the node on the
// upgrade's binary.
func (s *supervisor) waitSwitched(ctx context.Context) error {
	for {
		if _, info := s.state(); info != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			exits, _ := s.state()
			return fmt.Errorf("%s: not switched to %s (exits %v, current %s)", s.home, upgradeName, exits, s.current())
		case <-s.done:
			if _, info := s.state(); info != nil {
				return nil
			}
			exits, _ := s.state()
			return fmt.Errorf("%s: supervision ended without a switch (exits %v)", s.home, exits)
		case <-time.After(200 * time.Millisecond): // polling the supervisor's record
		}
	}
}

// runOnce runs bin start --home home to its end and returns its exit
// status and output.
func runOnce(ctx context.Context, bin, home string) (int, string) {
	cmd := exec.CommandContext(ctx, bin, "start", "--home", home)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		return -1, err.Error() + "\n" + string(out)
	}
	return 0, string(out)
}

// TestNetworkSoftwareUpgrade: four validators under the test's cosmovisor
// (seller-3's operator installed the new binary early, before the
// upgrade's height). A proposal schedules v2-test at height H. The three
// old binaries stop before H: one log line, no panic trace, exit status 3,
// upgrade-info.json in cosmovisor's format; seller-3 keeps the old rules
// until H (equal app hashes). Run again, an old binary refuses with the
// upgrade's name. Switched by the supervisor, all four apply H with the
// migration, agree on every app hash, carry app version 2 in the headers
// from H+1 and in ABCI Info, and show the migration's effect in state; a
// node put back on the old binary after H refuses, naming the upgrade.
func TestNetworkSoftwareUpgrade(t *testing.T) {
	binDir := t.TempDir()
	oldBin := buildBinary(t, filepath.Join(binDir, "old"))
	newBin := buildBinary(t, filepath.Join(binDir, "new"), "upgradetest")
	plan, err := node.FreePortPlan(4)
	if err != nil {
		t.Fatal(err)
	}
	// CometBFT's TCP p2p: with the libp2p transport, seller-3 (which keeps
	// running) did not take back its three peers when they all restarted
	// on the new binary, and fell behind (see the report of issue 16).
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 4, Output: filepath.Join(t.TempDir(), "net"),
		Transport: node.TransportTCP, Ports: plan, TimeoutCommit: 300 * time.Millisecond, Invariants: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	n := &net{t: t, bin: oldBin, m: m, procs: map[string]*harness.Process{}, gone: map[string]bool{}, ctx: ctx}
	sellers := founding(4)
	sup := map[string]*supervisor{}
	t.Cleanup(func() {
		for _, s := range sup {
			s.kill()
		}
		if t.Failed() {
			for id, s := range sup {
				log, _ := os.ReadFile(filepath.Join(s.home, "node.log"))
				t.Logf("---- %s log tail ----\n%s", id, tail(log))
			}
		}
	})

	// seller-0 is the one whose old binary the test runs once more after
	// it stopped: it must refuse, naming the upgrade.
	var refused struct {
		status int
		out    string
	}
	for _, id := range sellers {
		h := n.home(id).Dir
		from := "genesis"
		if id == "seller-3" {
			from = filepath.Join("upgrades", upgradeName)
		}
		installCosmovisor(t, h, oldBin, newBin, from)
		var before func()
		if id == "seller-0" {
			before = func() { refused.status, refused.out = runOnce(ctx, oldBin, h) }
		}
		sup[id] = startSupervisor(t, h, before)
	}
	for _, id := range sellers {
		n.waitHeight(id, 2)
	}
	h0 := n.home("seller-0").Dir

	// Schedule the upgrade: propose, two more yes votes.
	if r := n.submit("seller-1", &types.MsgPurchase{CustomerId: "u", AmountPaise: 250000, Flow: pin}); !r.OK() {
		t.Fatal(r.Log)
	}
	H := n.height("seller-0") + 30
	txs := [][]string{
		{"tx", "propose", "software-upgrade", "--name", upgradeName, "--height", fmt.Sprint(H), "--info", "test upgrade", "--home", h0},
		{"tx", "vote", "--proposal", "1", "--yes", "--home", n.home("seller-1").Dir},
		{"tx", "vote", "--proposal", "1", "--yes", "--home", n.home("seller-2").Dir},
	}
	var out string
	for _, args := range txs {
		out = cli(t, oldBin, append(args, "-o", "json")...)
	}
	if !strings.Contains(out, `"executed": true`) {
		t.Fatalf("upgrade proposal did not execute on the third yes:\n%s", out)
	}
	var st struct {
		Plan *struct {
			Name   string `json:"name"`
			Height int64  `json:"height"`
		} `json:"plan"`
		Done []struct {
			Name   string `json:"name"`
			Height int64  `json:"height"`
		} `json:"done"`
		AppVersion uint64 `json:"app_version"`
	}
	if err := json.Unmarshal([]byte(cli(t, oldBin, "query", "upgrade", "--home", h0, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Plan == nil || st.Plan.Name != upgradeName || st.Plan.Height != H || st.AppVersion != 1 {
		t.Fatalf("query upgrade after scheduling: %+v", st)
	}
	if now := n.height("seller-0"); now >= H-1 {
		t.Fatalf("the proposal took until height %d; H=%d is too close to tell", now, H)
	}

	// The old binaries stop before H; the supervisors switch them.
	for _, id := range sellers[:3] {
		if err := sup[id].waitSwitched(ctx); err != nil {
			t.Fatal(err)
		}
		exits, info := sup[id].state()
		if len(exits) != 1 || exits[0] != exitUpgradeNeeded {
			t.Fatalf("%s: old binary's exit statuses %v, want [%d]", id, exits, exitUpgradeNeeded)
		}
		if info.Name != upgradeName || info.Height != H || info.Info != "test upgrade" {
			t.Fatalf("%s: upgrade-info.json %+v", id, info)
		}
		raw, _ := os.ReadFile(filepath.Join(n.home(id).Dir, "data", "upgrade-info.json"))
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil || fields["name"] != upgradeName || fields["height"] != float64(H) {
			t.Fatalf("%s: upgrade-info.json is not cosmovisor's {name, height, info}: %s", id, raw)
		}
	}
	if refused.status != exitUpgradeNeeded || !strings.Contains(refused.out, `"`+upgradeName+`"`) {
		t.Fatalf("old binary started again at H: status %d, want %d naming %s:\n%s", refused.status, exitUpgradeNeeded, upgradeName, refused.out)
	}
	if exits, _ := sup["seller-3"].state(); len(exits) != 0 {
		t.Fatalf("seller-3, on the new binary from the start, exited: %v", exits)
	}

	// The chain goes on from H under the new rules.
	for _, id := range sellers {
		n.waitHeight(id, H+3)
	}
	n.agree(H+3, sellers...)
	for _, id := range sellers[:3] {
		log, _ := os.ReadFile(filepath.Join(n.home(id).Dir, "node.log"))
		if c := strings.Count(string(log), `UPGRADE \"`+upgradeName+`\" NEEDED`) + strings.Count(string(log), `UPGRADE "`+upgradeName+`" NEEDED`); c != 1 {
			t.Fatalf("%s: %d upgrade-needed log lines, want 1:\n%s", id, c, tail(log))
		}
		if strings.Contains(string(log), "not waiting for consensus") {
			t.Logf("%s: CometBFT handed it block H while it stopped; FinalizeBlock held it unapplied", id)
		} else {
			t.Logf("%s: stopped after committing H-1", id)
		}
		for _, bad := range []string{"CONSENSUS FAILURE", "panic:", "goroutine "} {
			if strings.Contains(string(log), bad) {
				t.Fatalf("%s: the stop printed %q:\n%s", id, bad, tail(log))
			}
		}
	}
	c := n.client("seller-2")
	for _, hv := range []struct {
		h   int64
		app uint64
	}{{H - 1, 1}, {H, 1}, {H + 1, 2}, {H + 3, 2}} {
		b, err := c.RPC.Block(ctx, &hv.h)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Block.Header.Version.App; got != hv.app {
			t.Fatalf("header %d carries app version %d, want %d", hv.h, got, hv.app)
		}
	}
	for _, id := range sellers {
		info, err := n.client(id).RPC.ABCIInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Response.AppVersion != 2 {
			t.Fatalf("%s: ABCI Info app version %d, want 2", id, info.Response.AppVersion)
		}
	}
	if err := json.Unmarshal([]byte(cli(t, oldBin, "query", "upgrade", "--home", n.home("seller-3").Dir, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Plan != nil || len(st.Done) != 1 || st.Done[0].Name != upgradeName || st.Done[0].Height != H || st.AppVersion != 2 {
		t.Fatalf("query upgrade after H: %+v", st)
	}
	q, err := n.client("seller-1").Query(ctx, "/params", false)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := client.Decode[types.Params](q); p.MaxHistoryPage != v2TestHistoryPage {
		t.Fatalf("migration's effect missing: max_history_page %d, want %d", p.MaxHistoryPage, v2TestHistoryPage)
	}
	if r := n.submit("seller-0", &types.MsgPurchase{CustomerId: "u", AmountPaise: 100000, Flow: pin}); !r.OK() {
		t.Fatalf("purchase after the upgrade: %s", r.Log)
	}

	// Put back on the old binary after H: refused, naming the upgrade.
	sup["seller-1"].stop()
	status, text := runOnce(ctx, oldBin, n.home("seller-1").Dir)
	if status != exitUpgradeNeeded || !strings.Contains(text, upgradeName) || !strings.Contains(text, "was applied") {
		t.Fatalf("old binary after the upgrade: status %d, want %d naming %s:\n%s", status, exitUpgradeNeeded, upgradeName, text)
	}
	// The other three go on.
	h := n.height("seller-0")
	for _, id := range []string{"seller-0", "seller-2", "seller-3"} {
		n.waitHeight(id, h+2)
	}
}
