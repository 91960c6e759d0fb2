package slack

import (
	"testing"
	"time"

	"portabot/bot"
	"portabot/fsm"
)

// `/porta letter` gives agents the message the client was offered for their
// current provider, with the number masked as everywhere in Slack.
func TestLetterCommand(t *testing.T) {
	f := newFixture(t, nil)
	f.cases.cases = append(f.cases.cases,
		bot.Case{ID: "15", Client: "5511987654321", Phone: fullPhone, State: fsm.Blocked, Blocked: bot.CheckDisplayName,
			Lang: bot.Spanish, Created: testNow, Updated: testNow})
	m, _ := f.run(t, agentUser, "letter 15")
	all := blocksJSON(t, m)
	has(t, "letter", all, "Para nuestro proveedor actual", "nombre para mostrar", bot.MaskPhone(fullPhone),
		"— English —", "complete the approval of the display name")
	hasNot(t, "letter", all, fullPhone, "5511987654321")

	// Case 13 is blocked on two-step verification, but the client never gave
	// the number; case 9 is done: neither has a message to show.
	m, _ = f.run(t, agentUser, "letter 13")
	has(t, "letter 13", m.Text, "No message for case #13", "has not given the number")
	m, _ = f.run(t, agentUser, "letter 9")
	has(t, "letter 9", m.Text, "No message for case #9", "not waiting for its current provider")
	m, _ = f.run(t, agentUser, "letter 99")
	has(t, "letter 99", m.Text, "There is no case #99")
	m, _ = f.run(t, agentUser, "letter")
	has(t, "letter", m.Text, "Usage: `/porta letter &lt;case&gt;`")
	m, _ = f.run(t, agentUser, "help")
	has(t, "help", m.Text, "/porta letter")
	f.noResponse(t)
}

// The case card shows the pre-flight's report, masked, and says when it
// stopped the port.
func TestCardShowsPreflight(t *testing.T) {
	f := newFixture(t, nil)
	f.cases.cases = append(f.cases.cases, bot.Case{ID: "16", Client: "5511987654321", Phone: fullPhone, State: fsm.Failed,
		WABA: "100200300400902", Created: testNow, Updated: testNow,
		Preflight: &bot.Preflight{At: testNow.Add(-time.Minute), Stopped: true, Findings: []bot.Finding{
			{Kind: bot.FindNumber, State: "ok", Detail: bot.MaskPhone(fullPhone) + " is a valid mobile number in BR"},
			{Kind: bot.FindWABAReview, State: "stop", Fix: bot.FixUs, Detail: "Meta's review of the destination WABA is PENDING, not APPROVED"},
		}}})
	m, _ := f.run(t, agentUser, "show 16")
	all := blocksJSON(t, m)
	has(t, "card", all, "Pre-flight", "stopped before adding the number", "✅", "⚠️ Meta's review of the destination WABA is PENDING")
	hasNot(t, "card", all, fullPhone)
}
