package slack

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
)

// Slack's limits on what one message may hold; past them it refuses the
// whole message.
const (
	maxSectionText = 3000
	maxBlocks      = 50
	maxListed      = 40
	timelineLen    = 15
)

// Action ids of the case card's buttons; the value is the case id.
const (
	actionTakeOver = "porta_takeover"
	actionRelease  = "porta_release"
	actionRetry    = "porta_retry"
	actionCancel   = "porta_cancel"
)

func ephemeral(text string) *slackapi.WebhookMessage {
	return &slackapi.WebhookMessage{ResponseType: slackapi.ResponseTypeEphemeral, Text: text}
}

func withBlocks(text string, blocks ...slackapi.Block) *slackapi.WebhookMessage {
	m := ephemeral(text)
	m.Blocks = &slackapi.Blocks{BlockSet: blocks}
	return m
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

func plain(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
}

func section(s string) *slackapi.SectionBlock {
	return slackapi.NewSectionBlock(mrkdwn(truncate(s, maxSectionText)), nil, nil)
}

// help lists the subcommands, after note when there is one.
func help(note string) *slackapi.WebhookMessage {
	var b strings.Builder
	if note != "" {
		b.WriteString(note + "\n")
	}
	b.WriteString("*/porta* steers number ports. A case is `12` or `#12`.\n")
	for _, s := range subcommands {
		fmt.Fprintf(&b, "• %s — %s\n", synopsis(s), s.about)
	}
	return ephemeral(strings.TrimSuffix(b.String(), "\n"))
}

// usage explains one subcommand to an agent who typed it wrong.
func usage(s subcommand, why ...string) *slackapi.WebhookMessage {
	text := "Usage: " + synopsis(s) + " — " + s.about + ".\n`/porta help` lists every command."
	if len(why) > 0 {
		text = why[0] + "\n" + text
	}
	return ephemeral(text)
}

func synopsis(s subcommand) string {
	return "`" + esc(strings.TrimSpace("/porta "+s.name+" "+s.args)) + "`"
}

// listMessage renders one line per case, newest first.
// listMessage is one page of a list of total cases; more, when not empty,
// is the command that shows the next page.
func listMessage(title string, total int, cases []bot.Case, later bool, more string, now time.Time) *slackapi.WebhookMessage {
	if len(cases) == 0 {
		if later {
			return ephemeral(title + ": no more.")
		}
		return ephemeral(title + ": none.")
	}
	head := fmt.Sprintf("*%s* (%d)", title, total)
	if later || more != "" {
		head += fmt.Sprintf(", newest first: #%s to #%s", cases[0].ID, cases[len(cases)-1].ID)
	}
	blocks := []slackapi.Block{section(head)}
	var chunk strings.Builder
	for _, c := range cases {
		line := caseLine(c, now) + "\n"
		if chunk.Len()+len(line) > maxSectionText-100 {
			blocks = append(blocks, section(chunk.String()))
			chunk.Reset()
		}
		chunk.WriteString(line)
	}
	if more != "" {
		fmt.Fprintf(&chunk, "More: `%s`\n", more)
	}
	blocks = append(blocks, section(chunk.String()))
	return withBlocks(fmt.Sprintf("%s (%d)", title, total), blocks...)
}

func caseLine(c bot.Case, now time.Time) string {
	parts := []string{"`#" + esc(c.ID) + "`", "`" + esc(string(c.State)) + "`", phoneOf(c)}
	if c.Agent != "" {
		parts = append(parts, "held by "+mention(c.Agent))
	}
	if c.State == fsm.Blocked && c.Blocked != "" {
		parts = append(parts, blockedReason(c.Blocked))
	}
	if !c.Held.IsZero() {
		parts = append(parts, "waits on the client's 24-hour window since "+ago(now.Sub(c.Held))+" ago")
	}
	if !c.Updated.IsZero() {
		parts = append(parts, "updated "+ago(now.Sub(c.Updated))+" ago")
	}
	return strings.Join(parts, " · ")
}

// caseMessage is a case's card: what it is, where it stands, what an agent
// can do next, and what happened so far.
func caseMessage(c bot.Case, audit []bot.AuditEvent, others []string) *slackapi.WebhookMessage {
	ref := "Case #" + c.ID
	blocks := []slackapi.Block{slackapi.NewHeaderBlock(plain(truncate(ref+" · "+string(c.State), 150)))}

	waba := "not set"
	if c.WABA != "" {
		waba = "`" + esc(c.WABA) + "`"
	}
	state := "`" + esc(string(c.State)) + "`"
	if c.Agent != "" {
		state += ", held by " + mention(c.Agent)
	}
	fields := []*slackapi.TextBlockObject{
		mrkdwn("*Client*\n" + clientOf(c)),
		mrkdwn("*Phone*\n" + phoneOf(c)),
		mrkdwn("*WABA*\n" + waba),
		mrkdwn("*State*\n" + state),
		mrkdwn("*Opened*\n" + stamp(c.Created)),
	}
	if c.Blocked != "" {
		fields = append(fields, mrkdwn("*Blocked*\n"+blockedReason(c.Blocked)))
	}
	if c.Problem != "" {
		fields = append(fields, mrkdwn("*Problem*\n"+safeText(c.Problem, 500)))
	}
	if !c.Held.IsZero() {
		fields = append(fields, mrkdwn("*Waiting on the 24-hour window*\nsince "+stamp(c.Held)+
			": the update template was sent; replies go out when the client answers it"))
	}
	if c.TraceID != "" {
		fields = append(fields, mrkdwn("*fbtrace_id*\n`"+esc(c.TraceID)+"`"))
	}
	if !c.Closed.IsZero() {
		fields = append(fields, mrkdwn("*Closed*\n"+stamp(c.Closed)))
	}
	blocks = append(blocks,
		slackapi.NewSectionBlock(nil, fields, nil),
		section("*Next step*\n"+nextStep(c)),
		slackapi.NewContextBlock("", mrkdwn(details(c))),
	)
	if len(others) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("",
			mrkdwn("Other cases for this number: "+esc(strings.Join(others, ", ")))))
	}
	blocks = append(blocks, caseExtras(c)...)
	blocks = append(blocks, section(timeline(audit)))
	if btns := buttons(c); len(btns) > 0 {
		blocks = append(blocks, slackapi.NewActionBlock("porta_case_"+c.ID, btns...))
	}
	return withBlocks(ref+" ("+string(c.State)+")", blocks...)
}

