package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCommandForm sends arbitrary signed form bodies to /slack/commands:
// whatever Slack (or an attacker holding the secret) sends, the handler
// answers with a known status, never panics, and a 200 carries valid JSON.
func FuzzCommandForm(f *testing.F) {
	fx := newFixture(f, nil)
	// Fuzzed actions report to the response_url; nobody reads those
	// reports here, so drain them or the fixture's buffer fills and the
	// app's background jobs block.
	go func() {
		for range fx.responses {
		}
	}()
	seed := fx.commandForm("U1", "show 12")
	f.Add(seed.Encode())
	f.Add(fx.commandForm("U1", "say #3 hello there").Encode())
	f.Add(fx.commandForm("U1", "list blocked").Encode())
	f.Add("text=%ZZ&team_id=" + testTeam)
	f.Add("")
	f.Add("payload=" + url.QueryEscape(`{"type":"block_actions"}`))
	f.Fuzz(func(t *testing.T, body string) {
		w := post(fx.app.Commands(), "/slack/commands", testSecret, time.Now(), body)
		switch w.Code {
		case http.StatusOK:
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
				t.Fatalf("200 with a body that is not JSON: %q", w.Body.String())
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for body %q", w.Code, body)
		}
		if strings.Contains(w.Body.String(), testSecret) {
			t.Fatal("the signing secret reached a reply")
		}
	})
}
