package slack

import (
	"context"
	"errors"
	"slices"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
)

// `/porta letter <case>` shows agents the message for the client's current
// provider, the one the client was offered, and the case card shows the
// pre-flight's report.

func init() {
	kindMark[bot.NoticePreflight] = ":clipboard:"
	// Listed with the other reads, before faq, stats and help.
	at := slices.IndexFunc(subcommands, func(s subcommand) bool { return s.name == "faq" })
	subcommands = slices.Insert(subcommands, at, subcommand{name: "letter", args: "<case>",
		about: "the message for the client's current provider, when they must act (number masked)"})
}

// letter answers `/porta letter <case>`. Slack never shows a whole phone
// number, so the agents' copy names it masked; the client's names it whole.
func (a *App) letter(ctx context.Context, arg string) *slackapi.WebhookMessage {
	sub, _ := lookup("letter")
	id, ok := parseCaseID(arg)
	if !ok {
		return usage(sub)
	}
	c, err := a.deps.Cases.Case(ctx, id)
	if errors.Is(err, bot.ErrNotFound) {
		return ephemeral("There is no case #" + esc(id) + ".")
	}
	if err != nil {
		return a.readFailed("read case", err)
	}
	c.Phone, c.LetterPhone = maskOrEmpty(c.Phone), maskOrEmpty(c.LetterPhone)
	l, err := bot.LetterFor(c)
	if err != nil {
		return ephemeral("No message for case #" + esc(id) + ": " + esc(sentence(err.Error())))
	}
	return withBlocks("Message for the current provider of case #"+id,
		section("*Message for the current provider of case #"+esc(id)+"* (the client was offered it in `"+esc(string(l.Lang))+"`)"),
		section(esc(l.Text)))
}

func maskOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return bot.MaskPhone(s)
}

// caseExtras are the card's pre-flight report and, for a case waiting on
// the client's current provider, where the message for them is.
func caseExtras(c bot.Case) []slackapi.Block {
	var blocks []slackapi.Block
	if p := c.Preflight; p != nil {
		text := "*Pre-flight* (" + stamp(p.At) + ")"
		if p.Stopped {
			text += " — stopped before adding the number"
		}
		for _, f := range p.Findings {
			mark := "✅"
			if f.State != "ok" && f.State != "fixed" {
				mark = "⚠️"
			}
			text += "\n" + mark + " " + safeText(f.Detail, 300)
		}
		blocks = append(blocks, section(text))
	}
	if _, err := bot.LetterFor(c); err == nil || errors.Is(err, bot.ErrLetterNoNumber) {
		blocks = append(blocks, section("*Current provider must act*: `/porta letter "+esc(c.ID)+"` shows the message the client was offered for them"))
	}
	return blocks
}
