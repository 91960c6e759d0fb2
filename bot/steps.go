package bot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"portabot/fsm"
)

// enter does what arriving in the current state asks: a question for the
// client, or the Graph call of a transient state.
func (t *turn) enter() {
	c := t.cas
	switch st := t.conv.State; {
	case fsm.IsCheck(st):
		if c.Confirms(checkOf(st)) {
			// Confirmed before a block sent the client back: move on.
			t.goTo(fsm.Confirm)
			return
		}
		t.prompt()
	case st == fsm.Blocked:
		t.say(blockedText(c.Blocked))
		t.prompt()
	case st == fsm.AskPhone:
		if c.Phone != "" {
			// Back from a block with the number already known.
			t.afterPhone()
			return
		}
		t.say(msgChecksOK)
		t.prompt()
	case st == fsm.AwaitWABA:
		if c.WABA != "" {
			t.goTo(fsm.AddNumber)
			return
		}
		t.prompt()
	case st == fsm.AddingNumber:
		t.addNumber()
	case st == fsm.RequestingCode:
		t.requestCode()
	case st == fsm.Verifying:
		t.verify()
	case st == fsm.Registering:
		t.register()
	case st == fsm.MigratingTemplates:
		t.migrateTemplates()
	case st == fsm.Done:
		t.summary()
	case st == fsm.Cancelled:
		t.say(msgCancelled)
	case st == fsm.Handoff:
		t.say(msgHandoff)
		t.say(msgHandoffCase, c.ID)
	case st == fsm.Failed, st == fsm.AwaitCode:
		// What to say was said by the step that led here.
	default:
		t.prompt()
	}
}

func blockedText(c Check) msg {
	switch c {
	case CheckBM:
		return msgBlockedBM
	case Check2FA:
		return msgBlocked2FA
	case CheckReception:
		return msgBlockedReception
	default:
		return msgBlockedDisplayName
	}
}

// prompt asks what the current state waits for, with no side effects.
func (t *turn) prompt() {
	yesNo := []Button{t.button("yes", msgBtnYes), t.button("no", msgBtnNo)}
	c := t.cas
	switch t.conv.State {
	case fsm.New, fsm.Menu:
		first := t.button("start", msgBtnStart)
		if t.openCase() && t.conv.Back != "" && t.conv.Back != fsm.Menu {
			first = t.button("continue", msgBtnContinue)
		}
		t.ask(msgMenu, []Button{first, t.button("question", msgBtnQuestion), t.button("agent", msgBtnPerson)})
	case fsm.CheckBMAccess:
		t.ask(msgCheckBM, yesNo)
	case fsm.Check2FA:
		t.ask(msgCheck2FA, yesNo)
	case fsm.CheckReception:
		t.ask(msgCheckReception, yesNo)
	case fsm.CheckDisplayName:
		t.ask(msgCheckDisplayName, yesNo)
	case fsm.Blocked:
		if t.offersLetter() {
			t.ask(msgBlockedFooterLetter, []Button{t.button("fixed", msgBtnFixed), t.button("letter", msgBtnLetter), t.button("agent", msgBtnPerson)})
			return
		}
		t.ask(msgBlockedFooter, []Button{t.button("fixed", msgBtnFixed), t.button("agent", msgBtnPerson)})
	case fsm.AskPhone:
		if t.conv.Step == stepSourceWABA {
			t.ask(msgAskSourceWABA, []Button{t.button("skip", msgBtnSkip)})
			return
		}
		t.say(msgAskPhone)
	case fsm.AwaitWABA:
		if t.b.signupOn() {
			t.sendSignupLink()
			return
		}
		t.say(msgAwaitWABA)
	case fsm.ChooseMethod:
		t.ask(msgChooseMethod, []Button{t.button("sms", msgBtnSMS), t.button("voice", msgBtnVoice)}, c.Phone)
	case fsm.AwaitCode:
		t.ask(msgAwaitCode, []Button{t.button("resend", msgBtnResend), t.button("voice", msgBtnVoice)}, c.Phone)
	case fsm.AskPin:
		if t.conv.Step == stepPinConfirm {
			t.say(msgAskPinAgain)
			return
		}
		t.say(msgAskPin)
	case fsm.Done:
		t.say(msgCaseDone)
	case fsm.Cancelled:
		t.say(msgCaseClosedMenu)
	case fsm.Failed:
		t.say(msgFailedRetry)
	}
}

