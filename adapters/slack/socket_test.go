package slack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// ack is a Socket Mode acknowledgement as slacktest saw it.
type ack struct {
	EnvelopeID string                   `json:"envelope_id"`
	Payload    *slackapi.WebhookMessage `json:"payload"`
}

// socketFixture runs the App in Socket Mode against slacktest and collects
// the acks it writes back on the websocket.
func socketFixture(t *testing.T) (*fixture, *slacktest.Server, <-chan ack) {
	t.Helper()
	srv := slacktest.NewTestServer()
	srv.Start()
	f := newFixture(t, func(c *Config) {
		c.AppToken = "xapp-test"
		c.APIURL = srv.GetAPIURL()
		c.Agents = []string{agentUser}
	})
	f.app.log = slog.New(slog.NewTextHandler(io.Discard, nil))

	acks := make(chan ack, 16)
	stopDrain := make(chan struct{})
	go func() {
		// slacktest blocks on SeenFeed until someone reads it.
		for {
			select {
			case m := <-srv.SeenFeed:
				var a ack
				if json.Unmarshal([]byte(m), &a) == nil && a.EnvelopeID != "" {
					acks <- a
				}
			case <-stopDrain:
				return
			}
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.app.RunSocketMode(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunSocketMode: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("RunSocketMode did not return after its context ended")
		}
		srv.Stop()
		close(stopDrain)
	})
	return f, srv, acks
}

func waitAck(t *testing.T, acks <-chan ack, id string) ack {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case a := <-acks:
			if a.EnvelopeID == id {
				return a
			}
		case <-deadline:
			t.Fatalf("no ack for envelope %s", id)
		}
	}
}

func envelope(t *testing.T, typ, id string, payload any) string {
	t.Helper()
	js, err := json.Marshal(map[string]any{
		"type": typ, "envelope_id": id, "payload": payload, "accepts_response_payload": typ == "slash_commands",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func TestSocketMode(t *testing.T) {
	f, srv, acks := socketFixture(t)

	// A read answers in the ack itself.
	srv.SendToWebsocket(envelope(t, "slash_commands", "env-list", map[string]any{
		"team_id": testTeam, "user_id": "U0READER", "command": "/porta", "text": "list failed",
		"response_url": f.respURL, "trigger_id": "t-1",
	}))
	a := waitAck(t, acks, "env-list")
	if a.Payload == nil {
		t.Fatal("list: ack without a payload")
	}
	has(t, "list over socket mode", a.Payload.Text, "Cases in `failed` (1)")

	// An action is acknowledged at once and reported to the response_url.
	srv.SendToWebsocket(envelope(t, "slash_commands", "env-say", map[string]any{
		"team_id": testTeam, "user_id": agentUser, "command": "/porta", "text": "say 14 hello",
		"response_url": f.respURL, "trigger_id": "t-2",
	}))
	a = waitAck(t, acks, "env-say")
	if a.Payload == nil || a.Payload.Text != "Working on it…" {
		t.Fatalf("say: ack %+v", a.Payload)
	}
	has(t, "say result", f.response(t).Text, "on its way")

	// A button: acknowledged, run, reported.
	srv.SendToWebsocket(envelope(t, "interactive", "env-click", map[string]any{
		"type": "block_actions", "team": map[string]any{"id": testTeam}, "user": map[string]any{"id": agentUser},
		"response_url": f.respURL, "trigger_id": "t-3",
		"actions": []map[string]any{{"type": "button", "action_id": actionRelease, "block_id": "porta_case_14", "value": "14"}},
	}))
	waitAck(t, acks, "env-click")
	has(t, "release result", f.response(t).Text, "The bot has case #14 again")

	// Another workspace is refused in the ack.
	srv.SendToWebsocket(envelope(t, "slash_commands", "env-other", map[string]any{
		"team_id": "T0THER", "user_id": agentUser, "command": "/porta", "text": "takeover 12",
		"response_url": f.respURL, "trigger_id": "t-4",
	}))
	a = waitAck(t, acks, "env-other")
	has(t, "other team", a.Payload.Text, "not served")

	f.app.Wait()
	want := []call{{"say", "14", agentUser, "hello"}, {"release", "14", agentUser, ""}}
	if diff := cmp.Diff(want, f.bot.got(), cmp.AllowUnexported(call{})); diff != "" {
		t.Errorf("actions mismatch (-want +got):\n%s", diff)
	}
}

func TestSocketModeNeedsAppToken(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.app.RunSocketMode(context.Background()); err == nil {
		t.Error("RunSocketMode without an app token returned no error")
	}
}
