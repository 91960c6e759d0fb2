package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"portabot/fsm"
)

// Preflighter is what the pre-flight reads from Meta before the first call
// that cannot be taken back (adding the number with migrate_phone_number),
// and the one fix it makes itself. A Graph that lacks it gets a pre-flight
// of what portabot knows on its own: the number and its own audit.
type Preflighter interface {
	// WABA reads the destination account (GET /{WABA_ID}); an error
	// answer means it is not shared with us.
	WABA(ctx context.Context, waba string) (WABAInfo, error)
	// Subscribed reports whether our app gets the WABA's webhooks
	// (GET /{WABA_ID}/subscribed_apps): Meta refuses to migrate a number
	// into a WABA no app is subscribed to (2388103).
	Subscribed(ctx context.Context, waba string) (bool, error)
	// Subscribe subscribes our app (POST /{WABA_ID}/subscribed_apps).
	Subscribe(ctx context.Context, waba string) error
	// Templates counts the source WABA's templates, and those Meta would
	// copy: approved, of quality GREEN or UNKNOWN.
	Templates(ctx context.Context, source string) (eligible, total int, err error)
}

// WABAInfo is what the pre-flight reads of a WABA.
type WABAInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// ReviewStatus is Meta's account_review_status: APPROVED, PENDING,
	// REJECTED or DEFERRED; only APPROVED takes a number.
	ReviewStatus string `json:"account_review_status"`
	// PaymentID is primary_funding_id, which Meta leaves out when there is
	// none or when it does not show it to us: an empty one is not proof
	// that the account has no payment method.
	PaymentID string `json:"primary_funding_id"`
}

// Finding kinds, in the order of the checklist.
const (
	FindNumber        = "number"
	FindWABAShared    = "waba_shared"
	FindWABAReview    = "waba_review"
	FindWebhooks      = "webhooks"
	FindPayment       = "payment"
	FindInOurWABA     = "in_our_waba"
	FindRegistrations = "registrations"
	FindTemplates     = "templates"
)

// Who fixes a finding that stops the port.
const (
	FixUs   = "us"   // our team: the destination account is ours to set up
	FixWait = "wait" // nobody: a limit of Meta's runs out by itself
)

// Finding is one line of the pre-flight report. It is stored without
// words: the client reads it in their language, agents in English.
type Finding struct {
	Kind string
	// State says how it reads: "ok", "fixed" (we fixed it), "warn" (goes
	// on, with care) or "stop".
	State string
	// Args fill the client's line; Detail is the agents' line.
	Args   []string `json:",omitempty"`
	Detail string
	// Fix is who must act when State is "stop".
	Fix string `json:",omitempty"`
}

// Preflight is the report of the reads made before the first irreversible
// call of a port.
type Preflight struct {
	At       time.Time
	Findings []Finding
	// Stopped says the port stopped before the add; Until is when a wait
	// ends, for a stop nobody can fix.
	Stopped bool
	Until   time.Time `json:",omitzero"`
}

// Stop is the finding that stopped the port, if one did.
func (p *Preflight) Stop() (Finding, bool) {
	for _, f := range p.Findings {
		if f.State == "stop" {
			return f, true
		}
	}
	return Finding{}, false
}

// Text is the report for agents: one line a finding, the fix and who makes
// it when the port stopped. No secrets; the number masked.
func (p *Preflight) Text() string {
	var b strings.Builder
	b.WriteString("Pre-flight")
	if p.Stopped {
		b.WriteString(" (stopped before adding the number)")
	}
	b.WriteString(":")
	for _, f := range p.Findings {
		b.WriteString("\n" + findingMark(f.State) + " " + f.Detail)
		if f.State == "stop" {
			b.WriteString(" — fix: " + fixWho(f.Fix))
		}
	}
	return b.String()
}

func findingMark(state string) string {
	if state == "ok" || state == "fixed" {
		return "✅"
	}
	return "⚠️"
}

func fixWho(fix string) string {
	if fix == FixWait {
		return "nobody, wait for Meta's limit to end"
	}
	return "our team (agents)"
}