func (t *turn) graphLog(step string, err error) {
	c := t.cas
	if err == nil {
		t.audit = append(t.audit, AuditEvent{CaseID: c.ID, At: t.now, Actor: "graph", Kind: step, Detail: "ok"})
		return
	}
	t.audit = append(t.audit, AuditEvent{CaseID: c.ID, At: t.now, Actor: "graph", Kind: step, Detail: err.Error()})
	t.b.log.Warn("graph call failed", "step", step, "case", c.ID, "phone", MaskPhone(c.Phone), "kind", KindOf(err), "error", err)
}

func (t *turn) addNumber() {
	c := t.cas
	if !t.preflight() {
		return
	}
	if c.PhoneNumberID != "" {
		// The pre-flight found the number in our WABA: a second add would
		// be refused (2388012), and the port goes on from the code.
		t.goTo(fsm.NumberAdded)
		return
	}
	c.InFlight = "add_number"
	if !t.commit() {
		return
	}
	id, err := t.b.graph.AddPhoneNumber(t.ctx, c.WABA, c.CC, c.National)
	c.InFlight = ""
	t.graphLog("add_number", err)
	if err != nil && (noAnswer(err) || MeaningOf(err).Cause == CauseAlreadyOnWABA) {
		// Meta may have added it; a second add would be refused (2388012)
		// and fail the case. Or an earlier attempt did (a port cancelled
		// and started again), and Meta refuses this one: the port goes on
		// from the code. The WABA's list says.
		id = t.findAdded()
		if id != "" {
			err = nil
		}
	}
	if err != nil {
		t.graphFailed(err)
		return
	}
	c.PhoneNumberID = id
	t.say(msgAdding)
	t.goTo(fsm.NumberAdded)
}

func (t *turn) requestCode() {
	c := t.cas
	if c.Method == "" {
		c.Method = "SMS"
	}
	// Recorded before the call: after a crash the bot must know an SMS may
	// have gone out, and never send a second one blindly.
	c.InFlight = "request_code"
	if !t.commit() {
		return
	}
	err := t.b.graph.RequestCode(t.ctx, c.PhoneNumberID, c.Method, t.lang())
	c.InFlight = ""
	t.graphLog("request_code", err)
	if err != nil && noAnswer(err) {
		// The request may have reached Meta and the SMS gone out (a reset
		// or a timeout after Meta acted): asking again now could send a
		// second code. The client says whether one came.
		t.codeMaybeSent(msgCodeMaybeSent, c.Phone)
		return
	}
	if err != nil {
		t.graphFailed(err)
		return
	}
	c.CodeRequests++
	c.CodeRequestedAt = t.now
	if c.Method == "VOICE" {
		t.say(msgCodeSentVoice, c.Phone)
	} else {
		t.say(msgCodeSentSMS, c.Phone)
	}
	t.goTo(fsm.CodeSent)
}

func (t *turn) verify() {
	c := t.cas
	err := t.b.graph.VerifyCode(t.ctx, c.PhoneNumberID, t.code)
	t.code = ""
	t.graphLog("verify_code", err)
	if err == nil {
		c.WrongCodes = 0
		t.say(msgVerified)
		// A template works with us only once its copy exists, so the copy
		// starts before the number is registered (Meta:
		// templates/template-migration); what fails now is tried again
		// after registering.
		t.copyTemplates()
		t.goTo(fsm.Verified)
		return
	}
	// A lock after too many wrong codes is where the wrong codes lead:
	// the same count hands the client to an agent.
	if m := MeaningOf(err); m.Cause != CauseWrongCode && m.Cause != CauseCodeLocked {
		t.graphFailed(err)
		return
	}
	c.WrongCodes++
	if c.WrongCodes >= t.b.cfg.MaxWrongCodes {
		c.Problem = fmt.Sprintf("the client's code was refused %d times", c.WrongCodes)
		t.conv.Back = fsm.AwaitCode
		t.say(msgCodeTooManyWrong)
		if t.fire(fsm.Agent) {
			t.say(msgHandoffCase, c.ID)
		}
		return
	}
	t.ask(msgCodeWrong, []Button{t.button("resend", msgBtnResend), t.button("voice", msgBtnVoice)}, triesLeft(t.b.cfg.MaxWrongCodes-c.WrongCodes, t.lang()))
	t.goTo(fsm.CodeRejected)
}

