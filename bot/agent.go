package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"portabot/fsm"
)

// Errors of agent actions; their text is shown to the agent as is.
var (
	ErrNotInHandoff = errors.New("the case is not held by an agent")
	ErrNotFailed    = errors.New("the case has not failed; nothing to retry")
	ErrClosed       = errors.New("the case is already closed")
	ErrNotWaiting   = errors.New("the case is not waiting for a destination WABA")
	ErrEmptyText    = errors.New("nothing to send")
)

// notice queues a notice about the turn's case.
func (t *turn) notice(kind NoticeKind, text string) {
	if !t.b.cfg.Notify || t.cas == nil {
		return
	}
	t.notices = append(t.notices, Notice{CaseID: t.cas.ID, Kind: kind, Text: text, Created: t.now,
		NextAttempt: t.now, State: OutboundPending})
}

// noticeFor tells agents about the transitions that need them.
func (t *turn) noticeFor(from, to fsm.State) {
	c := t.cas
	who := "Case #" + c.ID
	if c.Phone != "" {
		who += " (" + MaskPhone(c.Phone) + ")"
	}
	switch to {
	case fsm.Blocked:
		t.notice(NoticeBlocked, fmt.Sprintf("%s is blocked: %s.", who, blockedReason(c.Blocked)))
	case fsm.AwaitWABA:
		if t.b.signupOn() {
			t.notice(NoticeAwaitWABA, fmt.Sprintf("%s: the client got the Embedded Signup link to share their WABA (or /porta waba %s <waba_id>).", who, c.ID))
			break
		}
		t.notice(NoticeAwaitWABA, fmt.Sprintf("%s needs its destination WABA: /porta waba %s <waba_id>", who, c.ID))
	case fsm.Handoff:
		if from == fsm.Verifying {
			t.notice(NoticeWrongCodes, fmt.Sprintf("%s: the code was refused %d times; the client waits for a person.", who, c.WrongCodes))
		} else if c.Agent == "" {
			t.notice(NoticeAgentAsked, fmt.Sprintf("%s asks for a person (was at %s).", who, t.conv.Back))
		}
	case fsm.Failed:
		msg := fmt.Sprintf("%s failed at %s: %s", who, from, c.Problem)
		if c.TraceID != "" && !strings.Contains(msg, c.TraceID) {
			msg += " (fbtrace_id " + c.TraceID + ")"
		}
		t.notice(NoticeFailed, msg+". /porta retry "+c.ID+" when fixed.")
	case fsm.Done:
		t.notice(NoticeDone, who+" is done: the number is ours.")
	case fsm.Cancelled:
		t.notice(NoticeCancelled, who+" was cancelled.")
	}
}

func blockedReason(c Check) string {
	switch c {
	case CheckBM:
		return "no admin access to the Business Manager"
	case Check2FA:
		return "two-step verification is on"
	case CheckReception:
		return "the number cannot receive the SMS or voice call"
	case CheckDisplayName:
		return "display name not approved (the origin BSP must act)"
	}
	return "a prerequisite is not met"
}

// hideCodes masks what in a client's message may be a one-time code or a
// PIN before the text goes to agents' channel: runs of 4 to 8 digits, and
// groups of digits split by a few separators of any kind ("246 810",
// "2-4-6-8-1-0", "2, 4, 6", "24_68_10", digits on lines of their own) that
// hold 4 to 8 digits in all. Digits of any script count (full-width "２４６").
func hideCodes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		end, digits := digitGroup(s, i)
		group := s[i:end]
		if digits >= 4 && digits <= 8 {
			b.WriteString(maskDigits(group))
		} else {
			b.WriteString(maskRuns(group))
		}
		i = end
	}
	return b.String()
}

// digitGroup returns where the group of digits starting at i ends, and how
// many digits it holds: digits, and single separators between digits.
func digitGroup(s string, i int) (end, digits int) {
	for j := i; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		switch {
		case unicode.IsDigit(r):
			digits++
			j += size
			end = j
			continue
		case isCodeSeparator(r):
			// Separators count only between two digits, and only a few
			// of them: "2, 4 / 6" is one spelling, a paragraph between
			// two numbers is not.
			k, n := j, 0
			for k < len(s) && n < maxCodeSeparators {
				sr, ssize := utf8.DecodeRuneInString(s[k:])
				if !isCodeSeparator(sr) {
					break
				}
				k += ssize
				n++
			}
			if next, _ := utf8.DecodeRuneInString(s[k:]); unicode.IsDigit(next) {
				j = k
				continue
			}
		}
		break
	}
	return end, digits
}

// maxCodeSeparators is how many separator characters may stand between two
// digits of one spelled-out code (", " and " - " take three).
const maxCodeSeparators = 3

// isCodeSeparator reports a character people put between the digits of a
// code: spaces and line breaks, punctuation, symbols.
func isCodeSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// maskDigits replaces every digit of s.
func maskDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return '•'
		}
		return r
	}, s)
}

// maskRuns replaces the runs of 4 to 8 digits of s, a group too long to be
// a code as a whole (a phone number) that may still hold one.
func maskRuns(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j, n := i, 0
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsDigit(r) {
				break
			}
			j += size
			n++
		}
		switch {
		case j == i:
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+size])
			i += size
		case n >= 4 && n <= 8:
			b.WriteString(strings.Repeat("•", n))
			i = j
		default:
			b.WriteString(s[i:j])
			i = j
		}
	}
	return b.String()
}

