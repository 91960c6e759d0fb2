package slack

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	slackapi "github.com/slack-go/slack"
)

func TestButtonTakeOver(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Agents = []string{agentUser} })
	w := f.click(t, agentUser, actionTakeOver, "12")
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("click: status %d, body %q; want an empty 200", w.Code, w.Body)
	}
	r := f.response(t)
	has(t, "result", r.Text, "You hold case #12")
	if r.ResponseType != slackapi.ResponseTypeEphemeral || r.ReplaceOriginal {
		t.Errorf("result is %q, replace_original %v; want ephemeral beside the card", r.ResponseType, r.ReplaceOriginal)
	}
	if diff := cmp.Diff([]call{{"takeover", "12", agentUser, ""}}, f.bot.got(), cmp.AllowUnexported(call{})); diff != "" {
		t.Errorf("actions mismatch (-want +got):\n%s", diff)
	}
	f.noResponse(t)
}

func TestButtons(t *testing.T) {
	for action, name := range buttonActions {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			if w := f.click(t, agentUser, action, "#14"); w.Code != http.StatusOK {
				t.Fatalf("click: status %d", w.Code)
			}
			f.response(t)
			if diff := cmp.Diff([]call{{name, "14", agentUser, ""}}, f.bot.got(), cmp.AllowUnexported(call{})); diff != "" {
				t.Errorf("actions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestButtonRefusedToNonAgent(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Agents = []string{agentUser} })
	if w := f.click(t, "U0READER", actionCancel, "12"); w.Code != http.StatusOK {
		t.Fatalf("click: status %d", w.Code)
	}
	has(t, "refusal", f.response(t).Text, "Only portabot's agents may cancel a case")
	if got := f.bot.got(); len(got) != 0 {
		t.Errorf("a non-agent's click ran: %v", got)
	}
	if f.refusals.Load() != 1 {
		t.Errorf("refusal not audited")
	}
	f.noResponse(t)
}

func TestOtherInteractionsIgnored(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct{ action, value string }{
		{"someone_elses_button", "12"},
		{actionTakeOver, "12; rm"},
	} {
		if w := f.click(t, agentUser, tt.action, tt.value); w.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", tt.action, w.Code)
		}
	}
	f.noResponse(t)
	if got := f.bot.got(); len(got) != 0 {
		t.Errorf("actions ran: %v", got)
	}
}
