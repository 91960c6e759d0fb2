package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"portabot/adapters/whatsapp"
	"portabot/internal/eventually"
)

// documentedMetric is a row of the README's table of metrics.
type documentedMetric struct{ name, kind string }

// readmeMetrics returns the metrics documented in the README's
// "## Metrics" table, in order.
func readmeMetrics(t *testing.T) []documentedMetric {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Metrics\n")
	if !ok {
		t.Fatal(`README.md has no "## Metrics" section`)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var rows []documentedMetric
	for line := range strings.Lines(section) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			t.Fatalf("README.md: a metrics row without a type: %q", line)
		}
		rows = append(rows, documentedMetric{name: strings.Trim(strings.TrimSpace(cells[1]), "`"),
			kind: strings.TrimSpace(cells[2])})
	}
	if len(rows) == 0 {
		t.Fatal(`README.md's "## Metrics" section has no table of metrics`)
	}
	return rows
}

// exposition is one scrape of /metrics: the metric families' types and
// every sample's value by series, as printed (`name{label="value",...}`).
type exposition struct {
	types   map[string]string
	samples map[string]float64
}

func scrapeMetrics(t *testing.T, s *served) exposition {
	t.Helper()
	resp, err := s.client.Get(s.url + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	e := exposition{types: map[string]string{}, samples: map[string]float64{}}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSuffix(line, "\n")
		if typ, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, kind, _ := strings.Cut(typ, " ")
			e.types[name] = kind
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("GET /metrics: unreadable line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("GET /metrics: unreadable value in %q: %v", line, err)
		}
		e.samples[line[:i]] = v
	}
	return e
}

func TestServeMetrics(t *testing.T) {
	const client = "5511999990031"
	s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))

	s.text(t, client, "hi")
	s.text(t, client, "how long does the migration take?")
	forged := whatsapp.BuildTextWebhook(s.phone, client, newMessageID(), "hi again", time.Now())
	code, err := postWebhook(t, s.client, s.url, forged, whatsapp.SignBody("not-the-app-secret", forged))
	if err != nil || code != http.StatusUnauthorized {
		t.Fatalf("a webhook signed with the wrong secret: %d, %v; want 401", code, err)
	}
	eventually.Within(t, 20*time.Second, "the reply", func() bool { return len(s.sentTo(t, client)) > 0 })

	// The dispatcher counts a reply once it has recorded it as sent, a
	// moment after the simulator received it.
	atLeastOne := []string{
		`portabot_webhooks_received_total`,
		`portabot_webhooks_refused_total{reason="signature"}`,
		`portabot_webhook_messages_total`,
		`portabot_turns_total{outcome="ok"}`,
		`portabot_outbox_sent_total`,
		`portabot_graph_calls_total{endpoint="messages",outcome="ok"}`,
		`portabot_store_commits_total`,
		`portabot_faq_answers_total{intent="duration"}`,
	}
	var e exposition
	eventually.Within(t, 10*time.Second, "the reply counted in /metrics", func() bool {
		e = scrapeMetrics(t, s)
		return e.samples[`portabot_outbox_sent_total`] >= 1 && e.samples[`portabot_faq_answers_total{intent="duration"}`] >= 1
	})
	for _, series := range atLeastOne {
		if v, ok := e.samples[series]; !ok || v < 1 {
			t.Errorf("%s = %v (exported: %v), want at least 1", series, v, ok)
		}
	}
	if v := e.samples[`portabot_webhooks_refused_total{reason="bad_json"}`]; v != 0 {
		t.Errorf(`portabot_webhooks_refused_total{reason="bad_json"} = %v, want 0`, v)
	}
	if v := e.samples[`portabot_processing_seconds_count`]; v < 1 {
		t.Errorf("portabot_processing_seconds_count = %v, want at least 1", v)
	}
	if _, ok := e.samples[`portabot_cases{state="menu"}`]; !ok {
		t.Error(`portabot_cases{state="menu"} is not exported`)
	}

	var documented []string
	for _, m := range readmeMetrics(t) {
		documented = append(documented, m.name)
		kind, ok := e.types[m.name]
		switch {
		case !ok:
			t.Errorf("%s is documented in the README but not in /metrics", m.name)
		case kind != m.kind:
			t.Errorf("%s is a %s in /metrics, the README says %s", m.name, kind, m.kind)
		}
	}
	for name := range e.types {
		if strings.HasPrefix(name, "portabot_") && !slices.Contains(documented, name) {
			t.Errorf("%s is in /metrics but not documented in the README", name)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := e.types[name]; !ok {
			t.Errorf("%s is missing: the Go and process collectors should be registered", name)
		}
	}
	s.mustStop(t)
}