func (t *turn) register() {
	c := t.cas
	// Meta allows 10 registrations in 72 hours: the attempt is on record
	// before it is made, so no crash can make the bot loop on it.
	c.InFlight = "register"
	c.RegisterCalls++
	if !t.commit() {
		return
	}
	err := t.b.graph.Register(t.ctx, c.PhoneNumberID, t.pin)
	t.pin = ""
	c.InFlight = ""
	t.graphLog("register", err)
	if err != nil && noAnswer(err) {
		// Meta may have registered the number; its status says, and a
		// registered number needs no second try against the 10 allowed.
		if pn, perr := t.b.graph.PhoneNumber(t.ctx, c.PhoneNumberID); perr == nil && pn.Status == "CONNECTED" {
			err = nil
		}
	}
	if err != nil {
		t.graphFailed(err)
		return
	}
	t.say(msgRegistered)
	t.goTo(fsm.Registered)
}

func (t *turn) migrateTemplates() {
	c := t.cas
	t.copyTemplates()
	if pn, err := t.b.graph.PhoneNumber(t.ctx, c.PhoneNumberID); err == nil {
		c.Kept = &Kept{DisplayName: pn.VerifiedName, QualityRating: pn.QualityRating,
			MessagingLimit: string(pn.MessagingLimit), OfficialBusiness: pn.OfficialBusiness}
	} else {
		t.graphLog("phone_status", err)
	}
	t.goTo(fsm.TemplatesMigrated)
}

// copyTemplates copies the source WABA's templates into the destination,
// once, when the client gave the source WABA.
func (t *turn) copyTemplates() {
	c := t.cas
	if c.SourceWABA == "" || c.Templates != nil {
		return
	}
	res, err := t.b.graph.MigrateTemplates(t.ctx, c.WABA, c.SourceWABA)
	t.graphLog("migrate_templates", err)
	if err != nil {
		// Meta copies high-quality templates by itself, so a failed manual
		// copy is for agents to retry; the port goes on.
		c.Problem = "template copy failed: " + err.Error()
		return
	}
	c.Templates = &res
}

// findAdded returns the id of the case's number in its destination WABA,
// or "" when it is not there (or Meta cannot say now).
func (t *turn) findAdded() string {
	c := t.cas
	nums, err := t.b.graph.PhoneNumbers(t.ctx, c.WABA)
	if err != nil {
		t.graphLog("phone_numbers", err)
		return ""
	}
	for _, n := range nums {
		if Digits(n.DisplayPhoneNumber) == c.CC+c.National {
			return n.ID
		}
	}
	return ""
}

