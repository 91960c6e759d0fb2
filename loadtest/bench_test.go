package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The portabot binary, built once for the tests that run serve.
var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func portabotBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "portabot-loadtest-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "portabot"), "portabot").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "portabot")
}

// TestBenchSmoke builds portabot and runs the whole tool with tiny numbers:
// reference servers and serve as child processes, the fake Graph, the
// report.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds portabot and runs serve")
	}
	bin := portabotBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const requests = 50
	cmd := exec.CommandContext(ctx, bin, "bench", "--conns", "2", "--requests", "50", "--warmup", "5")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}

	var raw map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatalf("bench printed no JSON: %v\n%s", err, stdout.String())
	}
	for _, path := range []string{
		"version", "machine.cpus", "config.conns", "config.requests", "pass", "seconds",
		"ceiling.startup_ms", "ceiling.levels", "probe.keys", "probe.levels", "relay.startup_ms", "relay.graph_stray",
		"portabot.startup_ms", "portabot.peak_rss_mib", "portabot.webhooks", "portabot.levels", "portabot.graph_stray",
		"targets.acks_vs_ceiling.pass", "targets.ack_p50_vs_probe.value", "targets.processed_vs_ceiling.target",
		"targets.peak_rss_mib.pass", "targets.startup_ms.pass",
		"ratios.relay_processed_vs_ceiling_acks.value", "ratios.portabot_processed_vs_relay_processed.complete",
	} {
		if !has(raw, path) {
			t.Errorf("report has no %s", path)
		}
	}
	var rep Report
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("report does not decode: %v", err)
	}
	for name, s := range map[string]*Server{Ceiling: rep.Ceiling, Probe: rep.Probe, Relay: rep.Relay, Portabot: rep.Portabot} {
		if s == nil || len(s.Levels) != 1 {
			t.Fatalf("%s: %+v", name, s)
		}
		l := s.Levels[0]
		if l.Conns != 2 || l.Requests != requests || l.Acks != requests || l.AcksPerSec <= 0 || l.AckP50MS <= 0 ||
			l.AckP99MS < l.AckP50MS || l.Errors.Non200+l.Errors.Transport != 0 {
			t.Errorf("%s level: %+v", name, l)
		}
		if s.Webhooks != requests+5 {
			t.Errorf("%s: %d webhooks, want %d", name, s.Webhooks, requests+5)
		}
	}
	if *rep.Probe.Keys != requests+5 {
		t.Errorf("probe stored %d keys, want %d", *rep.Probe.Keys, requests+5)
	}
	e := rep.Portabot.Levels[0].E2E
	if e == nil || e.Answered != requests || e.Messages != requests || !e.Complete || e.Duplicates != 0 ||
		e.ProcessedPerSec <= 0 || e.ReadReceipts < requests || e.Replies < requests {
		t.Errorf("portabot end to end: %+v", e)
	}
	relayComplete(t, rep.Relay, requests)
	if r := rep.Ratios.PortabotProcessedVsRelayProcessed; r == nil || r.Value <= 0 || !r.Complete {
		t.Errorf("portabot vs relay: %+v", r)
	}
	if rep.Portabot.StartupMS == nil || *rep.Portabot.StartupMS <= 0 || *rep.Portabot.PeakRSSMiB <= 0 {
		t.Errorf("startup %v, rss %v", rep.Portabot.StartupMS, rep.Portabot.PeakRSSMiB)
	}
	if !strings.Contains(stderr.String(), "bench: portabot") || !strings.Contains(stderr.String(), "processed_vs_relay=") {
		t.Errorf("no progress lines on stderr:\n%s", stderr.String())
	}
}

// relayComplete checks that every acknowledged message of every relay
// level got exactly one read receipt and one reply.
func relayComplete(t *testing.T, s *Server, requests int) {
	t.Helper()
	if s == nil || len(s.Levels) == 0 || s.GraphStray == nil {
		t.Fatalf("relay: %+v", s)
	}
	for _, l := range s.Levels {
		e := l.E2E
		if e == nil || !e.Complete || e.Messages != requests || e.Answered != requests || e.Replies != requests ||
			e.ReadReceipts != requests || e.Duplicates != 0 || e.ClientsWithExtraReplies != 0 || e.ProcessedPerSec <= 0 {
			t.Errorf("relay at %d connections: %+v", l.Conns, e)
		}
	}
	if *s.GraphStray != (GraphCounts{}) {
		t.Errorf("relay: stray calls at the Graph: %+v", *s.GraphStray)
	}
}

// TestRunAllServers runs every server in the default order with the
// references in process, as --refs inproc does.
func TestRunAllServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds portabot and runs serve")
	}
	const requests = 40
	var progress bytes.Buffer
	rep, err := Run(t.Context(), Config{Exe: portabotBinary(t), Conns: []int{2, 8}, Requests: requests, Warmup: 4,
		InProcessRefs: true, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ceiling == nil || rep.Probe == nil || rep.Relay == nil || rep.Portabot == nil {
		t.Fatalf("servers missing: %+v", rep)
	}
	if rep.Relay.Mode != "inproc" || rep.Relay.Webhooks != 2*(requests+4) {
		t.Errorf("relay: mode %s, %d webhooks", rep.Relay.Mode, rep.Relay.Webhooks)
	}
	relayComplete(t, rep.Relay, requests)
	r := rep.Ratios.RelayProcessedVsCeilingAcks
	if r == nil || r.Value <= 0 || !r.Complete || !strings.Contains(r.What, "at 8 connections") {
		t.Errorf("relay vs ceiling: %+v", r)
	}
	if rep.Ratios.PortabotProcessedVsRelayProcessed == nil {
		t.Error("no portabot vs relay ratio")
	}
	// The order is the default one: the relay's line follows the probe's.
	lines := progress.String()
	if i, j := strings.Index(lines, "bench: probe"), strings.Index(lines, "bench: relay"); i < 0 || j < i ||
		!strings.Contains(lines[j:], "processed_vs_ceiling_acks=") {
		t.Errorf("progress:\n%s", lines)
	}
}

func has(m map[string]any, path string) bool {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = o[k]; !ok {
			return false
		}
	}
	return true
}

// TestReferencesInProcess runs the reference servers inside the test, as
// --refs inproc does.
func TestReferencesInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("fsyncs a real file")
	}
	rep, err := Run(t.Context(), Config{Exe: "unused", Conns: []int{1, 4}, Requests: 20, Warmup: 2,
		Servers: []string{Ceiling, Probe}, InProcessRefs: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ceiling.Mode != "inproc" || len(rep.Ceiling.Levels) != 2 || rep.Ceiling.Levels[1].Acks != 20 {
		t.Errorf("ceiling: %+v", rep.Ceiling)
	}
	if *rep.Probe.Keys != 44 {
		t.Errorf("probe keys %d, want 44", *rep.Probe.Keys)
	}
	if rep.Pass || rep.Targets.AcksVsCeiling != nil {
		t.Error("without portabot nothing can pass")
	}
}
