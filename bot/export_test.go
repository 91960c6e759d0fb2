package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"portabot/bot"
	"portabot/fsm"
)

// TestExportOfAFinishedCaseMatchesItsAudit runs a port to done against the
// simulated Meta and exports it: every audit event is in the timeline in
// order, the states are the transitions, each Graph call is an outcome, and
// neither the code, the PIN nor a full number is in it unless asked.
func TestExportOfAFinishedCaseMatchesItsAudit(t *testing.T) {
	ctx := context.Background()
	h := reach(t, fsm.Done, bot.English)
	c := h.kase()
	audit, err := h.db.Audit(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	x, err := bot.ExportCase(ctx, h.db, c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if x.Case != c.ID || x.State != fsm.Done || x.Closed.IsZero() || !x.Masked {
		t.Errorf("export head = case %q, state %q, closed %v, masked %v; want case %s, done, closed, masked", x.Case, x.State, x.Closed, x.Masked, c.ID)
	}
	if len(x.Timeline) != len(audit) {
		t.Fatalf("timeline has %d events, the audit %d", len(x.Timeline), len(audit))
	}
	var transitions []bot.StateChange
	var graphSteps []string
	for i, e := range audit {
		got := x.Timeline[i]
		if !got.At.Equal(e.At) || got.Actor != e.Actor || got.Kind != e.Kind || got.From != e.From || got.To != e.To {
			t.Errorf("timeline[%d] = %+v, audit has %+v", i, got, e)
		}
		if e.Kind == "transition" {
			transitions = append(transitions, bot.StateChange{At: e.At, From: e.From, To: e.To, Event: e.Detail})
		}
		if e.Actor == "graph" {
			graphSteps = append(graphSteps, e.Kind)
		}
	}
	if len(x.States) != len(transitions) {
		t.Fatalf("states = %d changes, the audit has %d transitions", len(x.States), len(transitions))
	}
	for i := range transitions {
		if !x.States[i].At.Equal(transitions[i].At) || x.States[i].From != transitions[i].From || x.States[i].To != transitions[i].To || x.States[i].Event != transitions[i].Event {
			t.Errorf("states[%d] = %+v, want %+v", i, x.States[i], transitions[i])
		}
	}
	if last := x.States[len(x.States)-1]; last.To != fsm.Done {
		t.Errorf("the last state change goes to %q, want done", last.To)
	}
	if len(x.Graph) != len(graphSteps) {
		t.Fatalf("graph outcomes = %d, the audit has %d graph events", len(x.Graph), len(graphSteps))
	}
	for i, g := range x.Graph {
		if g.Step != graphSteps[i] || !g.OK {
			t.Errorf("graph[%d] = %+v, want step %s, ok", i, g, graphSteps[i])
		}
	}
	for _, step := range []string{"request_code", "verify_code", "register"} {
		if !strings.Contains(strings.Join(graphSteps, " "), step) {
			t.Errorf("no %s among the graph outcomes %v", step, graphSteps)
		}
	}

	masked, _ := json.Marshal(x)
	digits := func(s string) string { return strings.TrimPrefix(s, "+") }
	for what, secret := range map[string]string{"the code": otp, "the PIN": pin, "the ported number": digits(phone),
		"the client's number": client, "the national number": "11987654321"} {
		if strings.Contains(string(masked), secret) {
			t.Errorf("the masked export holds %s", what)
		}
	}
	if !strings.Contains(string(masked), bot.MaskPhone(phone)) {
		t.Errorf("the masked export does not name the number masked (%s)", bot.MaskPhone(phone))
	}
	full, err := bot.ExportCase(ctx, h.db, c.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if full.Phone != phone || full.Client != "+"+client && full.Client != client {
		t.Errorf("unmasked export: phone %q, client %q; want %s and %s", full.Phone, full.Client, phone, client)
	}
	unmasked, _ := json.Marshal(full)
	for what, secret := range map[string]string{"the code": otp, "the PIN": pin} {
		if strings.Contains(string(unmasked), secret) {
			t.Errorf("the unmasked export holds %s", what)
		}
	}
}

// TestExportShowsMetaRefusalAndAgents: a Graph step Meta refused carries
// its fbtrace_id, and what an agent did is listed with who did it.
func TestExportShowsMetaRefusalAndAgents(t *testing.T) {
	ctx := context.Background()
	h := reach(t, fsm.Failed, bot.English)
	c := h.kase()
	if err := h.bot.CancelCase(ctx, c.ID, "U0AGENT42"); err != nil {
		t.Fatal(err)
	}
	x, err := bot.ExportCase(ctx, h.db, c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var refused *bot.GraphOutcome
	for i := range x.Graph {
		if !x.Graph[i].OK {
			refused = &x.Graph[i]
		}
	}
	if refused == nil || refused.TraceID == "" || refused.TraceID != c.TraceID {
		t.Errorf("graph outcomes %+v; want a refused step with the case's fbtrace_id %q", x.Graph, c.TraceID)
	}
	if len(x.Agents) != 1 || x.Agents[0].Actor != "U0AGENT42" || x.Agents[0].Kind != "cancel" {
		t.Errorf("agents = %+v; want U0AGENT42's cancel", x.Agents)
	}
	if x.State != fsm.Cancelled {
		t.Errorf("state = %q, want cancelled", x.State)
	}
	if _, err := bot.ExportCase(ctx, h.db, "999999", false); err == nil {
		t.Error("export of a case that does not exist succeeded")
	}
}