// RegisterLimit is how many registrations Meta allows a number in
// RegisterWindow.
const (
	RegisterLimit  = 10
	RegisterWindow = 72 * time.Hour
)

// preflight reads what can be read before the number is added, tells the
// client the checklist, and reports whether the port may go on. It may
// have found the number in our WABA already: then c.PhoneNumberID is set
// and no add is needed.
func (t *turn) preflight() bool {
	c := t.cas
	p := &Preflight{At: t.now}
	add := func(f Finding) { p.Findings = append(p.Findings, f) }

	add(t.numberFinding())
	if pf, ok := t.b.graph.(Preflighter); ok {
		t.wabaFindings(pf, p, add)
	}
	if c.PhoneNumberID == "" {
		if id := t.findAdded(); id != "" {
			c.PhoneNumberID = id
			t.record("preflight_found", id)
			add(Finding{Kind: FindInOurWABA, State: "ok",
				Detail: "the number is already in our WABA " + c.WABA + ": the port goes on from the verification code, without a second add"})
		}
	}
	if _, stopped := p.Stop(); !stopped {
		add(t.registrationsFinding(p))
	}
	if pf, ok := t.b.graph.(Preflighter); ok && c.SourceWABA != "" {
		if _, stopped := p.Stop(); !stopped {
			eligible, total, err := pf.Templates(t.ctx, c.SourceWABA)
			t.graphLog("preflight_templates", err)
			if err != nil {
				add(Finding{Kind: FindTemplates, State: "warn",
					Detail: "the source WABA " + c.SourceWABA + "'s templates could not be read: " + err.Error()})
			} else {
				add(Finding{Kind: FindTemplates, State: "ok", Args: []string{fmt.Sprint(eligible), fmt.Sprint(total)},
					Detail: fmt.Sprintf("%d of the source WABA's %d templates can be copied (approved, quality green or unknown)", eligible, total)})
			}
		}
	}
	_, p.Stopped = p.Stop()
	c.Preflight = p
	t.record("preflight", p.Text())
	t.notice(NoticePreflight, "Case #"+c.ID+" ("+MaskPhone(c.Phone)+") "+p.Text())
	t.sayText(t.checklist(p))
	if !p.Stopped {
		return true
	}
	t.stopBeforeAdd(p)
	return false
}

// numberFinding reads the number itself: valid where it is from, and what
// kind of line it is.
func (t *turn) numberFinding() Finding {
	c := t.cas
	p, err := ParsePhone(c.Phone, "")
	if err != nil {
		// The number was read when the client typed it; a case edited since
		// can hold anything.
		return Finding{Kind: FindNumber, State: "warn", Args: []string{c.Phone, "invalid"},
			Detail: "the number " + MaskPhone(c.Phone) + " is not valid for its country"}
	}
	kind := "mobile"
	if n, err := phonenumbers.Parse(p.E164, ""); err == nil {
		switch phonenumbers.GetNumberType(n) {
		case phonenumbers.TOLL_FREE:
			kind = "toll_free"
		case phonenumbers.FIXED_LINE:
			kind = "fixed_line"
		}
	}
	if p.NoNine {
		kind = "mobile_no_nine"
	} else if p.Region == "BR" && p.Mobile {
		kind = "mobile_nine"
	}
	label := map[string]string{"mobile": "mobile", "mobile_nine": "mobile (Brazil, with the 9th digit as typed)",
		"mobile_no_nine": "mobile (Brazil, without the 9th digit, as typed)", "fixed_line": "fixed-line", "toll_free": "toll-free"}[kind]
	switch kind {
	case "fixed_line", "toll_free":
		// SMS cannot reach it: the code comes by voice call.
		if c.Method == "" {
			c.Method = "VOICE"
		}
		return Finding{Kind: FindNumber, State: "warn", Args: []string{c.Phone, kind, p.Region},
			Detail: fmt.Sprintf("%s is a %s number in %s: no SMS, the code is to come by voice call", MaskPhone(c.Phone), label, p.Region)}
	}
	return Finding{Kind: FindNumber, State: "ok", Args: []string{c.Phone, kind, p.Region},
		Detail: fmt.Sprintf("%s is a valid %s number in %s", MaskPhone(c.Phone), label, p.Region)}
}

