package bot

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"portabot/faq"
	"portabot/fsm"
)

// Steps inside a state (Conversation.Step).
const (
	stepSourceWABA = "source_waba"
	stepPinConfirm = "pin_confirm"
)

// choiceWords maps the ids of the bot's buttons to the words they stand for.
var choiceWords = map[string]word{
	"start": wordStart, "continue": wordStart, "yes": wordYes, "no": wordNo, "fixed": wordFixed,
	"sms": wordSMS, "voice": wordVoice, "resend": wordResend, "skip": wordSkip, "agent": wordAgent,
	"menu": wordMenu, "cancel": wordCancel, "retry": wordRetry,
}

// dispatch handles the inbound message of the turn.
func (t *turn) dispatch() {
	in := t.in
	if t.cas != nil && in.Text != "" {
		t.record("client_message", "")
	}
	if t.conv.State == fsm.Handoff && t.b.cfg.NoAgents && (t.cas == nil || t.cas.Agent == "") {
		// Nobody can answer here (three wrong codes hand the client over
		// even so): the bot takes the conversation back at its step.
		if t.fire(fsm.Release) {
			t.say(msgNoAgentHere)
		}
	}
	if t.conv.State == fsm.Handoff {
		if t.leaveHandoff(in) {
			return
		}
		// An agent holds the conversation: the bot says nothing at all,
		// and the agents see what the client wrote (codes hidden).
		what := hideCodes(strings.TrimSpace(in.Text))
		if in.Unsupported != "" {
			what = "[" + in.Unsupported + "]"
		}
		if r := []rune(what); len(r) > 2000 {
			what = string(r[:2000]) + "…"
		}
		t.notice(NoticeClientMessage, "Client: "+what)
		return
	}
	text := strings.TrimSpace(in.Text)
	truncated := false
	if utf8.RuneCountInString(text) > maxText {
		text = string([]rune(text)[:maxText])
		truncated = true
	}
	if t.conv.State == fsm.New {
		t.greet(text)
		if in.Unsupported != "" || text == "" || in.Choice != "" {
			return
		}
	}
	if in.Unsupported != "" {
		// One line, and the question stays where it was: the client can
		// still answer it, and a photo sent by mistake costs nothing. A
		// client at rest gets no menu they did not ask for.
		t.say(msgTextOnly)
		if !t.atRest() {
			t.prompt()
		}
		return
	}
	if text == "" && in.Choice == "" {
		t.say(msgEmpty)
		t.prompt()
		return
	}

	if in.Choice != "" {
		choice, stale := t.choice(in.Choice)
		if stale {
			t.record("stale_button", choice)
			t.say(msgStaleButton)
			t.prompt()
			return
		}
		in.Choice = choice
		t.in.Choice = choice
	}
	w := wordNone
	switch {
	case in.Choice == TemplateButton:
		// The client answered the template that re-opened their window:
		// the replies that waited answer them. With none waiting, the
		// question they came back to is asked again.
		if !t.held || t.reask {
			t.prompt()
		}
		return
	case strings.HasPrefix(in.Choice, "lang:"):
		if l, ok := ParseLang(strings.TrimPrefix(in.Choice, "lang:")); ok {
			t.setLang(l)
			return
		}
	case strings.HasPrefix(in.Choice, "phone:") && t.conv.State == fsm.AskPhone:
		t.onPhone(wordNone, strings.TrimPrefix(in.Choice, "phone:"))
		return
	case strings.HasPrefix(in.Choice, "faq:"):
		t.answerIntent(strings.TrimPrefix(in.Choice, "faq:"))
		return
	case in.Choice == "question":
		t.say(msgAskQuestion)
		return
	case in.Choice != "":
		w = choiceWords[in.Choice]
	default:
		if strings.TrimSpace(text) == "👍" {
			w = wordYes
		} else {
			w = wordOf(text)
		}
		if w == wordNone && wantsPerson(text) {
			w = wordAgent
		}
		if w == wordNone {
			switch id := t.numbered(text); id {
			case "":
			case "question":
				t.say(msgAskQuestion)
				return
			default:
				w = choiceWords[id]
			}
		}
		t.followLanguage(text)
		if truncated {
			// Said once the language is settled: a long first message in
			// Portuguese gets the note in Portuguese.
			t.say(msgTooLong)
		}
		if w == wordNone && t.atRest() && wantsPort(text) {
			w = wordStart
		}
		if l, ok := langWord(text); ok {
			t.setLang(l)
			return
		}
	}
	if t.held && !t.reask {
		switch w {
		case wordYes, wordGreeting, wordThanks, wordStart, wordWhatNow:
			// Back after the window closed with an "ok" or a "hi": the
			// replies that waited say what happened and ask what is next.
			return
		}
	}
	if t.global(w) {
		return
	}
	if t.state(w, text) {
		return
	}
	if in.Choice != "" {
		t.say(msgStaleButton)
		t.prompt()
		return
	}
	t.fallback(text)
}

