// Command floor measures the fan-out floor of the machine it runs on: how
// long it takes plain TCP to deliver one small message to each of N
// sockets, with one write per socket from a few writer goroutines and a
// separate client process reading them. No hub can beat it on the same
// machine, so leitai's stage fan-out is reported as a ratio to it
// (bench/run.sh runs both minutes apart; absolute times on shared machines
// swing by 2× between sittings, the ratio much less).
//
//	go run ./bench/floor -n 18000 -rounds 10
//
// The parent listens on loopback, starts itself again as the client
// process (-client), waits until every socket is connected, then runs the
// rounds: each message carries the round and the time the round began, and
// the client measures, per socket, the time from that moment until the
// whole message was read. With -json it prints one JSON object (the
// summary reads it); otherwise a line per round and the median round.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"leitai/internal/rehearse"
)

// Round is one fan-out: latencies from its start to each socket's read.
type Round struct {
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// Report is what floor prints with -json.
type Report struct {
	Sockets int     `json:"sockets"`
	Size    int     `json:"size"`
	Writers int     `json:"writers"`
	Rounds  []Round `json:"rounds"`
	// Median is the round with the median p50 (its p99 with it).
	Median Round `json:"median"`
}

func main() {
	n := flag.Int("n", 18000, "number of `sockets`")
	size := flag.Int("size", 200, "message size in `bytes` (at least 16)")
	writers := flag.Int("writers", 2, "writer `goroutines` in the server")
	rounds := flag.Int("rounds", 10, "number of fan-outs")
	pause := flag.Duration("pause", 500*time.Millisecond, "idle `time` between rounds")
	sources := flag.String("source-ips", "", "local `addresses` the client connects from, e.g. 127.0.0.1-127.0.0.16")
	asJSON := flag.Bool("json", false, "print one JSON report")
	client := flag.String("client", "", "run as the client process, connecting to this `address` (internal)")
	flag.Parse()
	if *size < 16 {
		*size = 16
	}
	var err error
	if *client != "" {
		err = runClient(*client, *n, *size, *sources, os.Stdout)
	} else {
		var rep Report
		rep, err = runServer(*n, *size, *writers, *rounds, *pause, clientProcess(*n, *size, *sources))
		if err == nil {
			printReport(rep, *asJSON)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func printReport(rep Report, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(rep)
		return
	}
	for i, r := range rep.Rounds {
		fmt.Printf("round %2d: p50 %v  p99 %v  max %v\n", i+1, ms(r.P50), ms(r.P99), ms(r.Max))
	}
	fmt.Printf("floor, %d sockets, %d-byte message, %d writers: p50 %v, p99 %v (median round)\n",
		rep.Sockets, rep.Size, rep.Writers, ms(rep.Median.P50), ms(rep.Median.P99))
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms" }

// startClient starts the client side against addr; its rounds arrive on
// the reader, one JSON Round per line. stop ends it.
type startClient func(addr string) (out io.Reader, stop func(), err error)

// clientProcess runs the client as a process of its own: this program
// again, with -client.
func clientProcess(n, size int, sources string) startClient {
	return func(addr string) (io.Reader, func(), error) {
		self, err := os.Executable()
		if err != nil {
			return nil, nil, err
		}
		cmd := exec.Command(self, "-client", addr, "-n", strconv.Itoa(n), "-size", strconv.Itoa(size), "-source-ips", sources)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return out, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
	}
}

// runServer accepts n sockets from the client and fans a message out to
// all of them, rounds times.
func runServer(n, size, writers, rounds int, pause time.Duration, start startClient) (Report, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Report{}, err
	}
	defer ln.Close()
	out, stop, err := start(ln.Addr().String())
	if err != nil {
		return Report{}, err
	}
	defer stop()
	conns := make([]net.Conn, 0, n)
	for len(conns) < n {
		c, err := ln.Accept()
		if err != nil {
			return Report{}, err
		}
		defer c.Close()
		conns = append(conns, c)
	}
	lines := bufio.NewScanner(out)
	rep := Report{Sockets: n, Size: size, Writers: writers}
	msg := make([]byte, size)
	for round := 1; round <= rounds; round++ {
		time.Sleep(pause)
		start := time.Now()
		binary.BigEndian.PutUint64(msg[0:], uint64(round))
		binary.BigEndian.PutUint64(msg[8:], uint64(start.UnixNano()))
		if err := fanOut(conns, msg, writers); err != nil {
			return rep, err
		}
		if !lines.Scan() {
			return rep, fmt.Errorf("the client process ended: %v", lines.Err())
		}
		var r Round
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			return rep, fmt.Errorf("client said %q: %w", lines.Text(), err)
		}
		rep.Rounds = append(rep.Rounds, r)
	}
	sorted := slices.Clone(rep.Rounds)
	slices.SortFunc(sorted, func(a, b Round) int { return int(a.P50 - b.P50) })
	rep.Median = sorted[len(sorted)/2]
	return rep, nil
}

// fanOut writes msg to every connection: one write each, the connections
// split into one contiguous shard per writer goroutine.
func fanOut(conns []net.Conn, msg []byte, writers int) error {
	var wg sync.WaitGroup
	errs := make([]error, writers)
	per := (len(conns) + writers - 1) / writers
	for w := range writers {
		shard := conns[min(w*per, len(conns)):min((w+1)*per, len(conns))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range shard {
				if _, err := c.Write(msg); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runClient connects n sockets to addr and, for each round, prints one
// JSON Round once every socket has read that round's message.
func runClient(addr string, n, size int, sources string, w io.Writer) error {
	ips, err := rehearse.ParseSourceIPs(sources)
	if err != nil {
		return fmt.Errorf("-source-ips: %w", err)
	}
	type arrival struct {
		round uint64
		took  time.Duration
	}
	arrivals := make(chan arrival, n)
	for i := range n {
		d := net.Dialer{Timeout: 30 * time.Second}
		if len(ips) > 0 {
			d.LocalAddr = &net.TCPAddr{IP: ips[i%len(ips)]}
		}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		go func() {
			buf := make([]byte, size)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				now := time.Now()
				start := time.Unix(0, int64(binary.BigEndian.Uint64(buf[8:])))
				arrivals <- arrival{round: binary.BigEndian.Uint64(buf), took: now.Sub(start)}
			}
		}()
	}
	out := bufio.NewWriter(w)
	took := make([]time.Duration, 0, n)
	var round uint64
	for a := range arrivals {
		if a.round != round {
			round, took = a.round, took[:0]
		}
		took = append(took, a.took)
		if len(took) < n {
			continue
		}
		slices.Sort(took)
		r := Round{P50: took[len(took)/2], P99: took[len(took)*99/100], Max: took[len(took)-1]}
		b, _ := json.Marshal(r)
		fmt.Fprintln(out, strings.TrimSpace(string(b)))
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return nil
}
