// Package redistest starts private redis-server processes for tests, so that
// a test can stop, kill and restart its Redis without disturbing others.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server process owned by one test, or the server named by
// LEITAI_TEST_REDIS (which cannot be restarted).
type Server struct {
	tb   testing.TB
	Addr string // host:port
	Dir  string // data directory; AOF lives here

	mu       sync.Mutex
	proc     *process
	args     []string
	external bool
}

// process is one run of redis-server; exited closes when Wait returns.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProcess(args []string) (*process, error) {
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Options configure a private server.
type Options struct {
	// AOF turns on the append-only file with appendfsync always, the
	// setting leitai documents for ballots.
	AOF bool
	// Args are extra redis-server arguments, e.g. "--cluster-enabled", "yes".
	Args []string
}

// MustStart starts a private redis-server on a free port in a temp dir and
// stops it when the test ends. When LEITAI_TEST_REDIS is set it returns that
// server instead (tests that restart Redis skip then). When redis-server is
// missing the test is skipped loudly, or fails when CI is set.
func MustStart(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if addr := os.Getenv("LEITAI_TEST_REDIS"); addr != "" {
		return &Server{tb: tb, Addr: strings.TrimPrefix(addr, "redis://"), external: true}
	}
	return mustStartPrivate(tb, opts)
}

// mustStartPrivate starts a private redis-server whatever LEITAI_TEST_REDIS says.
func mustStartPrivate(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		Missing(tb, "redis-server")
	}
	port, err := freePort()
	if err != nil {
		tb.Fatalf("redistest: free port: %v", err)
	}
	s := &Server{tb: tb, Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: tb.TempDir()}
	s.args = []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--daemonize", "no", "--logfile", filepath.Join(s.Dir, "redis.log"),
		"--protected-mode", "no", "--maxclients", "1000",
	}
	if opts.AOF {
		s.args = append(s.args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		s.args = append(s.args, "--appendonly", "no")
	}
	s.args = append(s.args, opts.Args...)
	s.Start()
	tb.Cleanup(func() { s.Kill() })
	return s
}

// Missing skips the test loudly when an outside program is missing, or fails
// it when CI is set: on CI every such program must be installed.
func Missing(tb testing.TB, program string) {
	tb.Helper()
	msg := fmt.Sprintf("\n*** %s is not installed: this test is SKIPPED. Install it (e.g. apt-get install -y %s) to run it. ***\n", program, program)
	if os.Getenv("CI") != "" {
		tb.Fatal(msg + "CI is set, so a missing program is a failure.")
	}
	tb.Skip(msg)
}

// Shared reports whether tests use the one server named by LEITAI_TEST_REDIS
// instead of private ones.
func Shared() bool { return os.Getenv("LEITAI_TEST_REDIS") != "" }

// Parallel marks t as a parallel test (t.Parallel) when every test starts
// its own redis-server; tests that share LEITAI_TEST_REDIS run one at a
// time, since they empty it and reuse event ids.
func Parallel(t *testing.T) {
	t.Helper()
	if !Shared() {
		t.Parallel()
	}
}

// External reports whether the server came from LEITAI_TEST_REDIS.
func (s *Server) External() bool { return s.external }

// RequirePrivate skips the test when the server is external, for tests that
// must stop or restart Redis.
func (s *Server) RequirePrivate() {
	s.tb.Helper()
	if s.external {
		s.tb.Skip("this test restarts Redis; it needs a private redis-server, not LEITAI_TEST_REDIS")
	}
}

// URL returns the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Start starts (or restarts) the process on the same port and directory and
// waits until it answers PING.
func (s *Server) Start() {
	s.tb.Helper()
	s.RequirePrivate()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return
	}
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ { // the port may linger briefly after a kill
		p, err := startProcess(s.args)
		if err != nil {
			s.tb.Fatalf("redistest: start redis-server: %v", err)
		}
		if err := waitReady(s.Addr, p.exited, 10*time.Second); err != nil {
			lastErr = err
			p.kill()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.proc = p
		return
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	s.tb.Fatalf("redistest: redis-server did not start: %v\n%s", lastErr, log)
}

// Stop shuts Redis down politely (SHUTDOWN, which fsyncs the AOF).
func (s *Server) Stop() {
	s.tb.Helper()
	s.RequirePrivate()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.proc.exited:
	case <-time.After(10 * time.Second):
		s.proc.kill()
	}
	s.proc = nil
}

// Kill kills Redis with SIGKILL, as a crash would.
func (s *Server) Kill() {
	if s.external {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.kill()
	s.proc = nil
}

// Restart kills Redis with SIGKILL and starts it again on the same data.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	s.Start()
}

// Do sends one command and returns the reply line, for setup in tests that
// should not depend on a client library (e.g. SCRIPT FLUSH).
func (s *Server) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func waitReady(addr string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited")
		case <-ctx.Done():
			return fmt.Errorf("redis-server at %s did not answer PING: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort picks a port for redis-server below the kernel's ephemeral range
// (so that no client socket of a busy machine takes it before Redis binds
// it), such that the cluster bus port (port + 10000, which must exist and
// be free in cluster mode) is free too.
func freePort() (int, error) {
	var lastErr error
	for range 200 {
		p := 20000 + rand.IntN(12000)
		l1, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			lastErr = err
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		l1.Close()
		if err != nil {
			lastErr = err
			continue
		}
		l2.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no free port pair: %w", lastErr)
}
