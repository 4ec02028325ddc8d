package rehearse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"leitai/voting"
)

// api is a client of one server's HTTP API, acting as the host.
type api struct {
	base        string // http(s)://host:port, no trailing slash
	metricsBase string // where its /metrics is served ("": unknown)
	key         string
	hc          *http.Client
}

// newAPIs returns a client of each instance's API (and /metrics).
func newAPIs(cfg *Config, hc *http.Client) []*api {
	var out []*api
	for i, u := range cfg.URLs {
		a := &api{base: strings.TrimRight(u, "/"), key: cfg.HostKey, hc: hc}
		if i < len(cfg.MetricsURLs) {
			a.metricsBase = strings.TrimRight(cfg.MetricsURLs[i], "/")
		}
		out = append(out, a)
	}
	return out
}

// hallCode reads the event's current hall code (现场码) with the host key,
// as the big screen does with its screen key.
func (a *api) hallCode(ctx context.Context, id string) (code string, left time.Duration, err error) {
	var out struct {
		On        bool   `json:"on"`
		Code      string `json:"code"`
		ExpiresIn int64  `json:"expiresIn"`
	}
	if err := a.do(ctx, http.MethodGet, "/api/events/"+url.PathEscape(id)+"/hall-code", nil, &out); err != nil {
		return "", 0, err
	}
	return out.Code, time.Duration(out.ExpiresIn) * time.Millisecond, nil
}

// apiError is a refusal in the protocol's error shape, or a plain HTTP
// failure (Code empty).
type apiError struct {
	Status  int
	Code    voting.Code
	Message string
}

func (e *apiError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// code returns the protocol error code of err, or "" for a transport error.
func code(err error) voting.Code {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// retriable reports whether a request may succeed if sent again: the
// server could not be reached, or said unavailable.
func retriable(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code == voting.CodeUnavailable || ae.Status >= 500 && ae.Code != voting.CodeInternal
	}
	return err != nil && !errors.Is(err, context.Canceled)
}

func (a *api) do(ctx context.Context, method, path string, body, out any) error {
	return a.doHeader(ctx, method, path, nil, body, out)
}

// doHeader is do with more request headers.
func (a *api) doHeader(ctx context.Context, method, path string, hdr http.Header, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error struct {
				Code    voting.Code `json:"code"`
				Message string      `json:"message"`
			} `json:"error"`
		}
		ae := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			ae.Code, ae.Message = eb.Error.Code, eb.Error.Message
		} else {
			ae.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

func (a *api) createEvent(ctx context.Context, ev voting.Event) (voting.Event, error) {
	var out voting.Event
	err := a.do(ctx, http.MethodPost, "/api/events", ev, &out)
	return out, err
}

func (a *api) event(ctx context.Context, id string) (voting.Event, error) {
	var out voting.Event
	err := a.do(ctx, http.MethodGet, "/api/events/"+url.PathEscape(id), nil, &out)
	return out, err
}

func (a *api) deleteEvent(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodDelete, "/api/events/"+url.PathEscape(id)+"?confirm="+url.QueryEscape(id), nil, nil)
}

func (a *api) stage(ctx context.Context, id string) (voting.Stage, error) {
	var out voting.Stage
	err := a.do(ctx, http.MethodGet, "/api/events/"+url.PathEscape(id)+"/stage", nil, &out)
	return out, err
}

func (a *api) command(ctx context.Context, id string, cmd voting.Command) (voting.Stage, error) {
	var out voting.Stage
	err := a.do(ctx, http.MethodPost, "/api/events/"+url.PathEscape(id)+"/stage", cmd, &out)
	return out, err
}

func (a *api) standings(ctx context.Context, id string) (voting.Standings, error) {
	var out voting.Standings
	err := a.do(ctx, http.MethodGet, "/api/events/"+url.PathEscape(id)+"/standings", nil, &out)
	return out, err
}

func (a *api) voterBallots(ctx context.Context, id, credential string) ([]voting.CountedBallot, error) {
	var out struct {
		Ballots []voting.CountedBallot `json:"ballots"`
	}
	// The credential in a header, as the vote page sends it: never in a URL.
	err := a.doHeader(ctx, http.MethodGet, "/api/events/"+url.PathEscape(id)+"/ballots", http.Header{"X-Leitai-Credential": {credential}}, nil, &out)
	return out.Ballots, err
}

// ballotRequest is the body of POST /api/events/{event}/ballots.
type ballotRequest struct {
	ID         string  `json:"id"`
	Credential string  `json:"credential"`
	Contestant string  `json:"contestant"`
	Panel      string  `json:"panel,omitempty"`
	PanelKey   string  `json:"panelKey,omitempty"`
	Score      float64 `json:"score"`
}

func (a *api) castBallot(ctx context.Context, id string, b ballotRequest) (voting.Receipt, error) {
	var out voting.Receipt
	err := a.do(ctx, http.MethodPost, "/api/events/"+url.PathEscape(id)+"/ballots", b, &out)
	return out, err
}

// metrics reads the server's /metrics (Prometheus text format) and returns
// the samples leitai's report uses.
func (a *api) metrics(ctx context.Context) (ServerSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if a.metricsBase == "" {
		return ServerSample{}, errors.New("no metrics URL for this server (--metrics-url: its --metrics-addr)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.metricsBase+"/metrics", nil)
	if err != nil {
		return ServerSample{}, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return ServerSample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ServerSample{}, &apiError{Status: resp.StatusCode, Message: "GET /metrics"}
	}
	vals, err := parseMetrics(resp.Body)
	if err != nil {
		return ServerSample{}, err
	}
	return ServerSample{
		At:            time.Now(),
		RSSBytes:      vals["process_resident_memory_bytes"],
		CPUSeconds:    vals["process_cpu_seconds_total"],
		Goroutines:    vals["go_goroutines"],
		HeapBytes:     vals["go_memstats_heap_inuse_bytes"],
		Voters:        vals[`leitai_connections{role="voter"}`],
		Screens:       vals[`leitai_connections{role="screen"}`],
		Hosts:         vals[`leitai_connections{role="host"}`],
		BallotsStored: vals[`leitai_ballots_total{result="accepted"}`],
	}, nil
}

// parseMetrics reads the Prometheus text exposition format: one sample a
// line, "name{labels} value [timestamp]". Comments and blank lines are
// skipped. Keys are the name with its labels exactly as written.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := make(map[string]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexByte(line, ' ')
		if i := strings.IndexByte(line, '{'); i >= 0 && (end < 0 || i < end) {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("metrics: malformed line %q", line)
			}
			end = j + 1
		}
		if end <= 0 || end >= len(line) {
			return nil, fmt.Errorf("metrics: malformed line %q", line)
		}
		fields := strings.Fields(line[end:])
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: value in %q: %w", line, err)
		}
		out[line[:end]] = v
	}
	return out, sc.Err()
}
