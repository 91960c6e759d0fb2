package main

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sandboxGetenv is an environment of env plus PORTABOT_SANDBOX=1.
func sandboxGetenv(env map[string]string) func(string) string {
	return func(k string) string {
		if k == "PORTABOT_SANDBOX" {
			return "1"
		}
		return env[k]
	}
}

func mapGetenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// A production setup missing its Meta token used to run in sandbox mode,
// against the simulator, with /sandbox/messages on the public port.
func TestConfigMissingTokenFailsClosed(t *testing.T) {
	_, err := loadServeConfig(mapGetenv(map[string]string{
		"PORTABOT_META_APP_SECRET":   "real-app-secret",
		"PORTABOT_META_VERIFY_TOKEN": "real-verify",
	}))
	if err == nil {
		t.Fatal("a setup without PORTABOT_META_ACCESS_TOKEN and without PORTABOT_SANDBOX=1 was accepted")
	}
	for _, name := range []string{"PORTABOT_META_ACCESS_TOKEN", "PORTABOT_WA_PHONE_NUMBER_ID", "PORTABOT_DB_KEY", "PORTABOT_SANDBOX=1"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	for _, present := range []string{"PORTABOT_META_APP_SECRET", "PORTABOT_META_VERIFY_TOKEN"} {
		if strings.Contains(err.Error(), present) {
			t.Errorf("error names %s, which is set: %v", present, err)
		}
	}
	if strings.Contains(err.Error(), "real-app-secret") {
		t.Errorf("error repeats a secret: %v", err)
	}
}

func TestConfigNamesEveryProblemAtOnce(t *testing.T) {
	_, err := loadServeConfig(sandboxGetenv(map[string]string{
		"PORTABOT_WORKERS":              "many",
		"PORTABOT_SEND_GRACE":           "soon",
		"PORTABOT_MIN_FREE":             "lots",
		"PORTABOT_SLACK_SIGNING_SECRET": "s",
		"PORTABOT_DB_KEY":               "not-a-key",
	}))
	var ce *configError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a configError", err)
	}
	for _, name := range []string{"PORTABOT_WORKERS", "PORTABOT_SEND_GRACE", "PORTABOT_MIN_FREE", "PORTABOT_SLACK_TEAM_ID", "PORTABOT_DB_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "not-a-key") {
		t.Errorf("error repeats the DB key: %v", err)
	}
}

func TestConfigSandboxOnlyWhenAsked(t *testing.T) {
	cfg, err := loadServeConfig(sandboxGetenv(nil))
	if err != nil || !cfg.Sandbox {
		t.Errorf("PORTABOT_SANDBOX=1: sandbox %v, %v; want sandbox mode", cfg.Sandbox, err)
	}
	if _, err := loadServeConfig(mapGetenv(map[string]string{"PORTABOT_SANDBOX": "yes"})); err == nil {
		t.Error("PORTABOT_SANDBOX=yes accepted; want 1 or unset")
	}
	cfg, err = loadServeConfig(withSandboxFlag(mapGetenv(nil), true))
	if err != nil || !cfg.Sandbox {
		t.Errorf("--sandbox: sandbox %v, %v; want sandbox mode", cfg.Sandbox, err)
	}
	if cfg.MinFree != defaultMinFree {
		t.Errorf("default PORTABOT_MIN_FREE = %d, want %d", cfg.MinFree, defaultMinFree)
	}
}

func TestConfigMinFreeSizes(t *testing.T) {
	for v, want := range map[string]uint64{"0": 0, "256MiB": 256 << 20, "1GB": 1e9, "2GiB": 2 << 30, "4096": 4096} {
		cfg, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_MIN_FREE": v}))
		if err != nil || cfg.MinFree != want {
			t.Errorf("PORTABOT_MIN_FREE=%q: %d, %v; want %d", v, cfg.MinFree, err, want)
		}
	}
}

func TestConfigDurationsShareOneParser(t *testing.T) {
	for name, bad := range map[string]string{"PORTABOT_SLACK_RETRY": "0", "PORTABOT_SEND_GRACE": "-1s", "PORTABOT_OUTBOX_RETENTION": "30s"} {
		_, err := loadServeConfig(sandboxGetenv(map[string]string{name: bad}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want it refused by name", name, bad, err)
		}
	}
	cfg, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_OUTBOX_RETENTION": "0", "PORTABOT_SEND_GRACE": "0"}))
	if err != nil || cfg.OutboxRetention != 0 || cfg.SendGrace != 0 {
		t.Errorf("zero retention and grace: %v, %v, %v", cfg.OutboxRetention, cfg.SendGrace, err)
	}
	if cfg.SlackRetry != 2*time.Second {
		t.Errorf("default PORTABOT_SLACK_RETRY = %v", cfg.SlackRetry)
	}
}

// Without a token and without PORTABOT_SANDBOX, serve used to start in
// sandbox mode; now it stops before touching anything.
func TestServeRefusesProductionWithoutToken(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portabot.db")
	var stderr bytes.Buffer
	err := run(t.Context(), environment{args: []string{"serve", "--db", db, "--addr", "127.0.0.1:0"},
		getenv: mapGetenv(map[string]string{"PORTABOT_META_APP_SECRET": "x"}), stdin: strings.NewReader(""),
		stdout: io.Discard, stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "PORTABOT_META_ACCESS_TOKEN") {
		t.Fatalf("serve without a token: %v, want a refusal naming PORTABOT_META_ACCESS_TOKEN", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
		t.Errorf("refused serve left files behind: %v", m)
	}
}

// The sandbox used to log the app secret even when the operator gave it.
func TestSandboxLogsOnlyGeneratedSecrets(t *testing.T) {
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_META_VERIFY_TOKEN": "configured-verify-token"}),
		filepath.Join(t.TempDir(), "portabot.db"))
	s.mustStop(t)
	logs := s.logs.String()
	for _, secret := range []string{testAppSecret, "configured-verify-token"} {
		if strings.Contains(logs, secret) {
			t.Errorf("serve logged the configured secret %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "sandbox mode") {
		t.Errorf("serve did not say it runs in sandbox mode:\n%s", logs)
	}
}