// wabaFindings reads the destination WABA: shared with us, approved, our
// app subscribed (subscribing it when not), a payment method.
func (t *turn) wabaFindings(pf Preflighter, p *Preflight, add func(Finding)) {
	c := t.cas
	info, err := pf.WABA(t.ctx, c.WABA)
	t.graphLog("preflight_waba", err)
	if err != nil {
		if noAnswer(err) || MeaningOf(err).Kind.Later() {
			add(Finding{Kind: FindWABAShared, State: "warn",
				Detail: "the destination WABA " + c.WABA + " could not be read now (" + err.Error() + "); the add will tell"})
			return
		}
		add(Finding{Kind: FindWABAShared, State: "stop", Fix: FixUs,
			Detail: "the destination WABA " + c.WABA + " is not shared with us: " + err.Error()})
		return
	}
	add(Finding{Kind: FindWABAShared, State: "ok", Detail: "the destination WABA " + c.WABA + " is shared with us"})
	if st := strings.ToUpper(info.ReviewStatus); st != "" && st != "APPROVED" {
		add(Finding{Kind: FindWABAReview, State: "stop", Fix: FixUs, Args: []string{st},
			Detail: "Meta's review of the destination WABA is " + st + ", not APPROVED"})
		return
	}
	if info.ReviewStatus == "" {
		add(Finding{Kind: FindWABAReview, State: "warn", Detail: "Meta did not show the destination WABA's review status"})
	} else {
		add(Finding{Kind: FindWABAReview, State: "ok", Detail: "the destination WABA is approved"})
	}
	sub, err := pf.Subscribed(t.ctx, c.WABA)
	t.graphLog("preflight_subscribed_apps", err)
	switch {
	case err == nil && sub:
		add(Finding{Kind: FindWebhooks, State: "ok", Detail: "our app is subscribed to the destination WABA's webhooks"})
	default:
		// Not subscribed, or Meta could not say: subscribing twice is
		// harmless, and the add fails without it (2388103).
		serr := pf.Subscribe(t.ctx, c.WABA)
		t.graphLog("subscribe_app", serr)
		if serr != nil {
			add(Finding{Kind: FindWebhooks, State: "stop", Fix: FixUs,
				Detail: "no app is subscribed to the destination WABA's webhooks and subscribing ours failed: " + serr.Error()})
			return
		}
		add(Finding{Kind: FindWebhooks, State: "fixed",
			Detail: "no app was subscribed to the destination WABA's webhooks: ours is now (POST subscribed_apps)"})
	}
	if info.PaymentID != "" {
		add(Finding{Kind: FindPayment, State: "ok", Detail: "the destination WABA has a payment method"})
	} else {
		add(Finding{Kind: FindPayment, State: "warn",
			Detail: "Meta shows no payment method on the destination WABA (it may not show it to us): check the line of credit"})
	}
}

// registrationsFinding counts the registrations spent on the number in
// the last 72 hours, by every case of ours that tried it: Meta blocks the
// 11th for 72 hours.
func (t *turn) registrationsFinding(p *Preflight) Finding {
	c := t.cas
	times, err := t.registrations()
	if err != nil {
		return Finding{Kind: FindRegistrations, State: "warn", Detail: "our audit could not be read: " + err.Error()}
	}
	n := len(times)
	if n >= RegisterLimit {
		until := times[n-RegisterLimit].Add(RegisterWindow)
		p.Until = until
		return Finding{Kind: FindRegistrations, State: "stop", Fix: FixWait,
			Args:   []string{fmt.Sprint(n), until.UTC().Format("2006-01-02 15:04")},
			Detail: fmt.Sprintf("%d registrations of %s in the last 72 hours (Meta allows %d): none left until %s UTC", n, MaskPhone(c.Phone), RegisterLimit, until.UTC().Format("2006-01-02 15:04"))}
	}
	state := "ok"
	if n > 0 {
		state = "warn"
	}
	return Finding{Kind: FindRegistrations, State: state, Args: []string{fmt.Sprint(n)},
		Detail: fmt.Sprintf("%d of Meta's %d registrations in 72 hours spent on the number", n, RegisterLimit)}
}