// summary tells the client what the port kept and which templates failed.
func (t *turn) summary() {
	c := t.cas
	k := c.Kept
	if k == nil {
		k = &Kept{}
	}
	unknown := render(t.lang(), msgDoneUnchanged)
	orUnknown := func(s string) string {
		if s == "" {
			return unknown
		}
		return s
	}
	badge := render(t.lang(), [2]msg{msgDoneNo, msgDoneYes}[boolInt(k.OfficialBusiness)])
	var b strings.Builder
	b.WriteString(render(t.lang(), msgDone, c.Phone, orUnknown(k.DisplayName),
		orUnknown(keptWords(qualityWords, k.QualityRating, t.lang())), orUnknown(keptWords(limitWords, k.MessagingLimit, t.lang())), badge))
	b.WriteString("\n")
	if c.Templates != nil {
		b.WriteString(render(t.lang(), msgDoneTemplates, len(c.Templates.Migrated)))
		if len(c.Templates.Failed) > 0 {
			ids := make([]string, 0, len(c.Templates.Failed))
			for id := range c.Templates.Failed {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			b.WriteString("\n\n" + render(t.lang(), msgDoneTemplatesFailed))
			for _, id := range ids {
				fmt.Fprintf(&b, "\n• %s: %s", id, c.Templates.Failed[id])
			}
		}
	} else {
		b.WriteString(render(t.lang(), msgDoneNoSource))
	}
	t.sayText(b.String())
	t.say(msgDoneFooter)
}

// graphFailed tells the client what a failed Graph call means and moves the
// conversation where it can go on from. What an error means is read from
// metaErrors; here is only what the conversation does about it.
func (t *turn) graphFailed(err error) {
	c := t.cas
	var ge *GraphError
	if errors.As(err, &ge) && ge.TraceID != "" {
		c.TraceID = ge.TraceID
	}
	m := MeaningOf(err)
	if m.Cause == CauseMaybeVerified && t.conv.State == fsm.RequestingCode {
		// 136024 is only "Request code error" (Meta: request_code
		// reference): the number's own status says whether it is verified.
		if pn, perr := t.b.graph.PhoneNumber(t.ctx, c.PhoneNumberID); perr == nil && pn.CodeVerificationStatus == "VERIFIED" {
			t.goTo(fsm.Verified)
			return
		}
		m = Meaning{KindRetryLater, CauseUnavailable, "request_code refused (136024) and the number is not verified"}
	}
	ev, moves := causeEvent[m.Cause]
	if !moves && m.Kind.Later() {
		ev, moves = fsm.Postpone, true
	}
	// Meta can answer any step with any error; one that means something
	// only at another step (a PIN error on a code request) must not strand
	// the case in a transient state: it fails, for agents to look at.
	if moves && !t.can(ev) {
		moves = false
	}
	if moves {
		switch ev {
		case fsm.Block:
			if m.Cause == CauseTwoFA {
				t.say(msgTwoFAStillOn)
				t.blockOn(Check2FA, fsm.Check2FA)
			} else {
				t.say(msgDisplayNamePending)
				t.blockOn(CheckDisplayName, fsm.CheckDisplayName)
			}
		case fsm.PinRejected:
			t.say(msgPinRejected)
			t.goTo(fsm.PinRejected)
		case fsm.Postpone:
			if ge != nil && ge.RetryAfter > 0 {
				t.say(msgRetryLaterIn, humanWait(ge.RetryAfter, t.lang()))
			} else {
				t.say(msgRetryLater)
			}
			if t.conv.State == fsm.AddingNumber {
				// Back at ask_phone the known number would be added again at
				// once; the client says when, with *retry*.
				t.fire(fsm.Postpone)
			} else {
				t.goTo(fsm.Postpone)
			}
			t.say(msgRetryHint)
		}
		return
	}
	say, ok := causeText[m.Cause]
	if !ok {
		say = msgFailed
	}
	t.fail(say, m.Agents+" ["+string(m.Kind)+"]", err)
}

// causeEvent is where a cause moves the conversation instead of failing
// it; causes not listed fail the case (or postpone it when their kind is
// worth a later try), and every transient state allows both.
var causeEvent = map[Cause]fsm.Event{
	CauseTwoFA:       fsm.Block,
	CauseDisplayName: fsm.Block,
	CauseWrongPIN:    fsm.PinRejected,
}

// causeText is what the client hears when a cause fails the case; others
// hear msgFailed. Our own setup problems are told as ours, without Meta's
// details the client can do nothing about.
var causeText = map[Cause]msg{
	CauseAlreadyOnWABA:   msgAlreadyOnWABA,
	CauseNoWebhooks:      msgNoWebhooks,
	CauseNoPayment:       msgNoWebhooks,
	CauseWABANotApproved: msgNoWebhooks,
	CauseOtherPortfolio:  msgOtherPortfolio,
	CauseMessagingFor:    msgMessagingFor,
	CauseAddDirectly:     msgAddDirectly,
	CauseSourceNotSetUp:  msgSourceNotSetUp,
	CauseRegisterLimit:   msgRegisterLimit,
}

// can reports whether ev applies in the conversation's current state.
func (t *turn) can(ev fsm.Event) bool {
	f, err := fsm.Restore(t.conv.State, t.conv.Back)
	return err == nil && f.Can(ev)
}

// blockOn sends the client back to a prerequisite Meta says is not met.
func (t *turn) blockOn(ch Check, check fsm.State) {
	c := t.cas
	c.Confirmed = dropCheck(c.Confirmed, ch)
	c.Blocked = ch
	t.conv.Back = check
	t.goTo(fsm.Block)
}

func (t *turn) fail(m msg, problem string, err error) {
	c := t.cas
	c.Problem = problem + ": " + err.Error()
	t.conv.Back = t.conv.State
	t.say(m)
	t.fire(fsm.Fail)
}

func humanWait(d time.Duration, l Lang) string {
	if d < time.Minute {
		n := max(int(d.Seconds()+0.5), 1)
		if n == 1 {
			return render(l, msgWaitSecond)
		}
		return render(l, msgWaitSeconds, n)
	}
	n := int(d.Minutes() + 0.5)
	if n == 1 {
		return render(l, msgWaitMinute)
	}
	return render(l, msgWaitMinutes, n)
}

// noAnswer reports whether a Graph call failed without an answer from Meta
// (a timeout, a reset, a refused connection): unlike a refusal, it may have
// been done.
func noAnswer(err error) bool {
	_, answered := errors.AsType[*GraphError](err)
	return errors.Is(err, ErrUnavailable) && !answered
}

// codeMaybeSent settles a code request whose outcome is unknown. A number
// Meta reports verified needs no code. Otherwise the code may be on its way:
// it is counted, the resend cool-down starts, and the client says whether it
// came (m, with args, tells them so): a second request_code is sent only
// when the client asks for one.
func (t *turn) codeMaybeSent(m msg, args ...any) {
	c := t.cas
	if c.PhoneNumberID != "" {
		if pn, err := t.b.graph.PhoneNumber(t.ctx, c.PhoneNumberID); err == nil && pn.CodeVerificationStatus == "VERIFIED" {
			t.goTo(fsm.Verified)
			return
		}
	}
	c.CodeRequests++
	c.CodeRequestedAt = t.now
	if t.fire(fsm.CodeSent) {
		t.ask(m, []Button{t.button("resend", msgBtnResend), t.button("voice", msgBtnVoice)}, args...)
	}
}

// recover resumes a step a stopped process left in flight. Steps that must
// not run twice are settled by asking Meta where the number stands.
func (t *turn) recover() {
	c := t.cas
	if c == nil {
		t.conv.State = fsm.Menu
		return
	}
	t.record("recovered", string(t.conv.State))
	switch t.conv.State {
	case fsm.AddingNumber:
		// Meta refuses a second add (2388012) rather than doubling it; if
		// the stopped process got that far, the number is in the WABA's
		// list and its id is read from there.
		if id := t.findAdded(); id != "" {
			c.InFlight = ""
			c.PhoneNumberID = id
			t.say(msgAdding)
			t.goTo(fsm.NumberAdded)
			return
		}
		t.addNumber()
	case fsm.RequestingCode:
		c.InFlight = ""
		t.codeMaybeSent(msgResumeAfterCrashCode)
	case fsm.Verifying:
		t.say(msgVerifyAgain)
		t.fire(fsm.Postpone)
	case fsm.Registering:
		pn, err := t.b.graph.PhoneNumber(t.ctx, c.PhoneNumberID)
		if err != nil {
			t.graphLog("phone_status", err)
			t.say(msgRetryLater)
			return
		}
		c.InFlight = ""
		if pn.Status == "CONNECTED" {
			t.say(msgRegistered)
			t.goTo(fsm.Registered)
			return
		}
		t.say(msgResumeAfterCrashPin)
		if t.fire(fsm.Postpone) {
			t.prompt()
		}
	case fsm.MigratingTemplates:
		t.migrateTemplates()
	}
}
