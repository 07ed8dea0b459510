package harness

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process is a node running as a separate OS process (localnet, tests).
type Process struct {
	Home string
	Log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, valid once done is closed
}

// StartProcess runs `bin start --home home` with output appended to
// home/node.log. extraEnv adds environment variables (KEY=VALUE).
func StartProcess(bin, home string, extraEnv []string, args ...string) (*Process, error) {
	logPath := filepath.Join(home, "node.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"start", "--home", home}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &Process{Home: home, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to be gone (a no-op once
// it has exited).
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGINT (Ctrl-C) and waits up to timeout for a clean exit.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("node %s did not stop within %s after SIGINT; killed", p.Home, timeout)
	}
}

// Exited returns the exit error if the process has ended (nil, false if running).
func (p *Process) Exited() (error, bool) {
	select {
	case <-p.done:
		return p.err, true
	default:
		return nil, false
	}
}

// Wait blocks until the process exits.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// FreeBase finds a base port such that base .. base+10*nodes-1 look free on
// 127.0.0.1 (TCP and UDP), for `testnet --base-port` in tests.
func FreeBase(nodes int) (int, error) {
	for try := 0; try < 50; try++ {
		base := 20000 + 10*rand.IntN(3500)
		if portsFree(base, 10*nodes) {
			return base, nil
		}
	}
	return 0, errors.New("no free port range found")
}

func portsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}

// Binary returns the bytepointsd binary to test: $BYTEPOINTSD, or one built
// into dir from this module (tests call it once per package).
func Binary(dir string) (string, error) {
	if b := os.Getenv("BYTEPOINTSD"); b != "" {
		if _, err := os.Stat(b); err == nil {
			return b, nil
		}
	}
	out := filepath.Join(dir, "bytepointsd")
	cmd := exec.Command("go", "build", "-o", out, "github.com/bytepoints/bytepoints/cmd/bytepointsd")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build bytepointsd: %w", err)
	}
	return out, nil
}
