package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchSmoke builds portabot and runs the whole tool with tiny numbers:
// reference servers and serve as child processes, the fake Graph, the
// report.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds portabot and runs serve")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "portabot")
	build := exec.Command("go", "build", "-o", bin, "portabot")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
		"ceiling.startup_ms", "ceiling.levels", "probe.keys", "probe.levels",
		"portabot.startup_ms", "portabot.peak_rss_mib", "portabot.webhooks", "portabot.levels", "portabot.graph_stray",
		"targets.acks_vs_ceiling.pass", "targets.ack_p50_vs_probe.value", "targets.processed_vs_ceiling.target",
		"targets.peak_rss_mib.pass", "targets.startup_ms.pass",
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
	for name, s := range map[string]*Server{Ceiling: rep.Ceiling, Probe: rep.Probe, Portabot: rep.Portabot} {
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
	if rep.Portabot.StartupMS == nil || *rep.Portabot.StartupMS <= 0 || *rep.Portabot.PeakRSSMiB <= 0 {
		t.Errorf("startup %v, rss %v", rep.Portabot.StartupMS, rep.Portabot.PeakRSSMiB)
	}
	if !strings.Contains(stderr.String(), "bench: portabot") {
		t.Errorf("no progress lines on stderr:\n%s", stderr.String())
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
