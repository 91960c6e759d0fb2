package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portabot/internal/eventually"
)

func getStatus(t *testing.T, s *served, path string) int {
	t.Helper()
	resp, err := s.client.Get(s.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// /readyz used to say ready with the disk full; /healthz stays about the
// process alone.
func TestReadyzFailsUnderMinFree(t *testing.T) {
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_MIN_FREE": "1000000TiB"}), filepath.Join(t.TempDir(), "portabot.db"))
	if code := getStatus(t, s, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with less free disk than PORTABOT_MIN_FREE: %d, want 503", code)
	}
	if code := getStatus(t, s, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d, want 200 (process only)", code)
	}
	s.mustStop(t)
	if !strings.Contains(s.logs.String(), "PORTABOT_MIN_FREE") {
		t.Errorf("the log does not say why serve is not ready:\n%s", s.logs)
	}
}

func TestReadyzReadyWithRoom(t *testing.T) {
	s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))
	eventually.Until(t, 10*time.Second, func() bool { return getStatus(t, s, "/readyz") == http.StatusOK },
		func() string { return fmt.Sprintf("/readyz never ready; logs:\n%s", s.logs) })
	s.mustStop(t)
	if !strings.Contains(s.logs.String(), "first start") {
		t.Errorf("serve did not log its first start:\n%s", s.logs)
	}
}

// /sandbox/messages, with full client numbers, used to be served whenever
// the token was missing; it exists only in sandbox mode.
func TestServeNoSandboxRoutesInProduction(t *testing.T) {
	f := newGraphFake(t, fakePhoneID, "tok")
	s := startServe(t, liveEnv(f), filepath.Join(t.TempDir(), "portabot.db"))
	if code := getStatus(t, s, "/sandbox/messages"); code != http.StatusNotFound {
		t.Errorf("/sandbox/messages in production: %d, want 404", code)
	}
	s.mustStop(t)
}

// A wrong PORTABOT_DB_KEY used to start ready and fail every claim, 160
// errors a second; it stops start-up, naming the variable.
func TestServeRefusesWrongDBKey(t *testing.T) {
	f := newGraphFake(t, fakePhoneID, "tok")
	db := filepath.Join(t.TempDir(), "portabot.db")
	env := liveEnv(f)
	s := startServe(t, env, db)
	s.mustStop(t)
	env["PORTABOT_DB_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	env["PORTABOT_ADDR"] = "127.0.0.1:0"
	err := run(t.Context(), environment{args: []string{"serve", "--db", db}, getenv: mapGetenv(env),
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "PORTABOT_DB_KEY") || !strings.Contains(err.Error(), db+"-inbox") {
		t.Errorf("serve with another key: %v; want a refusal naming PORTABOT_DB_KEY and the inbox file", err)
	}
}

func TestCheckCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portabot.db")
	s := startServe(t, sandboxEnv(nil), db)
	s.mustStop(t)
	var out bytes.Buffer
	err := run(t.Context(), environment{args: []string{"check", "--db", db}, getenv: mapGetenv(nil),
		stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard})
	if err != nil || !strings.Contains(out.String(), "consistent") {
		t.Errorf("check of a sound store: %v\n%s", err, &out)
	}
}