// questionTag names what the conversation waits for: the state, and the step
// inside it. Every button carries the tag of the question it was sent with
// ("yes@check_2fa"), so a tap on an older message's button is told apart
// from an answer to the current question: Meta's context.id names the
// message tapped, but the id Meta gives a message is known only once it is
// sent, long after the turn that wrote it, and a reply cut in parts has
// its buttons on the last.
func (t *turn) questionTag() string {
	if t.conv.Step != "" {
		return string(t.conv.State) + "." + t.conv.Step
	}
	return string(t.conv.State)
}

// tagButtons gives the buttons of replies the tag of the question the
// conversation now waits for.
func (t *turn) tagButtons(replies []Reply) {
	tag := "@" + t.questionTag()
	for i := range replies {
		for j, b := range replies[i].Buttons {
			if !strings.Contains(b.ID, "@") {
				replies[i].Buttons[j].ID = b.ID + tag
			}
		}
	}
}

// choice reads a tapped button's id: the choice, and whether it belongs to
// an earlier question. Asking for a person, the menu, a language or a
// topic is never stale; nor is an id without a tag (a template's button, or
// a message sent before tags).
func (t *turn) choice(id string) (string, bool) {
	choice, tag, tagged := strings.Cut(id, "@")
	if !tagged || tag == t.questionTag() {
		return choice, false
	}
	switch {
	case choice == "agent", choice == "menu", choice == "cancel", choice == "question",
		strings.HasPrefix(choice, "lang:"), strings.HasPrefix(choice, "faq:"):
		return choice, false
	}
	return choice, true
}

// followLanguage moves to the language a client writes a sentence in, until
// they choose one: "hi" followed by questions in Portuguese is a
// Portuguese speaker, who should not get prompts in English and answers in
// Portuguese. A word or two ("ok", "sim") says too little to switch on.
func (t *turn) followLanguage(text string) {
	// A first message's language was read by greet already.
	if t.first || t.conv.LangChosen || len(strings.Fields(text)) < 3 {
		return
	}
	l, ok := faq.DetectLang(text)
	if !ok {
		return
	}
	if pl, ok := ParseLang(l); ok && pl != t.conv.Lang {
		t.conv.Lang = pl
		if t.cas != nil {
			t.cas.Lang = pl
		}
	}
}

// greet welcomes a first-time client in the language of their message.
func (t *turn) greet(text string) {
	if l, ok := faq.DetectLang(text); ok && !t.conv.LangChosen {
		if pl, ok := ParseLang(l); ok {
			t.conv.Lang = pl
		}
	}
	t.first = true
	t.fire(fsm.Greet)
	t.say(msgWelcome)
	if text == "" || t.in.Unsupported != "" || t.in.Choice != "" {
		t.prompt()
	}
}

