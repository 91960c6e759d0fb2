package slack

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
	"portabot/fsm"
)

// subcommand is one /porta verb, as the help lists it.
type subcommand struct {
	name, args, about string
	// acts marks verbs that change a case: agents only, acknowledged at
	// once and finished in the background.
	acts bool
}

var subcommands = []subcommand{
	{name: "list", args: "[state | all] [before <case>]", about: "cases in flight, or those in one state, newest first, a page at a time"},
	{name: "show", args: "<case | +number>", about: "one case: state, next step, timeline and buttons"},
	{name: "waba", args: "<case> <waba_id>", about: "set the destination WABA; a case in await_waba goes on", acts: true},
	{name: "takeover", args: "<case>", about: "hold the conversation yourself; the bot goes quiet", acts: true},
	{name: "say", args: "<case> <text>", about: "send your text to the client on WhatsApp", acts: true},
	{name: "release", args: "<case>", about: "give the conversation back to the bot where it left off", acts: true},
	{name: "retry", args: "<case>", about: "re-run the failed Graph step, after a status check", acts: true},
	{name: "cancel", args: "<case>", about: "cancel the port", acts: true},
	{name: "forget", args: "<case | +number>", about: "erase a client and all their cases, after you confirm", acts: true},
	{name: "export", args: "<case>", about: "post the case's history as a JSON file in its thread (numbers masked)"},
	{name: "faq", args: "<question>", about: "what the bot answers a client who asks this"},
	{name: "stats", about: "cases per state, ports done today and in 7 days, their median time to done"},
	{name: "help", about: "this list"},
}

func lookup(name string) (subcommand, bool) {
	i := slices.IndexFunc(subcommands, func(s subcommand) bool { return s.name == name })
	if i < 0 {
		return subcommand{}, false
	}
	return subcommands[i], true
}

// command answers one /porta command. The reply is what Slack shows at
// once; later, when not nil, finishes an action whose outcome goes to the
// response_url. Reads answer in the reply, since they are quick and the
// reply is the only place their blocks fit without a second request.
func (a *App) command(ctx context.Context, cmd slackapi.SlashCommand) (reply *slackapi.WebhookMessage, later job) {
	name, rest := cutWord(strings.TrimSpace(cmd.Text))
	name = strings.ToLower(name)
	sub, known := lookup(name)
	switch {
	case name == "" || name == "help":
		return help(""), nil
	case !known:
		return help("I don't know `" + esc(name) + "`."), nil
	case name == "forget":
		return a.forgetAsk(ctx, rest, cmd.UserID), nil
	case sub.acts:
		return a.action(ctx, sub, rest, cmd.UserID, cmd.TriggerID)
	case name == "export":
		return a.export(sub, rest, cmd.UserID)
	}
	ctx, cancel := context.WithTimeout(ctx, a.readTimeout)
	defer cancel()
	switch name {
	case "list":
		return a.list(ctx, rest), nil
	case "show":
		return a.show(ctx, rest), nil
	case "faq":
		return a.faq(rest), nil
	case "letter":
		return a.letter(ctx, rest), nil
	default: // stats
		return a.stats(ctx), nil
	}
}

// action checks an action's arguments and the agent's right to it, and
// acknowledges it; the action itself runs later.
func (a *App) action(ctx context.Context, sub subcommand, rest, user, trigger string) (*slackapi.WebhookMessage, job) {
	first, arg := cutWord(rest)
	caseID, ok := parseCaseID(first)
	switch sub.name {
	case "waba":
		ok = ok && arg != "" && !strings.ContainsFunc(arg, unicode.IsSpace)
	case "say":
		arg = unescape(arg)
		ok = ok && arg != ""
	default:
		ok = ok && arg == ""
	}
	if !ok {
		return usage(sub), nil
	}
	if !a.mayAct(user) {
		return a.refuse(ctx, user, sub.name, caseID), nil
	}
	if a.replayed(ctx, trigger) {
		a.log.Warn("slack action replayed, ignored", "user", user, "action", sub.name, "case", caseID)
		return ephemeral("Already on it."), nil
	}
	return ephemeral("Working on it…"), func(ctx context.Context) *slackapi.WebhookMessage {
		return a.act(ctx, sub.name, caseID, arg, user)
	}
}

