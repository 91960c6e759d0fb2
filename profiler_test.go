package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestProfilerOffByDefault(t *testing.T) {
	cfg, err := loadServeConfig(sandboxGetenv(nil))
	if err != nil || cfg.PprofAddr != "" {
		t.Errorf("default PORTABOT_PPROF_ADDR = %q, %v; want off", cfg.PprofAddr, err)
	}
	cfg, err = loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_PPROF_ADDR": "127.0.0.1:6060"}))
	if err != nil || cfg.PprofAddr != "127.0.0.1:6060" {
		t.Errorf("PORTABOT_PPROF_ADDR = %q, %v; want 127.0.0.1:6060", cfg.PprofAddr, err)
	}
}

func TestProfilerServesProfiles(t *testing.T) {
	var logs strings.Builder
	stop, err := startProfiler("127.0.0.1:0", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	_, addr, ok := strings.Cut(logs.String(), "addr=")
	if !ok {
		t.Fatalf("no address logged: %s", logs.String())
	}
	resp, err := http.Get("http://" + strings.TrimSpace(addr) + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("GET /debug/pprof/cmdline = %d %q, want the command line", resp.StatusCode, body)
	}
}
