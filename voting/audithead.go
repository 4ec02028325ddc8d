package voting

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// AuditHead is the head of an event's audit chain: how many entries it
// has and the hash of the last one. Each entry's hash covers the one
// before, so a log that is edited and re-hashed from the change onward
// still verifies as a chain, but no longer ends in a head that was printed
// (results page, 规则 sheet) or noted (control page, when voting closed)
// before: `leitai audit verify --head N:HASH` checks that.
type AuditHead struct {
	Count int64  `json:"count"`
	Hash  string `json:"hash"` // "" for an empty log
}

// String is the head as it is printed and typed back: N:HASH.
func (h AuditHead) String() string { return strconv.FormatInt(h.Count, 10) + ":" + h.Hash }

// MinHeadDigits is the shortest start of a hash a printed head may give
// (64 bits: an edit cannot be fitted to it).
const MinHeadDigits = 16

// ParseAuditHead reads a head as printed: N:HASH, where HASH may be the
// start of the hash (at least MinHeadDigits hex digits).
func ParseAuditHead(s string) (AuditHead, error) {
	n, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	count, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	hash = strings.ToLower(strings.TrimSpace(hash))
	if !ok || err != nil || count < 1 || len(hash) < MinHeadDigits || len(hash) > 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return AuditHead{}, Errorf(CodeInvalid, "a chain head is N:HASH, e.g. 123:%s (at least %d hex digits)", strings.Repeat("0", MinHeadDigits), MinHeadDigits)
	}
	return AuditHead{Count: count, Hash: hash}, nil
}

// Matches reports whether entries (a verified log) pass through the head:
// entry Count exists and its hash starts with Hash. It says why not.
func (h AuditHead) Matches(entries []AuditEntry) (bool, string) {
	if h.Count > int64(len(entries)) {
		return false, fmt.Sprintf("the log ends at entry %d, before the head's entry %d: entries were removed", len(entries), h.Count)
	}
	if got := entries[h.Count-1].Hash; !strings.HasPrefix(got, h.Hash) {
		return false, fmt.Sprintf("entry %d has hash %s, not %s…: the log was changed at or before it", h.Count, got, h.Hash)
	}
	return true, ""
}

// AuditHead returns the head of the event's audit log. The store reads
// pages of the log from a position; the last entry is found in O(log n)
// one-entry reads, without reading the log.
func (s *Service) AuditHead(ctx context.Context, event string) (AuditHead, error) {
	last := func(n int64) (AuditEntry, bool, error) { // entry n, if there is one
		es, err := s.store.Audit(ctx, event, n-1, 1)
		if err != nil || len(es) == 0 {
			return AuditEntry{}, false, err
		}
		return es[0], true, nil
	}
	lo, hi := int64(0), int64(1) // entry lo exists (0: none needed), entry hi is to be tried
	for {
		_, ok, err := last(hi)
		if err != nil {
			return AuditHead{}, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 { // entry lo exists, entry hi does not
		mid := lo + (hi-lo)/2
		_, ok, err := last(mid)
		if err != nil {
			return AuditHead{}, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return AuditHead{}, nil
	}
	e, ok, err := last(lo)
	if err != nil || !ok {
		return AuditHead{}, Wrap(CodeUnavailable, err, "the audit log changed while its head was read; try again")
	}
	return AuditHead{Count: e.Seq, Hash: e.Hash}, nil
}
