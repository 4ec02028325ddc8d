package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/redisstore"
)

// auditSource is where `leitai audit verify` reads an event: a store
// opened directly, or a running server through its host API.
type auditSource interface {
	Event(ctx context.Context, id string) (voting.Event, error)
	Audit(ctx context.Context, event string, after int64, limit int) ([]voting.AuditEntry, error)
	Standings(ctx context.Context, event string) (voting.Standings, error)
}

// audit runs `leitai audit verify`: it reads an event's whole audit log,
// checks the hash chain, recomputes the standings from the log and
// compares them with the standings the server shows. Exit status: 0 when
// everything matches, 1 on a mismatch (or a receipt not found), 2 when it
// cannot run.
func audit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: leitai audit verify --event ID [--server URL --host-key KEY | --redis URL | --data DIR] [--receipt CODE] [--head N:HASH]")
		return 2
	}
	fs := flag.NewFlagSet("leitai audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	event := fs.String("event", "", "the event `id` to verify")
	server := fs.String("server", "", "a running server's `URL`: read through its host API")
	hostKey := fs.String("host-key", envOr("LEITAI_HOST_KEY", ""), "the host `key`, with --server (env LEITAI_HOST_KEY)")
	redisURL := fs.String("redis", envOr("LEITAI_REDIS_URL", ""), "read the Redis store at `URL` directly (env LEITAI_REDIS_URL)")
	dataDir := fs.String("data", "", "read the embedded store in `dir` (stop the server first: it holds a lock)")
	var receipts, heads stringList
	fs.Var(&receipts, "receipt", "a voter's receipt `code` to look up (repeatable)")
	fs.Var(&heads, "head", "a chain head as printed (results page, 规则 sheet, control page): `N:HASH`; the log must pass through it (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *event == "" {
		fmt.Fprintln(stderr, "audit: --event is required")
		return 2
	}
	var src auditSource
	switch {
	case *server != "":
		if *hostKey == "" {
			fmt.Fprintln(stderr, "audit: --server needs --host-key (or LEITAI_HOST_KEY)")
			return 2
		}
		src = &apiSource{base: strings.TrimRight(*server, "/"), key: *hostKey, http: &http.Client{Timeout: 30 * time.Second}}
	case *redisURL != "":
		opt, err := redisOptions(*redisURL)
		if err != nil {
			fmt.Fprintln(stderr, "audit: --redis:", err)
			return 2
		}
		st := redisstore.New(redis.NewUniversalClient(opt))
		defer st.Close()
		src = st
	case *dataDir != "":
		st, err := embedded.Open(*dataDir)
		if err != nil {
			fmt.Fprintln(stderr, "audit:", err)
			return 2
		}
		defer st.Close()
		src = st
	default:
		fmt.Fprintln(stderr, "audit: say where to read: --server, --redis or --data")
		return 2
	}
	var parsed []voting.AuditHead
	for _, h := range heads {
		ah, err := voting.ParseAuditHead(h)
		if err != nil {
			fmt.Fprintln(stderr, "audit: --head:", voting.ErrorMessage(err))
			return 2
		}
		parsed = append(parsed, ah)
	}
	return verifyAudit(ctx, src, *event, receipts, parsed, stdout, stderr)
}

func verifyAudit(ctx context.Context, src auditSource, event string, receipts []string, heads []voting.AuditHead, stdout, stderr io.Writer) int {
	ev, err := src.Event(ctx, event)
	if err != nil {
		fmt.Fprintln(stderr, "audit:", voting.ErrorMessage(err))
		return 2
	}
	var log []voting.AuditEntry
	for {
		page, err := src.Audit(ctx, event, int64(len(log)), voting.MaxAuditPage)
		if err != nil {
			fmt.Fprintln(stderr, "audit: reading the log:", voting.ErrorMessage(err))
			return 2
		}
		if len(page) == 0 {
			break
		}
		log = append(log, page...)
	}
	shown, err := src.Standings(ctx, event)
	if err != nil {
		fmt.Fprintln(stderr, "audit: reading the standings:", voting.ErrorMessage(err))
		return 2
	}
	rep, err := voting.VerifyAudit(&ev, log)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL %s: the audit log is broken: %v\n", event, err)
		return 1
	}
	fmt.Fprintf(stdout, "audit log of %s: %d entries (%d ballots, %d of them replacements, %d resets); chain intact, head %s\n",
		event, rep.Entries, rep.Ballots, rep.Replaced, rep.Resets, rep.Head)
	if d := voting.StandingsDiff(rep.Standings, shown); d != "" {
		fmt.Fprintf(stdout, "FAIL %s: the standings recomputed from the log differ from the server's: %s\n", event, d)
		return 1
	}
	fmt.Fprintf(stdout, "OK %s: the standings recomputed from the log equal the server's (%d live ballots)\n", event, shown.Ballots)
	status := 0
	for _, h := range heads {
		if ok, why := h.Matches(log); !ok {
			fmt.Fprintf(stdout, "FAIL head %s: %s\n", h, why)
			status = 1
		} else {
			fmt.Fprintf(stdout, "OK head %s: the log passes through it\n", h)
		}
	}
	for _, r := range receipts {
		code := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(r), "-", ""))
		found := false
		for _, e := range log {
			if voting.ReceiptCode(e.Hash) == code && e.Kind == voting.AuditBallot {
				found = true
				fmt.Fprintf(stdout, "receipt %s: entry %d at %s, ballot %s, contestant %s, panel %s, score %s\n",
					code, e.Seq, time.UnixMilli(e.At).Format(time.RFC3339), e.Ballot, e.Contestant, e.Panel,
					strconv.FormatFloat(float64(e.Units)/voting.ScoreUnits, 'f', -1, 64))
			}
		}
		if !found {
			fmt.Fprintf(stdout, "FAIL receipt %s: not in the audit log\n", code)
			status = 1
		}
	}
	return status
}

// apiSource reads through a running server's host API.
type apiSource struct {
	base, key string
	http      *http.Client
}

func (a *apiSource) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return voting.Wrap(voting.CodeInvalid, err, "bad --server URL")
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	resp, err := a.http.Do(req)
	if err != nil {
		return voting.Wrap(voting.CodeUnavailable, err, "the server cannot be reached: "+err.Error())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body struct {
			Error struct {
				Code    voting.Code `json:"code"`
				Message string      `json:"message"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return voting.Errorf(body.Error.Code, "%s: %s", resp.Status, body.Error.Message)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (a *apiSource) Event(ctx context.Context, id string) (voting.Event, error) {
	var ev voting.Event
	err := a.get(ctx, "/api/events/"+url.PathEscape(id), &ev)
	return ev, err
}

func (a *apiSource) Audit(ctx context.Context, event string, after int64, limit int) ([]voting.AuditEntry, error) {
	var page struct {
		Entries []voting.AuditEntry `json:"entries"`
	}
	err := a.get(ctx, fmt.Sprintf("/api/events/%s/audit?after=%d&limit=%d", url.PathEscape(event), after, limit), &page)
	return page.Entries, err
}

func (a *apiSource) Standings(ctx context.Context, event string) (voting.Standings, error) {
	var sd voting.Standings
	err := a.get(ctx, "/api/events/"+url.PathEscape(event)+"/standings", &sd)
	return sd, err
}