func details(c bot.Case) string {
	var parts []string
	if c.Lang != "" {
		parts = append(parts, "language `"+esc(string(c.Lang))+"`")
	}
	if c.Method != "" {
		parts = append(parts, "method `"+esc(c.Method)+"`")
	}
	parts = append(parts,
		"codes requested "+strconv.Itoa(c.CodeRequests),
		"wrong codes "+strconv.Itoa(c.WrongCodes),
		"register calls "+strconv.Itoa(c.RegisterCalls))
	if c.InFlight != "" {
		parts = append(parts, "in flight `"+esc(c.InFlight)+"`")
	}
	return strings.Join(parts, " · ")
}

// timeline renders the last events of a case, one compact line each.
func timeline(audit []bot.AuditEvent) string {
	if len(audit) == 0 {
		return "*Timeline*: nothing recorded yet."
	}
	head := fmt.Sprintf("*Timeline* (UTC, last %d of %d)", min(timelineLen, len(audit)), len(audit))
	if len(audit) <= timelineLen {
		head = "*Timeline* (UTC)"
	}
	var b strings.Builder
	for _, e := range audit[max(0, len(audit)-timelineLen):] {
		b.WriteString(e.At.UTC().Format("01-02 15:04") + " " + truncate(e.Actor, 12) + ": ")
		what := e.Kind
		if e.From != "" || e.To != "" {
			what = string(e.From) + " → " + string(e.To)
		}
		b.WriteString(what)
		if d := strings.TrimSpace(e.Detail); d != "" {
			b.WriteString(" (" + truncate(scrub(d), 60) + ")")
		}
		b.WriteString("\n")
	}
	return head + "\n```" + esc(strings.TrimSuffix(b.String(), "\n")) + "```"
}

// buttons offers the actions that make sense in the case's state.
func buttons(c bot.Case) []slackapi.BlockElement {
	if fsm.IsFinal(c.State) {
		return nil
	}
	btn := func(action, label string) *slackapi.ButtonBlockElement {
		return slackapi.NewButtonBlockElement(action, c.ID, plain(label))
	}
	var out []slackapi.BlockElement
	if c.State != fsm.Handoff {
		out = append(out, btn(actionTakeOver, "Take over").WithStyle(slackapi.StylePrimary))
	} else {
		out = append(out, btn(actionRelease, "Release"))
	}
	if c.State == fsm.Failed {
		out = append(out, btn(actionRetry, "Retry"))
	}
	confirm := slackapi.NewConfirmationBlockObject(
		plain(truncate("Cancel case #"+c.ID+"?", 100)),
		plain("The client's port stops here and they are told so. This cannot be undone."),
		plain("Cancel the port"), plain("Keep it"))
	out = append(out, btn(actionCancel, "Cancel").WithStyle(slackapi.StyleDanger).WithConfirm(confirm))
	return out
}