// act runs an agent's action on a case and says how it went. Errors from
// the bot are sentences written for the agent, so they are shown as they
// are.
func (a *App) act(ctx context.Context, name, caseID, arg, user string) *slackapi.WebhookMessage {
	var (
		err  error
		done string
		ref  = "case #" + esc(caseID)
	)
	switch name {
	case "takeover":
		err = a.deps.Handoff.TakeOver(ctx, caseID, user)
		done = "You hold " + ref + ": the bot is quiet and the client was told a person is with them. " +
			"Write to them with `/porta say " + esc(caseID) + " …`; `/porta release " + esc(caseID) + "` hands back."
	case "release":
		err = a.deps.Handoff.Release(ctx, caseID, user)
		done = "The bot has " + ref + " again, at the step it left."
	case "say":
		err = a.deps.Handoff.Say(ctx, caseID, user, arg)
		done = "Your message to the client of " + ref + " is on its way."
	case "retry":
		err = a.deps.Steps.Retry(ctx, caseID, user)
		done = "Retrying " + ref + "; `/porta show " + esc(caseID) + "` tells where it stands."
	case "cancel":
		err = a.deps.Steps.CancelCase(ctx, caseID, user)
		done = "Cancelled " + ref + "."
	case "waba":
		err = a.deps.Steps.SetWABA(ctx, caseID, arg, user)
		done = "Destination WABA of " + ref + " set to `" + esc(arg) + "`; if the client was waiting for it, the port goes on."
	default:
		return nil
	}
	if err != nil {
		a.log.Warn("slack action failed", "user", user, "action", name, "case", caseID, "error", err)
		if errors.Is(err, bot.ErrNotFound) {
			return ephemeral("There is no case #" + esc(caseID) + ".")
		}
		return ephemeral("Could not " + failedVerb[name] + " " + ref + ": " + esc(sentence(err.Error())))
	}
	a.log.Info("slack action done", "user", user, "action", name, "case", caseID)
	return ephemeral(done)
}

// failedVerb words a failed action: "Could not take over case #12: …".
var failedVerb = map[string]string{
	"takeover": "take over",
	"release":  "release",
	"say":      "send your message to the client of",
	"retry":    "retry",
	"cancel":   "cancel",
	"waba":     "set the destination WABA of",
}

// list shows a page of the open cases, of all of them, or of those in one
// state, newest first. "before <case>" asks for the page after the one that
// ended at that case; each page but the last says how to ask for the next.
func (a *App) list(ctx context.Context, arg string) *slackapi.WebhookMessage {
	sub, _ := lookup("list")
	words := strings.Fields(strings.ToLower(arg))
	which := "open"
	if len(words) > 0 && words[0] != "before" {
		which, words = words[0], words[1:]
	}
	var q bot.CaseQuery
	switch len(words) {
	case 0:
	case 2:
		id, ok := parseCaseID(words[1])
		if words[0] != "before" || !ok {
			return usage(sub)
		}
		q.Before = id
	default:
		return usage(sub)
	}
	var title string
	switch {
	case which == "open":
		q.States = openStates()
		title = "Cases in flight"
	case which == "all":
		title = "All cases"
	case fsm.Known(fsm.State(which)):
		q.States = []fsm.State{fsm.State(which)}
		title = "Cases in `" + esc(which) + "`"
	default:
		return usage(sub, "There is no state `"+esc(which)+"`. States: "+stateNames()+".")
	}
	if _, ok := caseKeyOK(q.Before); !ok {
		return ephemeral("There is no case #" + esc(q.Before) + " to list from.")
	}
	counts, err := a.deps.Cases.CaseCounts(ctx)
	if err != nil {
		return a.readFailed("count cases", err)
	}
	total := 0
	for s, n := range counts {
		if len(q.States) == 0 || slices.Contains(q.States, s) {
			total += n
		}
	}
	q.Limit = maxListed
	page, err := a.deps.Cases.ListCases(ctx, q)
	if err != nil {
		return a.readFailed("list cases", err)
	}
	more := ""
	if page.Next != "" {
		more = "/porta list " + which + " before " + page.Next
	}
	return listMessage(title, total, page.Cases, q.Before != "", more, a.now())
}

