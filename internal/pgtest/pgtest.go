// Package pgtest starts a throwaway PostgreSQL server for a test: initdb into
// a temporary directory, listening on a free loopback port, stopped when the
// test ends. It uses Debian's server binaries (/usr/lib/postgresql/*/bin,
// installed by `make postgres`); where they are missing the test is skipped
// with a message saying so. initdb refuses to run as root, so under root the
// server runs as the unprivileged user "nobody" with the directory chowned to
// it.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running test server.
type Server struct {
	Bin  string // directory of initdb, pg_ctl, postgres
	Data string // data directory
	Port int
	uid  *syscall.Credential
	t    testing.TB
}

// BinDir finds Debian's PostgreSQL server binaries, newest major first, or
// PGBIN when set.
func BinDir() (string, error) {
	if d := os.Getenv("PGBIN"); d != "" {
		return d, nil
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		return "", fmt.Errorf("no PostgreSQL server here (/usr/lib/postgresql/*/bin/initdb missing): run `make postgres` to install Debian's postgresql")
	}
	sort.Slice(m, func(i, j int) bool { return ver(m[i]) > ver(m[j]) })
	return filepath.Dir(m[0]), nil
}

func ver(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Start initialises and starts a server for t, skipping t when no server
// binaries are installed. The server is stopped in t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		t.Skip(err.Error())
	}
	s := &Server{Bin: bin, t: t}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.Data = filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("running as root and there is no user nobody to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.uid = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := s.run("initdb", "-D", s.Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if s.Port, err = freePort(); err != nil {
		t.Fatal(err)
	}
	s.StartServer()
	t.Cleanup(func() { s.StopServer() })
	return s
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.Bin, tool), args...)
	cmd.Dir = filepath.Dir(s.Data)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.uid != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.uid}
	}
	return cmd.CombinedOutput()
}

// StartServer (re)starts the server on its port and waits until it accepts
// connections.
func (s *Server) StartServer() {
	s.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k '' -c fsync=off -c full_page_writes=off", s.Port)
	if out, err := s.run("pg_ctl", "-D", s.Data, "-o", opts, "-l", filepath.Join(filepath.Dir(s.Data), "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Data), "log"))
		s.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// StopServer stops the server (fast shutdown) and waits for it to exit.
func (s *Server) StopServer() {
	if out, err := s.run("pg_ctl", "-D", s.Data, "-m", "fast", "-w", "stop"); err != nil {
		s.t.Logf("pg_ctl stop: %v\n%s", err, out)
	}
}

// URL is a connection string for the server's postgres database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
}

// Conn opens a connection, closed at the end of the test.
func (s *Server) Conn() *pgx.Conn {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