// global handles the words that work in every state.
func (t *turn) global(w word) bool {
	switch w {
	case wordMenu:
		t.toMenu()
	case wordCancel:
		if !t.openCase() {
			if t.cas != nil && t.cas.State == fsm.Cancelled {
				t.say(msgCaseClosedMenu)
			} else {
				t.say(msgNothingToCancel)
			}
			t.toMenu()
			return true
		}
		t.conv.Step, t.conv.PinHash = "", ""
		if t.conv.State == fsm.Menu {
			// The case waits where it was; cancel it there.
			t.conv.State = t.cas.State
		}
		t.goTo(fsm.Cancel)
	case wordAgent:
		t.handoff()
	case wordLanguage:
		t.ask(msgChooseLang, []Button{
			{ID: "lang:en", Title: "English"}, {ID: "lang:pt", Title: "Português"}, {ID: "lang:es", Title: "Español"},
		})
	case wordHelp:
		t.say(msgHelp)
		t.prompt()
	case wordGreeting:
		if !t.first {
			t.say(msgGreetingBack)
		}
		t.status()
	case wordWhatNow:
		t.status()
	case wordBye:
		// The conversation stays where it is: a goodbye is not a cancel.
		if t.openCase() {
			t.say(msgByePort)
		} else {
			t.say(msgBye)
		}
	case wordThanks:
		t.say(msgThanks)
	case wordAbout:
		// Clients have a right to know they are talking to software, and
		// how to reach a person.
		t.say(msgAbout)
		t.remind()
	default:
		return false
	}
	return true
}

// atRest reports whether the conversation waits for the client to choose
// what to do, where a request in their own words can start a port.
func (t *turn) atRest() bool {
	switch t.conv.State {
	case fsm.Menu, fsm.Done, fsm.Cancelled:
		return true
	}
	return false
}

func (t *turn) toMenu() {
	st := t.conv.State
	if st == fsm.Menu {
		t.prompt()
		return
	}
	if t.openCase() && st != fsm.New {
		t.conv.Back = st
	} else {
		t.conv.Back = ""
	}
	t.conv.Step, t.conv.PinHash = "", ""
	t.goTo(fsm.ToMenu)
}

// handoff hands the conversation to a person. A client without a port
// under way still gets a case, so agents have something to pick up.
func (t *turn) handoff() {
	if t.b.cfg.NoAgents {
		t.say(msgNoAgentHere)
		t.prompt()
		return
	}
	if !t.openCase() {
		// A finished port is handed over from the menu: done and cancelled
		// are final, the new case starts where new cases do.
		t.conv.State = fsm.Menu
		if !t.newCase() {
			return
		}
	}
	t.prepareHandoff()
	t.goTo(fsm.Agent)
}

// prepareHandoff sets where an agent's release will hand the client back,
// and shows agents the step the port is at rather than the menu.
func (t *turn) prepareHandoff() {
	st := t.conv.State
	switch {
	case st == fsm.Menu && t.conv.Back != "":
		// Agents hand back to the port's step, not to the menu.
	case st == fsm.Menu || st == fsm.New:
		t.conv.Back = fsm.Menu
	case fsm.IsTransient(st):
		t.conv.Back = fsm.AwaitCode
	default:
		t.conv.Back = st
	}
	if st == fsm.Menu && t.cas.State != "" && !fsm.IsFinal(t.cas.State) {
		t.conv.State = t.cas.State
	}
	t.conv.Step, t.conv.PinHash = "", ""
}

func (t *turn) setLang(l Lang) {
	t.conv.Lang = l
	t.conv.LangChosen = true
	if t.cas != nil {
		t.cas.Lang = l
	}
	t.say(msgLangSet)
	t.prompt()
}

