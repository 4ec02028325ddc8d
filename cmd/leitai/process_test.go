package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"leitai/hub/access"
	"leitai/voting"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// leitaiBinary builds the real binary once per test run.
func leitaiBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "leitai-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "leitai")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// serverProcess is the real binary running in a test.
type serverProcess struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
	creds  *access.Credentials // mint credentials for named test voters
	// metrics is the base URL of --metrics-addr (a free loopback port).
	metrics string
}

// serverCreds maps a server's base URL to its voter credentials, for the
// simulated phones (voterQuery).
var serverCreds sync.Map

// serverSecret reads the voter-credential secret a server made at start:
// from its Redis, or from its data directory.
func serverSecret(t *testing.T, env []string) []byte {
	t.Helper()
	var dataDir, redisURL string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LEITAI_DATA_DIR="); ok {
			dataDir = v
		}
		if v, ok := strings.CutPrefix(kv, "LEITAI_REDIS_URL="); ok {
			redisURL = v
		}
	}
	if redisURL != "" {
		opt, err := redis.ParseURL(redisURL)
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opt)
		defer c.Close()
		b, err := c.Get(context.Background(), "leitai:secret:voter-credentials").Bytes()
		if err != nil {
			t.Fatalf("read the server's secret from Redis: %v", err)
		}
		return b
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "secret-voter-credentials"))
	if err != nil {
		t.Fatalf("read the server's secret: %v", err)
	}
	return b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	listeningLine = regexp.MustCompile(`listening on (\S+)`)
	metricsLine   = regexp.MustCompile(`^metrics: (http://\S+)/metrics$`)
)

// bannerEnd is the last line of the start banner.
const bannerEnd = "Serving. Ctrl-C stops the server gracefully."

// startServer runs the binary with args on a free port and waits for its
// banner, which names the address it listens on.
func startServer(t *testing.T, env []string, args ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(leitaiBinary(t), append([]string{"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sp := &serverProcess{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = sp.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	metrics := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		listening := ""
		for sc.Scan() {
			_, _ = sp.stdout.Write([]byte(sc.Text() + "\n"))
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil && listening == "" {
				listening = m[1]
			}
			if m := metricsLine.FindStringSubmatch(sc.Text()); m != nil {
				metrics <- m[1]
			}
			if sc.Text() == bannerEnd && listening != "" {
				addr <- listening
			}
		}
		sp.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		sp.base = "http://" + a
		select {
		case sp.metrics = <-metrics:
		default:
		}
	case err := <-sp.done:
		t.Fatalf("server exited before listening: %v\n%s", err, sp.stderr)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start\n%s", sp.stderr)
	}
	sp.creds = access.NewCredentials(serverSecret(t, cmd.Env), false, 1)
	serverCreds.Store(sp.base, sp.creds)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-sp.done
		}
	})
	return sp
}

// stop sends SIGTERM and waits for a clean exit.
func (sp *serverProcess) stop(t *testing.T) {
	t.Helper()
	if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sp.done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM\n%s", err, sp.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("server still running 15 s after SIGTERM\n%s", sp.stderr)
	}
}

func (sp *serverProcess) do(t *testing.T, method, path, key string, body any) (int, []byte) {
	t.Helper()
	return faultAPI(t, sp.base, method, path, key, body, nil)
}

func (sp *serverProcess) mustJSON(t *testing.T, method, path, key string, body, into any) {
	t.Helper()
	status, out := sp.do(t, method, path, key, body)
	if status/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, status, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, out)
		}
	}
}

