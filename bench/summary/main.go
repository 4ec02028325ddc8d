// Command summary turns the JSON reports of `leitai rehearse --json` into
// the markdown tables of docs/performance.md. bench/run.sh runs it:
//
//	go run ./bench/summary bench/out/<date>/*.json bench/out/<date>/*.floor
//
// Each report's scenario is its file name without .json. Files ending in
// .floor are bench/floor's reports (the plain-TCP fan-out floor of the
// machine, measured in the same run): each scenario's stage fan-out is
// also given as a ratio to the floor for its number of voters.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"leitai/internal/rehearse"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(1)
	}
}

type named struct {
	name string
	rep  rehearse.Report
}

func run(files []string, w io.Writer) error {
	var reps []named
	var floors []floorReport
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if strings.HasSuffix(f, ".floor") {
			var fl floorReport
			if err := json.Unmarshal(data, &fl); err != nil {
				fmt.Fprintf(w, "- %s: no floor report (%v)\n", filepath.Base(f), err)
				continue
			}
			fl.name = strings.TrimSuffix(filepath.Base(f), ".floor")
			floors = append(floors, fl)
			continue
		}
		var rep rehearse.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			fmt.Fprintf(w, "- %s: no report (%v)\n", filepath.Base(f), err)
			continue
		}
		reps = append(reps, named{strings.TrimSuffix(filepath.Base(f), ".json"), rep})
	}
	if len(reps) == 0 {
		return nil
	}
	ms := func(l rehearse.Latency, full bool) string {
		if l.Samples == 0 {
			return "–"
		}
		if full {
			return fmt.Sprintf("%.1f / %.1f / %.1f / %.0f", l.P50, l.P95, l.P99, l.Max)
		}
		return fmt.Sprintf("%.1f / %.1f / %.0f", l.P50, l.P99, l.Max)
	}

	fmt.Fprintln(w, "| scenario | voters | connections opened / failed | ballots acked (refused) | acked/s avg / peak | ack ms p50 / p95 / p99 / max | ack → screen ms p50 / p99 / max | stage → voters ms p50 / p99 / max | reconnects, all back within | verdict |")
	fmt.Fprintln(w, "| --- | ---: | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, n := range reps {
		r := n.rep
		var refused int64
		for _, v := range r.Ballots.Refused {
			refused += v
		}
		back := "–"
		if r.Connections.Reconnects > 0 {
			back = fmt.Sprintf("%d, %.1f s", r.Connections.Reconnects, r.Connections.LongestOutageMs/1000)
		}
		verdict := "OK"
		if !r.OK {
			verdict = fmt.Sprintf("**FAILED** (lost %d, miscounted %d, failed %d, problems %d)", r.Lost, r.Miscounted, r.Connections.Failed, len(r.Problems))
		}
		fmt.Fprintf(w, "| %s | %d | %d / %d | %d (%d) | %.0f / %.0f | %s | %s | %s | %s | %s |\n",
			n.name, r.Voters, r.Connections.Opened, r.Connections.Failed, r.Ballots.Acknowledged, refused,
			r.Ballots.PerSecond, r.Ballots.PeakPerSecond, ms(r.AckLatency, true), ms(r.ScreenFanout, false),
			ms(r.StageFanout, false), back, verdict)
	}

	// Scenarios driven by several load processes (reports NAME.1, NAME.2,
	// …, run side by side): their totals.
	groups := map[string][]rehearse.Report{}
	var order []string
	for _, n := range reps {
		base, _, ok := strings.Cut(n.name, ".")
		if !ok {
			continue
		}
		if _, seen := groups[base]; !seen {
			order = append(order, base)
		}
		groups[base] = append(groups[base], n.rep)
	}
	for _, base := range order {
		g := groups[base]
		if len(g) < 2 {
			continue
		}
		var voters, opened, failed int
		var acked int64
		var rate float64
		ok := true
		for _, r := range g {
			voters += r.Voters
			opened += r.Connections.Opened
			failed += r.Connections.Failed
			acked += r.Ballots.Acknowledged
			rate += r.Ballots.PerSecond
			ok = ok && r.OK
		}
		verdict := "OK"
		if !ok {
			verdict = "**FAILED**"
		}
		fmt.Fprintf(w, "| %s (%d load processes, total) | %d | %d / %d | %d | %.0f / – | | | | | %s |\n",
			base, len(g), voters, opened, failed, acked, rate, verdict)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | server | RSS before / idle / peak MiB | KiB per idle connection | CPU s (% of one core) | goroutines max |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | --- | ---: |")
	for _, n := range reps {
		for _, s := range n.rep.Servers {
			if s.Error != "" {
				fmt.Fprintf(w, "| %s | %s | metrics unavailable: %s | | | |\n", n.name, s.URL, s.Error)
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %.0f / %.0f / %.0f | %.1f (%d conns) | %.1f (%.0f%%) | %d |\n",
				n.name, s.URL, s.RSSBeforeMiB, s.RSSIdleMiB, s.RSSPeakMiB, s.KiBPerConnection, s.IdleConnections,
				s.CPUSeconds, s.CPUPercent, s.GoroutinesMax)
		}
	}

	writeFloorRatios(w, reps, floors)
	writeRateCurves(w, reps)

	var problems []string
	for _, n := range reps {
		for _, p := range n.rep.Problems {
			problems = append(problems, fmt.Sprintf("- %s: %s (×%d)", n.name, p.What, p.Count))
		}
		for _, d := range n.rep.Verification.Differences {
			problems = append(problems, fmt.Sprintf("- %s: standings differ: %s", n.name, d))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Problems:")
		fmt.Fprintln(w)
		for _, p := range problems {
			fmt.Fprintln(w, p)
		}
	}
	return nil
}

// floorReport is what bench/floor -json prints (durations in ns).
type floorReport struct {
	name    string
	Sockets int `json:"sockets"`
	Median  struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"median"`
}

// writeFloorRatios gives each scenario's stage fan-out (host command →
// every voter) as a ratio to the plain-TCP floor measured in the same run
// for the same number of sockets (the mean of the floor runs for it).
func writeFloorRatios(w io.Writer, reps []named, floors []floorReport) {
	if len(floors) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| stage fan-out | voters | leitai p50 / p99 ms | floor p50 / p99 ms (runs) | ratio p50 / p99 |")
	fmt.Fprintln(w, "| --- | ---: | --- | --- | --- |")
	for _, n := range reps {
		l := n.rep.StageFanout
		if l.Samples == 0 {
			continue
		}
		var p50, p99 float64
		var runs []string
		for _, f := range floors {
			if f.Sockets == n.rep.Voters {
				p50 += f.Median.P50 / 1e6
				p99 += f.Median.P99 / 1e6
				runs = append(runs, f.name)
			}
		}
		if len(runs) == 0 {
			fmt.Fprintf(w, "| %s | %d | %.0f / %.0f | no floor for %d sockets | – |\n", n.name, n.rep.Voters, l.P50, l.P99, n.rep.Voters)
			continue
		}
		p50, p99 = p50/float64(len(runs)), p99/float64(len(runs))
		fmt.Fprintf(w, "| %s | %d | %.0f / %.0f | %.0f / %.0f (%s) | **%.2f× / %.2f×** |\n",
			n.name, n.rep.Voters, l.P50, l.P99, p50, p99, strings.Join(runs, ", "), l.P50/p50, l.P99/p99)
	}
}

// writeRateCurves gives the open-loop runs (rehearse --rate, reports named
// rate-<store>-<rate>) as a latency curve per store, and the highest
// offered rate whose ack p99 stayed under 50 ms with nothing lost.
func writeRateCurves(w io.Writer, reps []named) {
	curves := map[string][]named{}
	var stores []string
	for _, n := range reps {
		if n.rep.OpenLoop == nil {
			continue
		}
		store := strings.TrimPrefix(n.name, "rate-")
		if i := strings.LastIndexByte(store, '-'); i > 0 {
			store = store[:i]
		}
		if _, ok := curves[store]; !ok {
			stores = append(stores, store)
		}
		curves[store] = append(curves[store], n)
	}
	if len(stores) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| open loop | offered /s | sent / acked per s | ack ms p50 / p99 / max | generator lag ms p99 | server CPU ms per ballot (% of a core) | no free phone | verdict |")
	fmt.Fprintln(w, "| --- | ---: | --- | --- | ---: | --- | ---: | --- |")
	var best []string
	for _, store := range stores {
		c := curves[store]
		sort.Slice(c, func(i, j int) bool { return c[i].rep.OpenLoop.Rate < c[j].rep.OpenLoop.Rate })
		highest := 0.0
		for _, n := range c {
			ol, l := n.rep.OpenLoop, n.rep.AckLatency
			verdict := "OK"
			if !n.rep.OK {
				verdict = "**FAILED**"
			}
			fmt.Fprintf(w, "| %s | %.0f | %.0f / %.0f | %.1f / %.1f / %.0f | %.1f | %.3f (%.0f%%) | %d | %s |\n",
				store, ol.Rate, ol.SentPerSecond, ol.AckedPerSecond, l.P50, l.P99, l.Max, ol.Lag.P99, ol.CPUPerBallotMs, ol.CPUPercent, ol.NoFreePhone, verdict)
			if n.rep.OK && l.Samples > 0 && l.P99 < 50 && ol.NoFreePhone == 0 {
				highest = max(highest, ol.Rate)
			}
		}
		if highest > 0 {
			best = append(best, fmt.Sprintf("%s **%.0f ballots/s**", store, highest))
		} else {
			best = append(best, store+" **none of the rates**")
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- Highest rate with p99 < 50 ms (nothing lost, every due ballot sent): %s\n", strings.Join(best, ", "))
}
