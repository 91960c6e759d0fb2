package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/bot"
	"portabot/fsm"
)

// documented is every portabot metric the README documents. The end-to-end
// test in package main reads the README itself; this list catches a metric
// dropped here without starting a server.
var documented = []string{
	"portabot_retention_removed_total",
	"portabot_webhooks_received_total",
	"portabot_webhooks_refused_total",
	"portabot_webhook_messages_total",
	"portabot_webhook_messages_duplicate_total",
	"portabot_webhook_meta_errors_total",
	"portabot_webhook_items_ignored_total",
	"portabot_inbox_depth",
	"portabot_processing_seconds",
	"portabot_turns_total",
	"portabot_outbox_sent_total",
	"portabot_outbox_retries_total",
	"portabot_outbox_parked_total",
	"portabot_outbox_failed_total",
	"portabot_outbox_unflagged_total",
	"portabot_outbox_rows",
	"portabot_notice_rows",
	"portabot_graph_calls_total",
	"portabot_graph_call_seconds",
	"portabot_cases",
	"portabot_slack_notifications_total",
	"portabot_faq_answers_total",
	"portabot_store_commits_total",
	"portabot_store_writes_total",
	"portabot_goroutine_panics_total",
}

// fakeStats is a store whose counts the test sets.
type fakeStats struct {
	mu                                      sync.Mutex
	depth                                   int
	pending, sent, parked, failed           int
	noticePending, noticeSent, noticeFailed int
	commits, writes                         uint64
	cases                                   []bot.Case
	casesErr                                error
	caseScans                               int
}

func (f *fakeStats) InboxDepth(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.depth, nil
}

func (f *fakeStats) OutboxStats(context.Context) (int, int, int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending, f.sent, f.parked, f.failed, nil
}

func (f *fakeStats) NoticeStats(context.Context) (int, int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.noticePending, f.noticeSent, f.noticeFailed, nil
}

func (f *fakeStats) WriteStats() (uint64, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commits, f.writes
}

func (f *fakeStats) CaseCounts(context.Context) (map[fsm.State]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.caseScans++
	counts := map[fsm.State]int{}
	for _, c := range f.cases {
		counts[c.State]++
	}
	return counts, f.casesErr
}

func (f *fakeStats) scans() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.caseScans
}