// TestBinaryServesRestartsAndResumes is the run-it-for-real test: the real
// binary on a free port with a temp data dir serves the example event, its
// pages, health, readiness and metrics; SIGTERM stops it cleanly; restarted
// on the same data it has the same stage and standings.
func TestBinaryServesRestartsAndResumes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	data := t.TempDir()
	const key = "test-host-key-123"
	env := []string{"LEITAI_DATA_DIR=" + data, "LEITAI_HOST_KEY=" + key, "LEITAI_PUBLIC_URL=http://vote.example.test"}
	sp := startServer(t, env, "--event", "../../examples/gongshu-2020.yaml")

	// The key was configured: the banner says where it is, not what.
	banner := sp.stdout.String()
	for _, want := range []string{"http://vote.example.test/e/gongshu-2020", "/e/gongshu-2020/control", "LEITAI_HOST_KEY", "control-link", "big screen's QR code"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, key) {
		t.Errorf("the banner prints the configured host key:\n%s", banner)
	}
	for _, path := range []string{"/", "/e/gongshu-2020", "/e/gongshu-2020/screen", "/e/gongshu-2020/control", "/e/gongshu-2020/qr.svg", "/healthz", "/readyz"} {
		if status, body := sp.do(t, "GET", path, "", nil); status != http.StatusOK {
			t.Errorf("GET %s: %d %.200s", path, status, body)
		}
	}

	// Run part of the event: first unit on stage, voting open, ballots.
	var st voting.Stage
	sp.mustJSON(t, "POST", "/api/events/gongshu-2020/stage", key, voting.Command{Action: voting.ActionNext}, &st)
	sp.mustJSON(t, "POST", "/api/events/gongshu-2020/stage", key, voting.Command{Action: voting.ActionOpen}, &st)
	for i, score := range []float64{90, 85.5, 70, 99, 60} {
		sp.mustJSON(t, "POST", "/api/events/gongshu-2020/ballots", "", map[string]any{
			"id": uuid.NewString(), "credential": sp.creds.For(fmt.Sprintf("voter-%d", i)), "contestant": "u01", "score": score,
		}, nil)
	}
	sp.mustJSON(t, "POST", "/api/events/gongshu-2020/stage", key, voting.Command{Action: voting.ActionClose}, &st)
	var before voting.Standings
	sp.mustJSON(t, "GET", "/api/events/gongshu-2020/standings", key, nil, &before)
	if row, _ := before.Row("u01"); row.Ballots != 5 || row.Final != 81.83 {
		// trim 1 of 5: (85.5+70+90)/3 = 81.8333 → 81.83
		t.Fatalf("standing before restart %+v", row)
	}

	// /metrics is served on --metrics-addr, not on the port the hall
	// reaches.
	if status, _ := sp.do(t, "GET", "/metrics", "", nil); status != http.StatusNotFound {
		t.Errorf("/metrics on the public port: %d, want 404", status)
	}
	status, metrics := faultAPI(t, sp.metrics, "GET", "/metrics", "", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("/metrics on %s: %d", sp.metrics, status)
	}
	for _, want := range []string{`leitai_ballots_total{result="accepted"} 5`, "leitai_connections", "leitai_ballot_store_seconds", "leitai_fanout_seconds", "leitai_pubsub_reconnects_total", "leitai_queue_replaced_total", "leitai_slow_clients_closed_total", "process_resident_memory_bytes"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	sp.stop(t)
	if strings.Contains(sp.stderr.String(), key) {
		t.Errorf("the host key appears in the logs")
	}

	sp2 := startServer(t, env, "--event", "../../examples/gongshu-2020.yaml")
	var st2 voting.Stage
	sp2.mustJSON(t, "GET", "/api/events/gongshu-2020/stage", "", nil, &st2)
	if st2 != st {
		t.Fatalf("stage after restart %+v, before %+v", st2, st)
	}
	var after voting.Standings
	sp2.mustJSON(t, "GET", "/api/events/gongshu-2020/standings", key, nil, &after)
	a, _ := json.Marshal(after)
	b, _ := json.Marshal(before)
	if !bytes.Equal(a, b) {
		t.Fatalf("standings after restart differ:\n%s\nbefore:\n%s", a, b)
	}
	sp2.stop(t)
}