// nextStep says in words what the case waits for, and who can move it.
func nextStep(c bot.Case) string {
	id := esc(c.ID)
	switch c.State {
	case fsm.New, fsm.Menu:
		return "The client has not started the port yet."
	case fsm.CheckBMAccess:
		return "Waiting for the client to confirm admin access to the Business Manager."
	case fsm.Check2FA:
		return "Waiting for the client to confirm two-step verification is off."
	case fsm.CheckReception:
		return "Waiting for the client to confirm the number can receive an SMS or a call."
	case fsm.CheckDisplayName:
		return "Waiting for the client to confirm the display name is approved."
	case fsm.Blocked:
		return "Waiting for the client to fix it (" + blockedReason(c.Blocked) + "); the bot goes on when they say it is fixed."
	case fsm.AskPhone:
		return "Waiting for the client to type the number to port."
	case fsm.AwaitWABA:
		if c.Signup != nil && !c.Signup.Used {
			return "Waiting for the client to share their WABA through Embedded Signup (link sent); " +
				"an agent may give it instead: `/porta waba " + id + " &lt;waba_id&gt;`."
		}
		return "An agent must give the destination WABA: `/porta waba " + id + " &lt;waba_id&gt;`."
	case fsm.AddingNumber:
		return "Adding the number to the destination WABA (Graph call in flight)."
	case fsm.ChooseMethod:
		return "Waiting for the client to choose SMS or voice call for the code."
	case fsm.RequestingCode:
		return "Asking Meta to send the code (Graph call in flight)."
	case fsm.AwaitCode:
		return "Waiting for the client to type the code they received."
	case fsm.Verifying:
		return "Verifying the code (Graph call in flight)."
	case fsm.AskPin:
		return "Waiting for the client to choose a new two-step PIN."
	case fsm.Registering:
		return "Registering the number on the Cloud API (Graph call in flight)."
	case fsm.MigratingTemplates:
		return "Copying the message templates (Graph call in flight)."
	case fsm.Done:
		return "Nothing: the number is ported."
	case fsm.Cancelled:
		return "Nothing: the port was cancelled."
	case fsm.Handoff:
		if c.Agent == "" {
			return "The client waits for a person: `/porta takeover " + id + "`."
		}
		return mention(c.Agent) + " holds the conversation; the bot is quiet until `/porta release " + id + "`."
	case fsm.Failed:
		return "Fix the problem, then `/porta retry " + id + "` re-runs the failed step."
	}
	return "Unknown state."
}

func blockedReason(c bot.Check) string {
	switch c {
	case bot.CheckBM:
		return "no admin access to the Business Manager"
	case bot.Check2FA:
		return "two-step verification is on"
	case bot.CheckReception:
		return "the number cannot receive the SMS or voice call"
	case bot.CheckDisplayName:
		return "display name not approved (the origin BSP must act)"
	}
	return "a prerequisite is not met"
}

// faqMessage shows what the bot answers a client, or what came closest.
func faqMessage(question string, r faq.Result) *slackapi.WebhookMessage {
	q := "*Q:* " + esc(truncate(question, 300))
	if r.Intent == "" || r.Intent == faq.None || r.Answer == "" {
		text := q + "\nNo answer is sure enough; the bot would offer the closest topics."
		if len(r.Closest) > 0 {
			var topics []string
			for _, t := range r.Closest {
				topics = append(topics, esc(t.Title)+" (`"+esc(t.Intent)+"`)")
			}
			text += "\nClosest: " + strings.Join(topics, ", ") + "."
		}
		return withBlocks("No answer is sure enough.", section(text))
	}
	return withBlocks(esc(truncate(r.Answer, 2900)),
		section(q+"\n"+esc(r.Answer)),
		slackapi.NewContextBlock("", mrkdwn(fmt.Sprintf("intent `%s` · score %.2f · language `%s`",
			esc(r.Intent), r.Score, esc(r.Lang)))))
}

// statsMessage counts cases per state and measures the ports that
// finished. Days are UTC days.
// statsWindow is how far back stats measures finished ports: a window, so
// that the stats cost the recent ports, not every port ever made.
const statsWindow = 7 * 24 * time.Hour