// agentAct runs an agent's action on the conversation of a case, under the
// client's lock, and stores what it did unless it refused.
func (b *Bot) agentAct(ctx context.Context, caseID string, act func(t *turn) error) error {
	c, err := b.store.Case(ctx, caseID)
	if err != nil {
		return err
	}
	unlock := b.lock(c.Client)
	defer unlock()
	t, err := b.load(ctx, c.Client)
	if err != nil {
		return err
	}
	if t.cas == nil || t.cas.ID != caseID {
		// The client has moved on to a newer case; act on this one alone.
		t.cas = &c
		t.businessContext()
	}
	if err := act(t); err != nil {
		return err
	}
	t.commit()
	return t.err
}

func (t *turn) agentRecord(agent, kind, detail string) {
	t.audit = append(t.audit, AuditEvent{CaseID: t.cas.ID, At: t.now, Actor: agent, Kind: kind, Detail: detail})
}

// TakeOver hands a case's conversation to an agent: the bot goes quiet
// and the client is told a person is with them.
func (b *Bot) TakeOver(ctx context.Context, caseID, agent string) error {
	return b.agentAct(ctx, caseID, func(t *turn) error {
		if fsm.IsFinal(t.cas.State) {
			return ErrClosed
		}
		t.cas.Agent = agent
		t.agentRecord(agent, "takeover", "")
		if t.conv.State != fsm.Handoff {
			t.prepareHandoff()
			t.fire(fsm.Agent)
		}
		t.say(msgAgentJoined)
		return nil
	})
}

// Release gives a case's conversation back to the bot at the step it left.
func (b *Bot) Release(ctx context.Context, caseID, agent string) error {
	return b.agentAct(ctx, caseID, func(t *turn) error {
		if t.conv.CaseID != caseID || t.conv.State != fsm.Handoff {
			// A case the client has moved on from is not the one in handoff.
			return ErrNotInHandoff
		}
		t.cas.Agent = ""
		t.cas.WrongCodes = 0
		t.agentRecord(agent, "release", string(t.conv.Back))
		if t.conv.Back == "" {
			t.conv.Back = fsm.Menu
		}
		t.say(msgAgentLeft)
		if t.fire(fsm.Release) {
			t.prompt()
		}
		return nil
	})
}

// Say sends an agent's text to the client as is.
func (b *Bot) Say(ctx context.Context, caseID, agent, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return ErrEmptyText
	}
	return b.agentAct(ctx, caseID, func(t *turn) error {
		t.agentRecord(agent, "say", fmt.Sprintf("%d characters", len([]rune(text))))
		t.sayText(text)
		return nil
	})
}

// Retry re-runs the Graph step a failed case stopped at. Steps that must
// not run twice start from a status check, as after a crash.
func (b *Bot) Retry(ctx context.Context, caseID, agent string) error {
	return b.agentAct(ctx, caseID, func(t *turn) error {
		if t.conv.CaseID != caseID || t.conv.State != fsm.Failed {
			return ErrNotFailed
		}
		if !fsm.IsTransient(t.conv.Back) {
			// A trip to a person hands the case back to failed itself; the
			// step that failed is in the case's history.
			st, err := b.failedStep(ctx, caseID)
			if err != nil {
				return err
			}
			t.conv.Back = st
		}
		t.agentRecord(agent, "retry", string(t.conv.Back))
		t.cas.Problem, t.cas.TraceID = "", ""
		if !t.fire(fsm.Retry) {
			return fmt.Errorf("bot: cannot retry from %s", t.conv.Back)
		}
		switch t.conv.State {
		case fsm.RequestingCode, fsm.Registering, fsm.AddingNumber:
			t.recover()
		case fsm.Verifying:
			t.fire(fsm.Postpone)
			t.say(msgVerifyAgain)
		default:
			t.enter()
		}
		return nil
	})
}

// failedStep reads from a case's history the Graph step it last failed at.
func (b *Bot) failedStep(ctx context.Context, caseID string) (fsm.State, error) {
	events, err := b.store.Audit(ctx, caseID)
	if err != nil {
		return "", fmt.Errorf("bot: retry: %w", err)
	}
	for i := len(events) - 1; i >= 0; i-- {
		if e := events[i]; e.Kind == "transition" && e.To == fsm.Failed && fsm.IsTransient(e.From) {
			return e.From, nil
		}
	}
	return "", fmt.Errorf("bot: retry: case %s has no failed step on record", caseID)
}

// CancelCase cancels a case for the client.
func (b *Bot) CancelCase(ctx context.Context, caseID, agent string) error {
	return b.agentAct(ctx, caseID, func(t *turn) error {
		if fsm.IsFinal(t.cas.State) {
			return ErrClosed
		}
		t.agentRecord(agent, "cancel", "")
		if t.conv.CaseID == caseID {
			if fsm.IsTransient(t.conv.State) || t.conv.State == fsm.Menu {
				t.conv.State = fsm.Failed
			}
			t.conv.Step, t.conv.PinHash = "", ""
			t.goTo(fsm.Cancel)
		} else {
			t.cas.State, t.cas.Closed = fsm.Cancelled, t.now
		}
		return nil
	})
}

// SetWABA sets the destination WABA of a case and, when the client was
// waiting for it, goes on with the port.
func (b *Bot) SetWABA(ctx context.Context, caseID, waba, agent string) error {
	if !AllDigits(waba, 1, 32) {
		return fmt.Errorf("a WABA id is digits only, not %q", waba)
	}
	return b.agentAct(ctx, caseID, func(t *turn) error {
		if fsm.IsFinal(t.cas.State) {
			return ErrClosed
		}
		t.cas.WABA = waba
		t.agentRecord(agent, "waba_set", waba)
		t.businessContext()
		if t.conv.CaseID == caseID && t.conv.State == fsm.AwaitWABA {
			t.goTo(fsm.AddNumber)
		}
		return nil
	})
}