// state handles w or text as the current state expects; false means the
// input did not fit.
func (t *turn) state(w word, text string) bool {
	switch st := t.conv.State; {
	case st == fsm.Menu:
		if w == wordNone && t.answersBack(text) && t.fire(fsm.Resume) {
			// The code or PIN typed after a trip to the menu: the port
			// picks up at its step with it.
			return t.state(wordNone, text)
		}
		switch w {
		case wordStart:
			t.start()
			return true
		case wordYes:
			// An "ok" after an answer: the client is ready for what comes
			// next, so show the choices rather than not understanding.
			t.prompt()
			return true
		}
	case fsm.IsCheck(st):
		if w == wordNone {
			// "it's still on", "ainda está em análise", "yes it's
			// on": the state, said instead of or after a yes or no, is
			// the answer.
			w = stateAnswer(checkOf(st), text)
		}
		if w == wordNone {
			w = leadingAnswer(text)
		}
		if w == wordNone && len(text) <= 200 && (!strings.Contains(text, "?") || startsUnsure(text)) && saysUnsure(fold(text)) {
			// "hmm not sure what 2fa is tbh": how to find out, not a
			// block nor "answer with the buttons".
			w = wordUnsure
		}
		if w == wordFixed {
			// "pronto", "listo", "ya está": done what the check asks.
			w = wordYes
		}
		switch w {
		case wordUnsure:
			t.say(unsureText(checkOf(st)))
			t.prompt()
			return true
		case wordYes:
			t.cas.Confirmed = appendCheck(t.cas.Confirmed, checkOf(st))
			t.goTo(fsm.Confirm)
			return true
		case wordNo:
			t.cas.Blocked = checkOf(st)
			t.conv.Back = st
			t.goTo(fsm.Deny)
			return true
		}
	case st == fsm.Blocked:
		if t.conv.Step == stepLetterPhone && t.onLetterPhone(text) {
			return true
		}
		if t.offersLetter() && (t.in.Choice == "letter" || t.numbered(text) == "letter" || asksLetter(text)) {
			t.sendLetter()
			return true
		}
		said := wordNone
		if w == wordNone && t.cas != nil {
			// "I turned it off", "ya está aprobado": the block is gone;
			// "still on": it is not.
			said = stateAnswer(t.cas.Blocked, text)
			w = said
		}
		if w == wordNone {
			w = leadingAnswer(text)
		}
		switch w {
		case wordFixed, wordYes:
			t.conv.Step = ""
			// The case, not Back, knows the check: a trip to the menu or to
			// an agent moves Back to the blocked state itself.
			t.conv.Back = stateOf(t.cas.Blocked)
			if said == wordYes {
				// The client said the check now holds: it is not asked
				// again.
				t.cas.Confirmed = appendCheck(t.cas.Confirmed, t.cas.Blocked)
			}
			t.cas.Blocked = ""
			t.goTo(fsm.Fixed)
			return true
		case wordNo:
			t.say(msgNotFixedYet)
			return true
		}
	case st == fsm.AskPhone:
		return t.onPhone(w, text)
	case st == fsm.AwaitWABA:
		if t.cas.WABA != "" {
			t.goTo(fsm.AddNumber)
			return true
		}
		if t.b.signupOn() && t.onAwaitSignup(text) {
			return true
		}
	case st == fsm.ChooseMethod:
		if w == wordNone {
			w = wordAmong(text, wordSMS, wordVoice)
		}
		switch w {
		case wordSMS, wordRetry:
			t.cas.Method = "SMS"
			t.goTo(fsm.RequestCode)
			return true
		case wordVoice:
			t.cas.Method = "VOICE"
			t.goTo(fsm.RequestCode)
			return true
		}
	case st == fsm.AwaitCode:
		return t.onCode(w, text)
	case st == fsm.AskPin:
		return t.onPin(text)
	case st == fsm.Done, st == fsm.Cancelled:
		if w == wordStart {
			t.toMenu()
			t.start()
			return true
		}
	}
	return false
}

// answersBack reports whether text, typed at the menu, is what the step the
// port was left at waits for: six digits for the code or the PIN.
func (t *turn) answersBack(text string) bool {
	if !t.openCase() || (t.conv.Back != fsm.AwaitCode && t.conv.Back != fsm.AskPin) {
		return false
	}
	return len(text) <= 12 && len(Digits(text)) == 6 && strings.Trim(text, "0123456789 -") == ""
}

func checkOf(s fsm.State) Check {
	switch s {
	case fsm.CheckBMAccess:
		return CheckBM
	case fsm.Check2FA:
		return Check2FA
	case fsm.CheckReception:
		return CheckReception
	default:
		return CheckDisplayName
	}
}

// stateOf is the state that asks check c; the first check when c is unset.
func stateOf(c Check) fsm.State {
	switch c {
	case Check2FA:
		return fsm.Check2FA
	case CheckReception:
		return fsm.CheckReception
	case CheckDisplayName:
		return fsm.CheckDisplayName
	default:
		return fsm.CheckBMAccess
	}
}

func appendCheck(cs []Check, c Check) []Check {
	for _, x := range cs {
		if x == c {
			return cs
		}
	}
	return append(cs, c)
}