// registrations lists, oldest first, when our audit saw a register call
// for the case's number within the last 72 hours, across all its cases,
// found through the store's number index rather than by reading every case.
func (t *turn) registrations() ([]time.Time, error) {
	c := t.cas
	cases, err := t.b.store.CasesByNumber(t.ctx, c.Phone)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, k := range cases {
		if k.Phone != c.Phone || (k.RegisterCalls == 0 && k.ID != c.ID) {
			continue
		}
		evs, err := t.b.store.Audit(t.ctx, k.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if e.Actor == "graph" && e.Kind == "register" && t.now.Sub(e.At) < RegisterWindow {
				out = append(out, e.At)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out, nil
}

// checklist is the report in the client's words.
func (t *turn) checklist(p *Preflight) string {
	var b strings.Builder
	b.WriteString(render(t.lang(), msgPreflightTitle))
	for _, f := range p.Findings {
		line := t.findingLine(f)
		if line == "" {
			continue
		}
		b.WriteString("\n" + findingMark(f.State) + " " + line)
	}
	return b.String()
}

func (t *turn) findingLine(f Finding) string {
	l := t.lang()
	arg := func(i int) string {
		if i < len(f.Args) {
			return f.Args[i]
		}
		return ""
	}
	switch f.Kind {
	case FindNumber:
		switch arg(1) {
		case "invalid":
			return render(l, msgPreNumberInvalid, arg(0))
		case "fixed_line", "toll_free":
			return render(l, msgPreNumberLandline, arg(0), countryIn(arg(2), l))
		case "mobile_nine":
			return render(l, msgPreNumberNine, arg(0))
		case "mobile_no_nine":
			return render(l, msgPreNumberNoNine, arg(0))
		}
		return render(l, msgPreNumberOK, arg(0), countryIn(arg(2), l))
	case FindWABAShared:
		if f.State == "stop" {
			return render(l, msgPreWABANotShared)
		}
		if f.State == "warn" {
			return render(l, msgPreWABAUnread)
		}
		return ""
	case FindWABAReview:
		switch f.State {
		case "stop":
			return render(l, msgPreWABANotApproved)
		case "ok":
			return render(l, msgPreWABAApproved)
		}
		return ""
	case FindWebhooks:
		switch f.State {
		case "fixed":
			return render(l, msgPreWebhooksFixed)
		case "stop":
			return render(l, msgPreWebhooksStop)
		}
		return render(l, msgPreWebhooksOK)
	case FindPayment:
		// Ours to check, and nothing the client can act on: agents only.
		return ""
	case FindInOurWABA:
		return render(l, msgPreInOurWABA)
	case FindRegistrations:
		switch f.State {
		case "stop":
			return render(l, msgPreRegistrationsOut, arg(1))
		case "warn":
			return render(l, msgPreRegistrationsSome, arg(0))
		}
		return ""
	case FindTemplates:
		if f.State == "ok" {
			return render(l, msgPreTemplates, arg(0), arg(1))
		}
		return render(l, msgPreTemplatesUnread)
	}
	return ""
}

// stopBeforeAdd ends the turn before anything irreversible: our own setup
// fails the case for agents (who retry from Slack once it is fixed); a
// limit of Meta's postpones it, for the client to retry.
func (t *turn) stopBeforeAdd(p *Preflight) {
	f, _ := p.Stop()
	if f.Fix == FixWait {
		t.say(msgPreStoppedWait)
		t.fire(fsm.Postpone)
		t.say(msgRetryHint)
		return
	}
	t.fail(msgPreStoppedUs, "pre-flight stopped the port before adding the number ["+string(KindOurConfig)+"]",
		errors.New(f.Detail))
}
