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
	{name: "list", args: "[state | all]", about: "cases in flight, or those in one state"},
	{name: "show", args: "<case | +number>", about: "one case: state, next step, timeline and buttons"},
	{name: "waba", args: "<case> <waba_id>", about: "set the destination WABA; a case in await_waba goes on", acts: true},
	{name: "takeover", args: "<case>", about: "hold the conversation yourself; the bot goes quiet", acts: true},
	{name: "say", args: "<case> <text>", about: "send your text to the client on WhatsApp", acts: true},
	{name: "release", args: "<case>", about: "give the conversation back to the bot where it left off", acts: true},
	{name: "retry", args: "<case>", about: "re-run the failed Graph step, after a status check", acts: true},
	{name: "cancel", args: "<case>", about: "cancel the port", acts: true},
	{name: "export", args: "<case>", about: "post the case's history as a JSON file in its thread (numbers masked)"},
	{name: "faq", args: "<question>", about: "what the bot answers a client who asks this"},
	{name: "stats", about: "cases per state, ports done today and in 7 days, median time to done"},
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

// list shows open cases, all of them, or those in one state.
func (a *App) list(ctx context.Context, arg string) *slackapi.WebhookMessage {
	arg = strings.ToLower(strings.TrimSpace(arg))
	keep := func(c bot.Case) bool { return !fsm.IsFinal(c.State) }
	title := "Cases in flight"
	switch {
	case arg == "" || arg == "open":
	case arg == "all":
		keep = func(bot.Case) bool { return true }
		title = "All cases"
	case fsm.Known(fsm.State(arg)):
		keep = func(c bot.Case) bool { return c.State == fsm.State(arg) }
		title = "Cases in `" + esc(arg) + "`"
	default:
		sub, _ := lookup("list")
		return usage(sub, "There is no state `"+esc(arg)+"`. States: "+stateNames()+".")
	}
	all, err := a.deps.Cases.Cases(ctx)
	if err != nil {
		return a.readFailed("list cases", err)
	}
	var cases []bot.Case
	for _, c := range slices.Backward(all) { // newest first
		if keep(c) {
			cases = append(cases, c)
		}
	}
	return listMessage(title, cases, a.now())
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
		all, err := a.deps.Cases.Cases(ctx)
		if err != nil {
			return a.readFailed("list cases", err)
		}
		var found []bot.Case
		for _, c := range all {
			// The number being ported, or the one the client writes from.
			if c.Phone == p.E164 || "+"+c.ClientPhone == p.E164 ||
				(c.Phone == "" && "+"+strings.TrimPrefix(c.Client, "+") == p.E164) {
				found = append(found, c)
			}
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

// stats counts cases per state and measures finished ports.
func (a *App) stats(ctx context.Context) *slackapi.WebhookMessage {
	all, err := a.deps.Cases.Cases(ctx)
	if err != nil {
		return a.readFailed("list cases", err)
	}
	return statsMessage(all, a.now())
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
	names := make([]string, 0, len(fsm.All))
	for _, s := range fsm.All {
		names = append(names, "`"+string(s)+"`")
	}
	return strings.Join(names, ", ")
}
