package redistest

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of private redis-server processes on loopback.
type Cluster struct {
	Nodes []*Server
}

// Addrs returns the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// URL returns a redis:// URL naming every node, as leitai's --redis takes it.
func (c *Cluster) URL() string { return "redis://" + strings.Join(c.Addrs(), ",") }

// MustStartCluster starts masters redis-servers with cluster mode on, joins
// them into one cluster with the slots spread evenly (no replicas), and
// waits until the cluster reports ok. It needs redis-server and redis-cli;
// it ignores LEITAI_TEST_REDIS.
func MustStartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		Missing(tb, "redis-cli")
	}
	c := &Cluster{}
	for i := 0; i < masters; i++ {
		c.Nodes = append(c.Nodes, mustStartPrivate(tb, Options{Args: []string{
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
		}}))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for {
			out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", n.port(), "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redistest: cluster not ok on %s: %v\n%s", n.Addr, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

func (s *Server) port() string { return s.Addr[strings.LastIndexByte(s.Addr, ':')+1:] }