// caseKeyOK accepts an empty cursor or one a case id can be.
func caseKeyOK(id string) (string, bool) {
	if id == "" {
		return id, true
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return id, err == nil && n > 0
}

// openStates are the states of a case in flight: all but done and
// cancelled (a failed case waits for an agent's retry).
func openStates() []fsm.State {
	var open []fsm.State
	for _, s := range fsm.All() {
		if !fsm.IsFinal(s) {
			open = append(open, s)
		}
	}
	return open
}

// show finds a case by id or by phone number and renders its card.
func (a *App) show(ctx context.Context, arg string) *slackapi.WebhookMessage {
	sub, _ := lookup("show")
	arg = strings.TrimSpace(arg)
	var (
		c      bot.Case
		others []string
	)
	if strings.HasPrefix(arg, "+") {
		p, err := bot.ParsePhone(arg, "")
		if err != nil {
			return usage(sub, "I cannot read that phone number: "+esc(err.Error())+".")
		}
		// The number being ported, or the one the client writes from,
		// through the store's number index.
		found, err := a.deps.Cases.CasesByNumber(ctx, p.E164)
		if err != nil {
			return a.readFailed("find cases by number", err)
		}
		if len(found) == 0 {
			return ephemeral("No case for " + bot.MaskPhone(p.E164) + ".")
		}
		// The newest open case is the one an agent is after; the rest are
		// named so none is hidden.
		i := len(found) - 1
		for j := i; j >= 0; j-- {
			if !fsm.IsFinal(found[j].State) {
				i = j
				break
			}
		}
		c = found[i]
		for _, o := range found {
			if o.ID != c.ID {
				others = append(others, "#"+o.ID)
			}
		}
	} else {
		id, ok := parseCaseID(arg)
		if !ok {
			return usage(sub)
		}
		var err error
		c, err = a.deps.Cases.Case(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			return ephemeral("There is no case #" + esc(id) + ".")
		}
		if err != nil {
			return a.readFailed("read case", err)
		}
	}
	audit, err := a.deps.Cases.Audit(ctx, c.ID)
	if err != nil {
		return a.readFailed("read audit", err)
	}
	return caseMessage(c, audit, others)
}

// faq shows what the bot would answer a client.
func (a *App) faq(question string) *slackapi.WebhookMessage {
	question = unescape(strings.TrimSpace(question))
	if question == "" {
		sub, _ := lookup("faq")
		return usage(sub)
	}
	return faqMessage(question, a.deps.Answers.Ask(question, string(bot.English)))
}

// stats counts cases per state, from the counts the store keeps, and
// measures the ports finished in the last 7 days, from its index of closed
// cases.
func (a *App) stats(ctx context.Context) *slackapi.WebhookMessage {
	counts, err := a.deps.Cases.CaseCounts(ctx)
	if err != nil {
		return a.readFailed("count cases", err)
	}
	now := a.now()
	// Today, UTC, is within the window.
	closed, err := a.deps.Cases.CasesClosedSince(ctx, now.Add(-statsWindow))
	if err != nil {
		return a.readFailed("list closed cases", err)
	}
	return statsMessage(counts, closed, now)
}

func (a *App) readFailed(what string, err error) *slackapi.WebhookMessage {
	a.log.Error("slack read failed", "read", what, "error", err)
	if errors.Is(err, context.DeadlineExceeded) {
		return ephemeral("The case store did not answer in time; try again in a moment.")
	}
	return ephemeral("Could not read the cases just now; the error is in portabot's log.")
}

// cutWord splits off the first word of s.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// parseCaseID reads a case id as agents type it: "12" or "#12".
func parseCaseID(s string) (string, bool) {
	s = strings.TrimPrefix(s, "#")
	if s == "" || len(s) > 32 {
		return "", false
	}
	digits := true
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || r == '-' || r == '_'):
			digits = false
		default:
			return "", false
		}
	}
	if digits {
		// "#012" means case 12, as the store numbers them.
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			s = strconv.FormatUint(n, 10)
		}
	}
	return s, true
}

// unescape undoes the entities Slack puts in command text for &, < and >,
// so the client receives what the agent typed.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// sentence makes an error's text read as a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func stateNames() string {
	names := make([]string, 0, len(fsm.All()))
	for _, s := range fsm.All() {
		names = append(names, "`"+string(s)+"`")
	}
	return strings.Join(names, ", ")
}
