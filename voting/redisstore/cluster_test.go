package redisstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
	"leitai/voting/redisstore"
	"leitai/voting/redistest"
	"leitai/voting/storetest"
)

// startCluster starts a one-node Redis Cluster that serves every slot.
// Redis refuses, in cluster mode, a script that touches keys of two slots,
// so the contract suite on it shows that every script stays in its event's
// slot and that the store works through a ClusterClient.
func startCluster(t *testing.T) *redistest.Server {
	t.Helper()
	dir := t.TempDir()
	srv := redistest.MustStart(t, redistest.Options{AOF: true, Args: []string{
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
	}})
	if srv.External() {
		t.Skip("the cluster test needs a private redis-server")
	}
	if reply, err := srv.Do("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil || reply != "+OK" {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %q, %v", reply, err)
	}
	waitCluster(t, srv)
	return srv
}

// waitCluster waits until the node says the cluster is ok, as it does a
// moment after it starts.
func waitCluster(t *testing.T, srv *redistest.Server) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.ClusterInfo(context.Background()).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not come up: %q, %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openCluster(t *testing.T, srv *redistest.Server) *redisstore.Store {
	s := redisstore.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}}))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContractCluster(t *testing.T) {
	// One node for the whole suite (a cluster takes a while to come up),
	// emptied for each store: its subtests run one at a time.
	redistest.Parallel(t)
	srv := startCluster(t)
	storetest.RunSerial(t, func(t *testing.T) (voting.Store, func() voting.Store) {
		s := openCluster(t, srv)
		if err := rawClient(t, srv).FlushAll(testContext(t)).Err(); err != nil {
			t.Fatal(err)
		}
		return s, func() voting.Store {
			_ = s.Close()
			srv.Restart()
			waitCluster(t, srv)
			s = openCluster(t, srv)
			return s
		}
	})
}

func TestClusterDelete(t *testing.T) {
	redistest.Parallel(t)
	srv := startCluster(t)
	s := openCluster(t, srv)
	ctx := testContext(t)
	ev := mustCreate(t, s, testEvent("cluster", 3))
	command(t, s, &ev, cmdNext, cmdOpen)
	for _, v := range []string{"a", "b", "c"} {
		if _, err := s.CastBallot(ctx, counted(t, &ev, v, "c1", "audience", 80), ev.Revision); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.ResetContestant(ctx, ev.ID, "c1"); err != nil || n != 3 {
		t.Fatalf("ResetContestant = %d, %v", n, err)
	}
	if _, err := s.CastBallot(ctx, counted(t, &ev, "d", "c1", "judges", 80), ev.Revision); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEvent(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	if keys, _ := rawClient(t, srv).Keys(ctx, "leitai:{cluster}*").Result(); len(keys) != 0 {
		t.Fatalf("keys left after delete: %v", keys)
	}
}
