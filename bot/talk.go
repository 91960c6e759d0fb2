package bot

import (
	"strconv"
	"strings"

	"portabot/fsm"
)

// The small talk, doubts and requests a client makes in their own words, in
// any state: they are answered with where the port stands, never with "I
// didn't understand".

// unsureText tells a client who does not know the answer to check c how to
// find out.
func unsureText(c Check) msg {
	switch c {
	case CheckBM:
		return msgUnsureBM
	case Check2FA:
		return msgUnsure2FA
	case CheckReception:
		return msgUnsureReception
	default:
		return msgUnsureDisplayName
	}
}

// status tells the client where the port stands and what comes next: the
// question of the current step, and for a blocked port what blocks it.
func (t *turn) status() {
	if t.conv.State == fsm.Blocked && t.cas != nil {
		t.say(blockedText(t.cas.Blocked))
	}
	t.prompt()
}

// leaveHandoff answers what a client waiting for an agent (none has taken
// the case yet) still needs from the bot: "menu" gives them the bot back (the agents see it in the case's
// thread), a greeting, "help" or "what now?" gets told a person will answer
// and how to come back. It reports whether it handled the message.
func (t *turn) leaveHandoff(in Inbound) bool {
	if in.Choice != "" || in.Unsupported != "" || (t.cas != nil && t.cas.Agent != "") {
		// Once an agent holds the case, the bot stays out of their way.
		return false
	}
	switch wordOf(strings.TrimSpace(in.Text)) {
	case wordMenu:
		t.notice(NoticeAgent, "The client went back to the bot (they wrote menu); the case is no longer waiting for a person.")
		t.record("handoff_left", "client")
		if t.cas != nil {
			t.cas.Agent = ""
		}
		if !t.fire(fsm.Release) {
			return false
		}
		t.say(msgHandoffLeft)
		t.toMenu()
		return true
	case wordGreeting, wordHelp, wordWhatNow:
		t.notice(NoticeClientMessage, "Client: "+hideCodes(strings.TrimSpace(in.Text)))
		t.say(msgHandoffWaiting)
		return true
	}
	return false
}

// numbered reads a bare "1", "2" or "3" typed where the bot shows buttons as
// the button in that place: clients number the choices they see, and a
// terminal session restarted on the same store no longer knows the buttons
// it printed. It returns the button's id; where digits mean something (a
// number, a code, a PIN) it reads nothing.
func (t *turn) numbered(text string) string {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || n < 1 || n > 3 || len(strings.TrimSpace(text)) != 1 {
		return ""
	}
	switch st := t.conv.State; {
	case st == fsm.Menu, fsm.IsCheck(st), st == fsm.Blocked, st == fsm.ChooseMethod:
	default:
		return ""
	}
	// The buttons the current question shows, asked for on the side.
	saved, queued := t.replies, t.queued
	t.replies, t.queued = nil, 0
	t.prompt()
	asked := t.replies
	t.replies, t.queued = saved, queued
	var buttons []Button
	for _, r := range asked {
		if len(r.Buttons) > 0 {
			buttons = r.Buttons
		}
	}
	if n > len(buttons) {
		return ""
	}
	return buttons[n-1].ID
}
