package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"portabot/fsm"
)

// CaseExport is a case's history as it is handed to a ticket (`portabot
// export`, `/porta export`): what the case is, every event of its audit in
// order, and three views of them: its states, its Graph calls with Meta's
// fbtrace_id, and what agents did. It holds no secret (the code and the PIN
// never reach the audit) and, unless exported unmasked, no full number: the
// client's and the ported number are masked wherever they appear.
type CaseExport struct {
	Case          string    `json:"case"`
	State         fsm.State `json:"state"`
	Client        string    `json:"client"`
	Phone         string    `json:"phone,omitempty"`
	WABA          string    `json:"waba,omitempty"`
	SourceWABA    string    `json:"source_waba,omitempty"`
	Method        string    `json:"method,omitempty"`
	Lang          Lang      `json:"lang,omitempty"`
	Agent         string    `json:"agent,omitempty"`
	CodeRequests  int       `json:"code_requests"`
	RegisterCalls int       `json:"register_calls"`
	Problem       string    `json:"problem,omitempty"`
	TraceID       string    `json:"fbtrace_id,omitempty"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	Closed        time.Time `json:"closed,omitzero"`
	Masked        bool      `json:"masked"`

	// States are the case's transitions, oldest first.
	States []StateChange `json:"states"`
	// Timeline is every audit event, oldest first.
	Timeline []ExportEvent `json:"timeline"`
	// Graph is the outcome of every Graph call the case made.
	Graph []GraphOutcome `json:"graph"`
	// Agents is what agents did on the case, refusals included.
	Agents []ExportEvent `json:"agents"`
}

// StateChange is one transition of a case.
type StateChange struct {
	At    time.Time `json:"at"`
	From  fsm.State `json:"from"`
	To    fsm.State `json:"to"`
	Event string    `json:"event"`
}

// ExportEvent is one audit event.
type ExportEvent struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Kind    string    `json:"kind"`
	From    fsm.State `json:"from,omitempty"`
	To      fsm.State `json:"to,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	TraceID string    `json:"fbtrace_id,omitempty"`
}

// GraphOutcome is one Graph call: its step, whether Meta took it, and
// Meta's words and fbtrace_id when it did not.
type GraphOutcome struct {
	At      time.Time `json:"at"`
	Step    string    `json:"step"`
	OK      bool      `json:"ok"`
	Detail  string    `json:"detail,omitempty"`
	TraceID string    `json:"fbtrace_id,omitempty"`
}

// botActors are the actors of the audit who are not people acting on the
// case from Slack.
var botActors = map[string]bool{"client": true, "bot": true, "graph": true}

// traceIDIn finds Meta's fbtrace_id in a Graph error's text.
var traceIDIn = regexp.MustCompile(`fbtrace_id[ :=]+([A-Za-z0-9_\-]+)`)

// CaseHistory reads a case and its audit: Store does, and so does what
// the agents' adapter reads cases through.
type CaseHistory interface {
	Case(ctx context.Context, id string) (Case, error)
	Audit(ctx context.Context, caseID string) ([]AuditEvent, error)
}

// ExportCase reads the case id and its audit from st. Unless unmasked, the
// client's number and the ported number are masked in every field.
func ExportCase(ctx context.Context, st CaseHistory, id string, unmasked bool) (CaseExport, error) {
	c, err := st.Case(ctx, id)
	if err != nil {
		return CaseExport{}, err
	}
	events, err := st.Audit(ctx, id)
	if err != nil {
		return CaseExport{}, fmt.Errorf("bot: export case %s: %w", id, err)
	}
	mask := numberMasker(c, unmasked)
	x := CaseExport{Case: c.ID, State: c.State, Client: c.Who(), Phone: mask(c.Phone), WABA: c.WABA, SourceWABA: c.SourceWABA,
		Method: c.Method, Lang: c.Lang, Agent: c.Agent, CodeRequests: c.CodeRequests, RegisterCalls: c.RegisterCalls,
		Problem: mask(c.Problem), TraceID: c.TraceID, Created: c.Created, Updated: c.Updated, Closed: c.Closed, Masked: !unmasked,
		States: []StateChange{}, Timeline: []ExportEvent{}, Graph: []GraphOutcome{}, Agents: []ExportEvent{}}
	if unmasked {
		switch {
		case c.ClientPhone != "":
			x.Client = c.ClientPhone
		case c.Username == "":
			x.Client = c.Client
		}
	}
	for _, e := range events {
		ev := ExportEvent{At: e.At, Actor: e.Actor, Kind: e.Kind, From: e.From, To: e.To, Detail: mask(e.Detail)}
		if m := traceIDIn.FindStringSubmatch(e.Detail); m != nil {
			ev.TraceID = m[1]
		}
		x.Timeline = append(x.Timeline, ev)
		switch {
		case e.Kind == "transition":
			x.States = append(x.States, StateChange{At: e.At, From: e.From, To: e.To, Event: e.Detail})
		case e.Actor == "graph":
			x.Graph = append(x.Graph, GraphOutcome{At: e.At, Step: e.Kind, OK: e.Detail == "ok", Detail: ev.Detail, TraceID: ev.TraceID})
		case !botActors[e.Actor]:
			x.Agents = append(x.Agents, ev)
		}
	}
	return x, nil
}

// numberMasker returns a function that masks, in a text, every spelling the
// case knows of the client's number and of the ported number.
func numberMasker(c Case, unmasked bool) func(string) string {
	if unmasked {
		return func(s string) string { return s }
	}
	var pairs []string
	for _, n := range []string{c.Phone, c.ClientPhone, c.Client, c.National} {
		digits := strings.TrimPrefix(n, "+")
		if len(digits) < 6 || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		masked := MaskPhone(digits)
		// The longer spellings first, so that "+55…" is not left with
		// its "+" before a masked rest.
		pairs = append(pairs, "+"+digits, masked, digits, masked)
	}
	r := strings.NewReplacer(pairs...)
	return func(s string) string {
		if s == "" {
			return s
		}
		return r.Replace(s)
	}
}
