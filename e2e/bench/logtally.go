package main

// What the system said while a run measured it: its log records counted by
// level and message (a task's failures also by error type), and the
// answers moto logged by HTTP status, so that throttled invokes, failed
// tasks and emulator errors show in the report rather than only in a file.

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// msgThrottled is the Lambda front's (shared/harness/lambdafront) debug record of a
// synchronous invoke refused over the account's concurrency quota, answered
// 429 TooManyRequestsException.
const msgThrottled = "lambda invoke throttled"

// tally counts log records. The zero value is not ready: use newTally.
type tally struct {
	mu     sync.Mutex
	counts map[tallyKey]int
	// sample is the first record's err attribute for each key.
	sample map[tallyKey]string
	// sums adds up the whole-number attributes of the records whose
	// message is a key of sums (the reconciler's "reconciled" report).
	sums map[string]map[string]int64
}

// tallyKey is a record's level and message, and for a task's failure its
// error type.
type tallyKey struct {
	level     slog.Level
	msg, kind string
}

// msgReconciled is the reconciler's report of one run (shared/reconcile).
const msgReconciled = "reconciled"

// msgInvoke is the Lambda front's debug record of one invocation it ran,
// with its duration_ms.
const msgInvoke = "lambda invoke"

func newTally() *tally {
	return &tally{counts: map[tallyKey]int{}, sample: map[tallyKey]string{},
		sums: map[string]map[string]int64{msgReconciled: {}, msgInvoke: {}}}
}

// sum returns the total of attribute key over the records of msg.
func (t *tally) sum(msg, key string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sums[msg][key]
}

// count returns the records of msg at any level.
func (t *tally) count(msg string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, v := range t.counts {
		if k.msg == msg {
			n += v
		}
	}
	return n
}

// tallyRow is one kind of record and how many there were.
type tallyRow struct {
	tallyKey
	n      int
	sample string
}

// rows returns the records at min or above, most frequent first.
func (t *tally) rows(min slog.Level) []tallyRow {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []tallyRow
	for k, n := range t.counts {
		if k.level >= min {
			out = append(out, tallyRow{tallyKey: k, n: n, sample: t.sample[k]})
		}
	}
	slices.SortFunc(out, func(a, b tallyRow) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.msg, b.msg), cmp.Compare(a.kind, b.kind))
	})
	return out
}

// tallyHandler counts every record (debug included) into t and passes the
// ones next accepts on to it.
type tallyHandler struct {
	next slog.Handler
	t    *tally
}

var _ slog.Handler = tallyHandler{}

func (h tallyHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h tallyHandler) Handle(ctx context.Context, r slog.Record) error {
	k := tallyKey{level: r.Level, msg: r.Message}
	var errText string
	h.t.mu.Lock()
	sums := h.t.sums[r.Message]
	r.Attrs(func(a slog.Attr) bool {
		switch {
		case a.Key == "error_type":
			k.kind = a.Value.String()
		case a.Key == "err":
			errText = a.Value.String()
		case sums != nil && a.Value.Kind() == slog.KindInt64:
			sums[a.Key] += a.Value.Int64()
		}
		return true
	})
	h.t.counts[k]++
	if _, ok := h.t.sample[k]; !ok && errText != "" {
		h.t.sample[k] = errText
	}
	h.t.mu.Unlock()
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h tallyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return tallyHandler{next: h.next.WithAttrs(as), t: h.t}
}

func (h tallyHandler) WithGroup(name string) slog.Handler {
	return tallyHandler{next: h.next.WithGroup(name), t: h.t}
}

// motoLog is what moto's output held: its answers by HTTP status (from
// the request lines its HTTP server logs), Python tracebacks, and the
// first few other lines.
type motoLog struct {
	byStatus   map[string]int
	tracebacks int
	other      []string
	read       bool
}

// requestLine is one request line of moto's HTTP server (werkzeug), e.g.
// 127.0.0.1 - - [27/Nov/2026 04:24:00] "POST / HTTP/1.1" 200 -
// (the request in terminal colours when the status is not 200).
var requestLine = regexp.MustCompile(`"[^"]* HTTP/[0-9.]+[^"]*" (\d{3}) `)

// ansi matches terminal colour codes, which werkzeug writes even to a file.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// banner is what werkzeug prints when it starts, not worth reporting.
var banner = []string{"WARNING: This is a development server", " * Running on ", "Press CTRL+C to quit"}

func readMotoLog(path string) (motoLog, error) {
	out := motoLog{byStatus: map[string]int{}}
	f, err := os.Open(path)
	if err != nil {
		return out, fmt.Errorf("read moto's output: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := ansi.ReplaceAllString(sc.Text(), "")
		if slices.ContainsFunc(banner, func(b string) bool { return strings.Contains(line, b) }) {
			continue
		}
		if m := requestLine.FindStringSubmatch(line); m != nil {
			out.byStatus[m[1]]++
			continue
		}
		if strings.HasPrefix(line, "Traceback") {
			out.tracebacks++
		}
		if strings.TrimSpace(line) != "" && len(out.other) < 5 {
			out.other = append(out.other, trunc(line, 200))
		}
	}
	out.read = true
	return out, sc.Err()
}

func (m motoLog) String() string {
	if !m.read {
		return "not read"
	}
	var codes []string
	for c := range m.byStatus {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	total := 0
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s: %d", c, m.byStatus[c]))
		total += m.byStatus[c]
	}
	s := fmt.Sprintf("%d requests answered (%s), %d Python tracebacks", total, strings.Join(parts, ", "), m.tracebacks)
	return s
}