// value returns the value of the series name{labels}, and whether the
// registry exports it. Counters, gauges and untyped values are read as
// numbers; a histogram gives its sample count.
func value(t *testing.T, m *Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range s.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue series
				}
			}
			switch {
			case s.Counter != nil:
				return s.GetCounter().GetValue(), true
			case s.Gauge != nil:
				return s.GetGauge().GetValue(), true
			case s.Histogram != nil:
				return float64(s.GetHistogram().GetSampleCount()), true
			}
			return s.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func want(t *testing.T, m *Metrics, name string, labels map[string]string, v float64) {
	t.Helper()
	got, ok := value(t, m, name, labels)
	if !ok {
		t.Errorf("%s%v is not exported", name, labels)
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestHooksMoveCounters(t *testing.T) {
	m := New(nil, Options{Intents: []string{"duration", "pin"}})

	m.Webhook("received", 1)
	m.Webhook("received", 1)
	m.Webhook("messages", 3)
	m.Webhook("duplicates", 1)
	m.Webhook("duplicates", 0) // nothing new: no change
	m.Webhook("messages", -1)  // never lowers a counter (and never panics)
	m.Webhook("who_knows", 5)  // an event this version does not know
	m.Webhook("refused_signature", 1)
	m.Webhook("refused_bad_json", 1)
	m.Webhook("meta_errors", 2)
	m.Webhook("ignored", 3)
	m.Webhook("refused_signature", 1)

	m.GraphCall("request_code", "ok", 20*time.Millisecond)
	m.GraphCall("request_code", "meta_error", 30*time.Millisecond)
	m.GraphCall("messages", "unavailable", time.Second)

	m.Turn(2*time.Millisecond, nil)
	m.Turn(3*time.Millisecond, errors.New("store down"))
	m.Turn(4*time.Millisecond, nil)

	for _, o := range []string{"sent", "sent", "retry", "parked", "failed", "unflagged", "sent", "bogus"} {
		m.Send(o)
	}
	for _, o := range []string{"sent", "retry", "retry", "failed"} {
		m.Notify(o)
	}

	for _, in := range []string{"duration", "duration", bot.NotUnderstood, "pin", "not_an_intent"} {
		m.Answer(in)
	}

	want(t, m, "portabot_faq_answers_total", map[string]string{"intent": "duration"}, 2)
	want(t, m, "portabot_faq_answers_total", map[string]string{"intent": "pin"}, 1)
	want(t, m, "portabot_faq_answers_total", map[string]string{"intent": bot.NotUnderstood}, 1)
	want(t, m, "portabot_webhooks_received_total", nil, 2)
	want(t, m, "portabot_webhook_messages_total", nil, 3)
	want(t, m, "portabot_webhook_messages_duplicate_total", nil, 1)
	want(t, m, "portabot_webhook_meta_errors_total", nil, 2)
	want(t, m, "portabot_webhook_items_ignored_total", nil, 3)
	want(t, m, "portabot_webhooks_refused_total", map[string]string{"reason": "signature"}, 2)
	want(t, m, "portabot_webhooks_refused_total", map[string]string{"reason": "bad_json"}, 1)
	want(t, m, "portabot_webhooks_refused_total", map[string]string{"reason": "too_large"}, 0)
	want(t, m, "portabot_graph_calls_total", map[string]string{"endpoint": "request_code", "outcome": "ok"}, 1)
	want(t, m, "portabot_graph_calls_total", map[string]string{"endpoint": "request_code", "outcome": "meta_error"}, 1)
	want(t, m, "portabot_graph_calls_total", map[string]string{"endpoint": "messages", "outcome": "unavailable"}, 1)
	want(t, m, "portabot_graph_calls_total", map[string]string{"endpoint": "register", "outcome": "ok"}, 0)
	want(t, m, "portabot_graph_call_seconds", map[string]string{"endpoint": "request_code"}, 2)
	want(t, m, "portabot_graph_call_seconds", map[string]string{"endpoint": "messages"}, 1)
	want(t, m, "portabot_processing_seconds", nil, 3)
	want(t, m, "portabot_turns_total", map[string]string{"outcome": "ok"}, 2)
	want(t, m, "portabot_turns_total", map[string]string{"outcome": "error"}, 1)
	want(t, m, "portabot_outbox_sent_total", nil, 3)
	want(t, m, "portabot_outbox_retries_total", nil, 1)
	want(t, m, "portabot_outbox_parked_total", nil, 1)
	want(t, m, "portabot_outbox_failed_total", nil, 1)
	want(t, m, "portabot_outbox_unflagged_total", nil, 1)
	want(t, m, "portabot_slack_notifications_total", map[string]string{"outcome": "sent"}, 1)
	want(t, m, "portabot_slack_notifications_total", map[string]string{"outcome": "retry"}, 2)
	want(t, m, "portabot_slack_notifications_total", map[string]string{"outcome": "failed"}, 1)
}

func TestGaugesReadTheStoreAtScrape(t *testing.T) {
	f := &fakeStats{depth: 7, pending: 2, sent: 40, parked: 1, failed: 3,
		noticePending: 4, noticeSent: 9, noticeFailed: 1, commits: 11, writes: 30,
		cases: []bot.Case{{State: fsm.Done}, {State: fsm.AwaitCode}, {State: fsm.Done}}}
	m := New(f, Options{})

	want(t, m, "portabot_inbox_depth", nil, 7)
	for state, n := range map[string]float64{"pending": 2, "sent": 40, "parked": 1, "failed": 3} {
		want(t, m, "portabot_outbox_rows", map[string]string{"state": state}, n)
	}
	for state, n := range map[string]float64{"pending": 4, "sent": 9, "failed": 1} {
		want(t, m, "portabot_notice_rows", map[string]string{"state": state}, n)
	}
	want(t, m, "portabot_store_commits_total", nil, 11)
	want(t, m, "portabot_store_writes_total", nil, 30)
	want(t, m, "portabot_cases", map[string]string{"state": string(fsm.Done)}, 2)
	want(t, m, "portabot_cases", map[string]string{"state": string(fsm.AwaitCode)}, 1)
	// A state no case is in is exported at 0, not left out.
	want(t, m, "portabot_cases", map[string]string{"state": string(fsm.Menu)}, 0)
	for _, s := range fsm.All() {
		if _, ok := value(t, m, "portabot_cases", map[string]string{"state": string(s)}); !ok {
			t.Errorf("portabot_cases{state=%q} is not exported", s)
		}
	}

	// The values are read again at the next scrape (cases aside: cached).
	f.mu.Lock()
	f.depth, f.commits = 0, 12
	f.mu.Unlock()
	want(t, m, "portabot_inbox_depth", nil, 0)
	want(t, m, "portabot_store_commits_total", nil, 12)
}

func TestCasesCountIsCached(t *testing.T) {
	f := &fakeStats{cases: []bot.Case{{State: fsm.Menu}}}
	m := New(f, Options{CasesTTL: 10 * time.Second})
	now := time.Unix(1_700_000_000, 0)
	m.store.now = func() time.Time { return now }

	want(t, m, "portabot_cases", map[string]string{"state": string(fsm.Menu)}, 1)
	f.mu.Lock()
	f.cases = append(f.cases, bot.Case{State: fsm.Menu})
	f.mu.Unlock()
	now = now.Add(9 * time.Second)
	want(t, m, "portabot_cases", map[string]string{"state": string(fsm.Menu)}, 1)
	if n := f.scans(); n != 1 {
		t.Errorf("two scrapes within the TTL scanned the cases %d times, want 1", n)
	}
	now = now.Add(2 * time.Second)
	want(t, m, "portabot_cases", map[string]string{"state": string(fsm.Menu)}, 2)
	if n := f.scans(); n != 2 {
		t.Errorf("a scrape after the TTL: %d scans in all, want 2", n)
	}
}

// scrape GETs the handler and returns the status and body.
func scrape(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, string(body)
}

func TestExpositionHasEveryDocumentedName(t *testing.T) {
	m := New(&fakeStats{}, Options{})
	code, body := scrape(t, m.Handler())
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	names := []string{"go_goroutines"}
	if runtime.GOOS == "linux" {
		names = append(names, "process_resident_memory_bytes")
	}
	for _, name := range append(names, documented...) {
		if !strings.Contains(body, "\n# TYPE "+name+" ") {
			t.Errorf("the exposition has no %s", name)
		}
	}
	// And nothing of portabot's that the README does not document.
	for line := range strings.Lines(body) {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "portabot_") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		found := false
		for _, d := range documented {
			found = found || d == name
		}
		if !found {
			t.Errorf("%s is exported but not documented", name)
		}
	}
}

func TestStoreErrorLeavesTheRestServed(t *testing.T) {
	f := &fakeStats{depth: 5, casesErr: errors.New("disk on fire")}
	m := New(f, Options{})
	code, body := scrape(t, m.Handler())
	if code != http.StatusOK {
		t.Fatalf("GET /metrics with the cases unreadable: %d, want 200 with the rest", code)
	}
	if strings.Contains(body, "portabot_cases{") {
		t.Errorf("cases exported although they could not be read:\n%s", body)
	}
	if !strings.Contains(body, "\nportabot_inbox_depth 5\n") {
		t.Errorf("inbox depth missing while only the cases failed:\n%s", body)
	}
}

func TestConcurrentHooksAndScrapes(t *testing.T) {
	m := New(&fakeStats{cases: []bot.Case{{State: fsm.Menu}}}, Options{CasesTTL: time.Nanosecond})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				m.Webhook("received", 1)
				m.GraphCall("messages", "ok", time.Millisecond)
				m.Turn(time.Millisecond, nil)
				m.Send("sent")
				m.Notify("sent")
			}
		})
		wg.Go(func() {
			for range 10 {
				scrape(t, m.Handler())
			}
		})
	}
	wg.Wait()
	want(t, m, "portabot_webhooks_received_total", nil, 800)
	want(t, m, "portabot_outbox_sent_total", nil, 800)
}

func TestRetentionCounts(t *testing.T) {
	m := New(nil, Options{})
	m.Retention("expired", 3)
	m.Retention("pages_scrubbed", 0)
	m.Retention("expired", 2)
	_, body := scrape(t, m.Handler())
	for _, want := range []string{`portabot_retention_removed_total{kind="expired"} 5`,
		`portabot_retention_removed_total{kind="pages_scrubbed"} 0`, `portabot_retention_removed_total{kind="processed_markers"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("the exposition lacks %s", want)
		}
	}
}