func dropCheck(cs []Check, c Check) []Check {
	var out []Check
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

// start begins a port, or continues the one under way.
func (t *turn) start() {
	if t.openCase() && t.conv.Back != "" && t.conv.Back != fsm.Menu {
		if !t.fire(fsm.Resume) {
			return
		}
		if st := t.conv.State; st == fsm.AwaitCode || st == fsm.Failed {
			// Arriving there says nothing (the step that led there spoke);
			// a client coming back from the menu needs the question again.
			t.prompt()
			return
		}
		t.enter()
		return
	}
	if !t.newCase() {
		return
	}
	t.goTo(fsm.Start)
}

func (t *turn) onPhone(w word, text string) bool {
	c := t.cas
	if n, ok := numberIn(text); ok {
		text = n
	}
	if t.conv.Step == stepSourceWABA {
		switch {
		case w == wordSkip || w == wordUnsure:
			t.afterPhone()
			return true
		case isWABAID(text):
			c.SourceWABA = Digits(text)
			t.afterPhone()
			return true
		}
	}
	if w == wordRetry && c.Phone != "" {
		t.afterPhone()
		return true
	}
	p, err := ParsePhone(text, t.b.cfg.Region)
	switch {
	case err == nil:
		if alt, ok := t.otherReading(text, p); ok {
			// Two countries read the digits: the client says which.
			t.ask(msgPhoneWhich, []Button{
				{ID: "phone:" + alt.E164, Title: alt.E164},
				{ID: "phone:" + p.E164, Title: p.E164},
			}, countryName(alt.Region, t.lang()), alt.E164, countryName(p.Region, t.lang()), p.E164)
			return true
		}
		warned := strings.HasPrefix(c.Phone, "+55")
		c.Phone, c.CC, c.National = p.E164, p.CC, p.National
		t.record("phone_set", MaskPhone(p.E164))
		t.say(msgPhoneOK, p.E164)
		if p.Region == "BR" && p.Mobile && !warned {
			// Once: a client who sends the number again as the profile
			// shows it, with or without the 9, has read it.
			t.say(msgBrazilNine)
		}
		if !p.Mobile && p.Region == t.b.cfg.Region && !strings.HasPrefix(text, "+") {
			// Read as a local landline: a foreign number typed without its
			// country code reads that way too, and must not be ported.
			t.say(msgPhoneReadLocal, countryIn(p.Region, t.lang()))
		}
		t.conv.Step = stepSourceWABA
		t.ask(msgAskSourceWABA, []Button{t.button("skip", msgBtnSkip)})
		return true
	case strings.IndexFunc(text, unicode.IsLetter) >= 0:
		return false // a question, most likely
	case t.conv.Step != stepSourceWABA && len(t.langReadings(text)) > 0:
		// Not a number here, but one in a country of the client's
		// language: asked, never assumed.
		alts := t.langReadings(text)
		if len(alts) == 1 {
			t.ask(msgPhoneDidYouMean, []Button{{ID: "phone:" + alts[0].E164, Title: alts[0].E164}},
				countryName(alts[0].Region, t.lang()), alts[0].E164)
			return true
		}
		t.ask(msgPhoneWhich, []Button{
			{ID: "phone:" + alts[0].E164, Title: alts[0].E164},
			{ID: "phone:" + alts[1].E164, Title: alts[1].E164},
		}, countryName(alts[0].Region, t.lang()), alts[0].E164, countryName(alts[1].Region, t.lang()), alts[1].E164)
		return true
	case err == ErrPhoneNeedsCode:
		t.say(msgPhoneNeedsCode, countryWithArticle(t.b.cfg.Region, t.lang()))
		return true
	case t.conv.Step == stepSourceWABA:
		t.say(msgSourceWABAInvalid)
		return true
	default:
		t.say(msgPhoneInvalid)
		return true
	}
}

// langRegions are the countries whose numbers a client writing in a
// language most likely types without a country code, besides the
// deployment's own region.
var langRegions = map[Lang][]string{English: {"US"}, Spanish: {"MX", "CO", "AR", "CL", "PE", "ES"}}

// langReadings are the valid readings of digits typed without a country
// code in the countries of the client's language, one per number.
func (t *turn) langReadings(text string) []Phone {
	if strings.HasPrefix(strings.TrimSpace(text), "+") {
		return nil
	}
	var out []Phone
	for _, region := range langRegions[t.lang()] {
		p, ok := parseIn(text, region)
		if !ok && region == "MX" {
			// Mexican mobiles dialled with the old "044"/"045" or "1".
			d := Digits(text)
			switch {
			case len(d) == 13 && (strings.HasPrefix(d, "044") || strings.HasPrefix(d, "045")):
				p, ok = parseIn(d[3:], region)
			case len(d) == 11 && strings.HasPrefix(d, "1"):
				p, ok = parseIn(d[1:], region)
			}
		}
		if ok && !slices.ContainsFunc(out, func(q Phone) bool { return q.E164 == p.E164 }) {
			out = append(out, p)
		}
	}
	return out
}

// otherReading returns another country's reading of a number typed without
// a country code, when the client's language makes that country likely and
// the digits are valid there too: "415 555 2671" in an English chat of a
// Brazilian BSP is a US number as much as a Brazilian landline.
func (t *turn) otherReading(text string, p Phone) (Phone, bool) {
	for _, alt := range t.langReadings(text) {
		if alt.E164 != p.E164 {
			return alt, true
		}
	}
	return Phone{}, false
}

// isWABAID reports digits long enough to be an account id and too long to
// be a phone number.
func isWABAID(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 14 && len(s) <= 20 && AllDigits(s, 1, 32)
}

// afterPhone moves on once the number (and optionally the source account)
// is known.
func (t *turn) afterPhone() {
	t.conv.Step = ""
	if t.cas.WABA == "" {
		t.cas.WABA = t.b.cfg.DestWABA
	}
	if t.cas.WABA == "" {
		t.goTo(fsm.NeedWABA)
		return
	}
	t.goTo(fsm.AddNumber)
}

func (t *turn) onCode(w word, text string) bool {
	c := t.cas
	if w == wordNone {
		// "call me instead", "send it again please": a method named
		// decides, else a plain request for another code.
		if w = wordAmong(text, wordSMS, wordVoice); w == wordNone {
			w = wordAmong(text, wordResend)
		}
	}
	code, letters := sixDigits(text)
	if letters {
		if found, ok := codeIn(text); ok {
			code, letters = found, false
		}
	}
	switch {
	case code != "":
		t.code = code
		t.goTo(fsm.Verify)
		return true
	case w == wordResend || w == wordRetry:
		t.resend(c.Method)
		return true
	case w == wordVoice:
		t.resend("VOICE")
		return true
	case w == wordSMS:
		t.resend("SMS")
		return true
	case strings.IndexFunc(text, unicode.IsDigit) >= 0:
		if letters {
			t.say(msgCodeLetters)
		} else {
			t.say(msgCodeFormat)
		}
		return true
	}
	return false
}

// resend asks Meta for a new code unless the last one is too recent.
func (t *turn) resend(method string) {
	c := t.cas
	wait := c.CodeRequestedAt.Add(t.b.cfg.ResendCooldown).Sub(t.now)
	if wait > 0 {
		t.say(msgCooldown, int((wait+time.Second-1)/time.Second))
		return
	}
	if method == "" {
		method = "SMS"
	}
	c.Method = method
	t.goTo(fsm.RequestCode)
}

func (t *turn) onPin(text string) bool {
	pin, letters := sixDigits(text)
	if letters {
		if found, ok := codeIn(text); ok {
			pin, letters = found, false
		}
	}
	if pin == "" {
		if letters && strings.IndexFunc(text, unicode.IsDigit) < 0 {
			return false // words: a question or a command
		}
		t.say(msgPinFormat)
		return true
	}
	if t.conv.Step == stepPinConfirm {
		ok := pinMatches(t.conv.PinHash, pin)
		t.conv.Step, t.conv.PinHash = "", ""
		if !ok {
			t.say(msgPinMismatch)
			return true
		}
		t.pin = pin
		t.goTo(fsm.Register)
		return true
	}
	if weakPIN(pin) {
		t.say(msgPinWeak)
		return true
	}
	h, err := hashPIN(pin)
	if err != nil {
		t.err = err
		return true
	}
	t.conv.PinHash = h
	t.conv.Step = stepPinConfirm
	t.say(msgAskPinAgain)
	return true
}

// fallback answers what fits no state: a question for the FAQ, else advice
// on what the state expects.
func (t *turn) fallback(text string) {
	if t.answer(text) {
		return
	}
	switch st := t.conv.State; {
	case fsm.IsCheck(st):
		t.say(msgYesNo)
		t.prompt()
	case st == fsm.Blocked:
		t.prompt()
	case st == fsm.AwaitWABA && t.b.signupOn():
		t.say(msgSignupWaiting)
	case st == fsm.AwaitWABA:
		t.say(msgAwaitWABA)
	case st == fsm.AskPhone && t.conv.Step == "":
		t.say(msgPhoneInvalid)
	case st == fsm.AwaitCode:
		t.say(msgCodeFormat)
		t.prompt()
	case st == fsm.AskPin:
		t.say(msgPinFormat)
	case t.first:
		t.prompt()
	default:
		t.notUnderstood()
	}
}

// answer replies from the FAQ and reminds the client where they were.
// false means the FAQ had no confident answer.
func (t *turn) answer(text string) bool {
	if t.b.faq == nil {
		return false
	}
	// A message with two questions gets the first answered and the
	// other in res.Also.
	res := t.b.faq.Ask(text, string(t.lang()))
	if res.Intent == "" || res.Intent == faq.None {
		// Offered in the conversation's language, like the rest of the
		// reply, whatever language the question was read in.
		t.lastTopics = t.lastTopics[:0]
		for _, tp := range res.Closest {
			if local, ok := t.b.faq.Topic(tp.Intent, string(t.lang())); ok {
				tp = local
			}
			t.lastTopics = append(t.lastTopics, tp)
		}
		return false
	}
	answer := res.Answer
	if a, ok := t.b.faq.Answer(res.Intent, string(t.lang())); ok {
		// A client who chose a language gets it even when a question
		// reads like another one; followLanguage has moved the others.
		answer = a
	}
	t.conv.Misses = 0
	t.record("faq", res.Intent)
	t.answered = append(t.answered, res.Intent)
	t.sayText(answer)
	// The message's other question, if it had one, is a tap away.
	for _, other := range res.Also[:min(len(res.Also), 1)] {
		if tp, ok := t.b.faq.Topic(other.Intent, string(t.lang())); ok {
			t.ask(msgAlsoAsked, []Button{{ID: "faq:" + tp.Intent, Title: tp.Title}})
		}
	}
	t.remind()
	return true
}

func (t *turn) answerIntent(intent string) {
	if t.b.faq == nil {
		t.prompt()
		return
	}
	a, ok := t.b.faq.Answer(intent, string(t.lang()))
	if !ok {
		t.say(msgStaleButton)
		t.prompt()
		return
	}
	t.conv.Misses = 0
	t.record("faq", intent)
	t.answered = append(t.answered, intent)
	t.sayText(a)
	t.remind()
}

// remind re-asks the current step after an answer, so a question never
// costs the client their place.
func (t *turn) remind() {
	switch t.conv.State {
	case fsm.Menu, fsm.New, fsm.Done, fsm.Cancelled, fsm.Failed:
		if t.first {
			t.prompt()
		}
		return
	}
	t.say(msgBackTo)
	t.prompt()
}

// notUnderstood offers the closest topics, and a person first after two
// misses in a row.
func (t *turn) notUnderstood() {
	t.conv.Misses++
	t.answered = append(t.answered, NotUnderstood)
	var buttons []Button
	person := t.button("agent", msgBtnPerson)
	if t.conv.Misses >= 2 {
		buttons = append(buttons, person)
	}
	for _, tp := range t.lastTopics {
		if len(buttons) >= 3+boolInt(t.conv.Misses >= 2) {
			break
		}
		buttons = append(buttons, Button{ID: "faq:" + tp.Intent, Title: tp.Title})
	}
	if t.conv.Misses < 2 {
		buttons = append(buttons, person)
	}
	m := msgNotUnderstood
	if t.conv.Misses >= 2 {
		m = msgNotUnderstoodPerson
	}
	t.ask(m, buttons)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
