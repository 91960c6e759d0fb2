package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serverEnv is a sandbox serve's environment with the variables of extra.
func serverEnv(extra map[string]string) environment {
	env := map[string]string{"PORTABOT_SANDBOX": "1", "PORTABOT_ADDR": "127.0.0.1:0"}
	for k, v := range extra {
		env[k] = v
	}
	return environment{getenv: func(k string) string { return env[k] }, stdin: strings.NewReader(""),
		stdout: io.Discard, stderr: io.Discard}
}

// When open fails after the simulated Meta started, the simulator is
// stopped, not left listening for the rest of the process.
func TestServeOpenFailureStopsTheSimulator(t *testing.T) {
	for _, tc := range []struct {
		name string
		// dir is the file made a directory, so that opening it fails.
		dir string
	}{
		{"store", "portabot.db"},
		{"store key", "portabot.db.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, tc.dir), 0o700); err != nil {
				t.Fatal(err)
			}
			s := &server{env: serverEnv(nil)}
			err := s.open(context.Background(), []string{"--db", filepath.Join(dir, "portabot.db")})
			if err == nil {
				s.close()
				t.Fatalf("open succeeded with %s a directory", tc.dir)
			}
			if s.sandbox == nil || s.sandbox.simURL == "" {
				t.Fatalf("open failed before the simulator started (%v): the test proves nothing", err)
			}
			resp, gerr := http.Get(s.sandbox.simURL + "/")
			if gerr == nil {
				resp.Body.Close()
				t.Errorf("the simulated Meta still answers at %s after open failed with %v", s.sandbox.simURL, err)
			}
		})
	}
}

// When serving fails, the Slack actions already acknowledged finish and
// report to Slack before serve's close returns, as they do on a shutdown.
func TestServeFailureWaitsForSlackActions(t *testing.T) {
	slack := newCockpitSlack(t)
	release := make(chan struct{})
	var reported atomic.Bool
	resp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		reported.Store(true)
	}))
	t.Cleanup(resp.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	s := &server{env: serverEnv(map[string]string{
		"PORTABOT_SLACK_AGENTS":         "*",
		"PORTABOT_SLACK_API_URL":        slack.srv.GetAPIURL(),
		"PORTABOT_SLACK_SIGNING_SECRET": cockpitSigningSecret,
		"PORTABOT_SLACK_BOT_TOKEN":      cockpitBotToken,
		"PORTABOT_SLACK_CHANNEL":        cockpitChannel,
		"PORTABOT_SLACK_TEAM_ID":        cockpitTeam,
	})}
	if err := s.open(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "portabot.db")}); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.run(context.Background()) }()

	// An action Slack is told "working on it" for, whose report waits.
	body := []byte(url.Values{
		"team_id": {cockpitTeam}, "channel_id": {cockpitChannel}, "user_id": {cockpitAgent}, "command": {"/porta"},
		"text": {"takeover 99"}, "response_url": {resp.URL + "/commands/1"}, "trigger_id": {"1.1.leak"},
	}.Encode())
	req, err := http.NewRequest(http.MethodPost, "http://"+s.ln.Addr().String()+"/slack/commands", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", cockpitSign(ts, body))
	ack, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(ack.Body)
	ack.Body.Close()
	if !strings.Contains(string(raw), "Working on it") {
		t.Fatalf("/porta takeover 99 answered %s %q, want the action acknowledged", ack.Status, raw)
	}

	// Serving fails: the listener is gone.
	s.ln.Close()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "http server") {
		t.Fatalf("run returned %v, want the HTTP server's failure", err)
	}
	closed := make(chan bool, 1)
	go func() {
		s.close()
		closed <- reported.Load()
	}()
	close(release)
	if !<-closed {
		t.Error("serve closed while an acknowledged Slack action had not reported yet")
	}
}