// statsMessage shows the cases per state (counts) and the ports done today
// and in the last 7 days, with their median time, from closed: the cases
// closed in that time.
func statsMessage(counts map[fsm.State]int, closed []bot.Case, now time.Time) *slackapi.WebhookMessage {
	total := 0
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return ephemeral("No cases yet.")
	}
	var (
		today         = now.UTC().Truncate(24 * time.Hour)
		week          = now.Add(-statsWindow)
		doneToday     int
		doneWeek      int
		durations     []time.Duration
		open, unknown int
	)
	for s, n := range counts {
		if !fsm.Known(s) {
			unknown += n
		}
		if !fsm.IsFinal(s) {
			open += n
		}
	}
	for _, c := range closed {
		if c.State != fsm.Done || c.Closed.IsZero() {
			continue
		}
		if !c.Closed.Before(today) {
			doneToday++
		}
		if c.Closed.After(week) {
			doneWeek++
			if !c.Created.IsZero() && c.Closed.After(c.Created) {
				durations = append(durations, c.Closed.Sub(c.Created))
			}
		}
	}
	var lines []string
	for _, s := range fsm.All() {
		if n := counts[s]; n > 0 {
			lines = append(lines, fmt.Sprintf("`%s` %d", s, n))
		}
	}
	if unknown > 0 {
		lines = append(lines, fmt.Sprintf("other %d", unknown))
	}
	median := "no port done in 7 days"
	if len(durations) > 0 {
		median = fmt.Sprintf("%s (over %d ports)", ago(medianOf(durations)), len(durations))
	}
	fields := []*slackapi.TextBlockObject{
		mrkdwn("*Open cases*\n" + strconv.Itoa(open)),
		mrkdwn("*Done today (UTC)*\n" + strconv.Itoa(doneToday)),
		mrkdwn("*Done in the last 7 days*\n" + strconv.Itoa(doneWeek)),
		mrkdwn("*Median time to done, last 7 days*\n" + median),
	}
	return withBlocks(fmt.Sprintf("%d cases, %d open; %d done today, %d in 7 days.", total, open, doneToday, doneWeek),
		section("*Cases per state*\n"+strings.Join(lines, "\n")),
		slackapi.NewSectionBlock(nil, fields, nil))
}

func medianOf(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// ago renders a duration the way agents read it: "45s", "12m", "3h 05m",
// "2d 4h".
func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// phoneOf is the case's number, masked: the number being ported once the
// client gave it, else the WhatsApp number they write from. Backquoted, since
// the mask's asterisks would otherwise turn into bold.
func phoneOf(c bot.Case) string {
	switch {
	case c.Phone != "":
		return "`" + bot.MaskPhone(c.Phone) + "`"
	case c.Client != "":
		return "client " + clientOf(c)
	}
	return "no number yet"
}

// clientOf is how the case's client is recognised: their username, or
// their WhatsApp number masked, or their masked BSUID when Meta shares
// neither; never a bare id.
func clientOf(c bot.Case) string {
	return "`" + esc(c.Who()) + "`"
}

var slackUser = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// mention links a Slack user id; other agent names are shown as they are.
func mention(agent string) string {
	if slackUser.MatchString(agent) {
		return "<@" + agent + ">"
	}
	return "`" + esc(agent) + "`"
}

// esc escapes the three characters Slack reads as markup, so text from
// clients or Meta cannot ping a channel or forge a link.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// phoneLike finds international numbers in free text: a "+" and at least
// eight digits, spaced or punctuated as people type them.
var phoneLike = regexp.MustCompile(`\+\d[\d \-().]{6,20}\d`)

// scrub masks phone numbers in text bound for Slack that portabot did not
// write itself (a Graph error, a problem note), which may quote the
// client's number in full.
func scrub(s string) string {
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if len(digits) < 8 {
			return m
		}
		return bot.MaskPhone(digits)
	})
}

// maskedPhone matches bot.MaskPhone's output.
var maskedPhone = regexp.MustCompile(`\+\d{0,2}\*+\d{0,4}`)

// safeText makes text portabot did not write (a client's words, Meta's
// error) safe to post as mrkdwn, at most about n bytes: any full number
// masked, escaped, and masked numbers backquoted so their asterisks do not
// turn into bold.
func safeText(s string, n int) string {
	s = esc(truncate(scrub(s), n))
	return maskedPhone.ReplaceAllStringFunc(s, func(m string) string { return "`" + m + "`" })
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
