package slack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
)

// Erasure from Slack
//
// /porta forget <case | +number> changes nothing by itself: it answers
// with what would be erased and a button. Only the button, clicked by an
// agent, erases; what the bot's messages said in the case's thread is then
// rewritten by a NoticeErased, through the notice queue, so that Slack
// being down delays the rewrite and loses nothing.

// actionForget is the confirmation button's action id. Its value is a
// random token for the target, kept in memory for forgetLife: a full number
// is never put in a message to Slack, and a button outliving its process is
// simply asked for again.
const actionForget = "porta_forget"

// forgetLife is how long a confirmation button works.
const forgetLife = 15 * time.Minute

// pendingForget is an erasure waiting for its button.
type pendingForget struct {
	r       bot.ForgetRequest
	user    string
	expires time.Time
}

// rememberForget keeps r for its button and returns the button's value.
func (a *App) rememberForget(r bot.ForgetRequest, user string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.forgets == nil {
		a.forgets = map[string]pendingForget{}
	}
	for k, p := range a.forgets {
		if now.After(p.expires) {
			delete(a.forgets, k)
		}
	}
	a.forgets[token] = pendingForget{r: r, user: user, expires: now.Add(forgetLife)}
	return token
}

// takeForget returns and forgets the erasure waiting for token.
func (a *App) takeForget(token string) (pendingForget, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.forgets[token]
	delete(a.forgets, token)
	if !ok || a.now().After(p.expires) {
		return pendingForget{}, false
	}
	return p, true
}

// erasedText replaces each of the bot's messages in an erased case's
// thread.
const erasedText = ":wastebasket: Content erased"

// forgetAsk answers /porta forget: the agent's right to act, the target
// read, and a button to confirm.
func (a *App) forgetAsk(ctx context.Context, rest, user string) *slackapi.WebhookMessage {
	sub, _ := lookup("forget")
	r, err := bot.ParseForgetTarget(unescape(rest))
	if strings.TrimSpace(rest) == "" || err != nil {
		why := []string{}
		if err != nil && strings.TrimSpace(rest) != "" {
			why = append(why, esc(sentence(err.Error())))
		}
		return usage(sub, why...)
	}
	if !a.mayAct(user) {
		return a.refuse(ctx, user, "forget", r.CaseID)
	}
	if a.deps.Eraser == nil {
		return ephemeral("Erasure is not available on this portabot.")
	}
	what := forgetWhat(r)
	value := a.rememberForget(r, user)
	btn := slackapi.NewButtonBlockElement(actionForget, value, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Erase", false, false))
	btn.Style = slackapi.StyleDanger
	msg := ephemeral("Erase every trace of " + what + "?")
	msg.Blocks = &slackapi.Blocks{BlockSet: []slackapi.Block{
		section(":warning: Erase every trace of " + what + ": conversations, cases (a tombstone stays), audit, " +
			"waiting messages, replies, notices and business tokens; the bot's messages in each case's thread " +
			"are rewritten. This cannot be undone. Ignore this message to keep everything."),
		slackapi.NewActionBlock("porta_forget_confirm", btn),
	}}
	return msg
}

// forgetWhat names r's target for agents, the number masked.
func forgetWhat(r bot.ForgetRequest) string {
	if r.Number != "" {
		return "the client " + esc(bot.MaskPhone(r.Number)) + " and all their cases"
	}
	return "case #" + esc(r.CaseID) + ", its client and all their cases"
}

// forgetConfirmed erases after an agent clicked the button.
func (a *App) forgetConfirmed(ctx context.Context, ic slackapi.InteractionCallback, value string) job {
	user := ic.User.ID
	if !a.mayAct(user) {
		msg := a.refuse(ctx, user, "forget", "")
		return func(context.Context) *slackapi.WebhookMessage { return msg }
	}
	p, ok := a.takeForget(value)
	if !ok {
		return func(context.Context) *slackapi.WebhookMessage {
			return ephemeral("This confirmation has expired or was used; run `/porta forget` again.")
		}
	}
	r := p.r
	if a.replayed(ctx, ic.TriggerID) {
		a.log.Warn("slack action replayed, ignored", "user", user, "action", "forget")
		return nil
	}
	if a.deps.Eraser == nil {
		return func(context.Context) *slackapi.WebhookMessage {
			return ephemeral("Erasure is not available on this portabot.")
		}
	}
	what := forgetWhat(r)
	return func(ctx context.Context) *slackapi.WebhookMessage {
		r.Actor, r.At = user, a.now()
		out, err := a.deps.Eraser.Forget(ctx, r)
		switch {
		case errors.Is(err, bot.ErrInFlight):
			return ephemeral("Nothing erased: a Graph step is in flight for " + what + ". Try again once it is settled.")
		case errors.Is(err, bot.ErrBusy):
			return ephemeral("Nothing erased: the client's messages are being processed right now. Try again in a moment.")
		case errors.Is(err, bot.ErrNotFound):
			return ephemeral("There is no case #" + esc(r.CaseID) + ".")
		case err != nil:
			a.log.Error("slack forget failed", "user", user, "error", err)
			return ephemeral("Could not erase " + what + "; the error is in portabot's log. Nothing was erased.")
		case out.Empty():
			return ephemeral("Nothing to erase for " + what + ".")
		}
		a.log.Info("slack forget done", "user", user, "cases", strings.Join(out.Cases, ","))
		return ephemeral("Erased " + esc(out.String()) + ". The case threads are being rewritten.")
	}
}

// eraseThread rewrites every message of c's thread the bot can edit to say
// its content was erased. A message the bot cannot edit (an agent's) is
// left as it is; any other failure is returned, and the notice is tried
// again later.
func (a *App) eraseThread(ctx context.Context, c bot.Case, n bot.Notice) (string, error) {
	if c.Thread == "" {
		return "", nil
	}
	text := erasedText + "."
	if n.Text != "" {
		text = erasedText + ": " + safeText(n.Text, 500)
	}
	var cursor string
	for {
		msgs, more, next, err := a.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
			ChannelID: a.cfg.Channel, Timestamp: c.Thread, Cursor: cursor, Limit: 200})
		if err != nil {
			return "", fmt.Errorf("slack: read the thread of erased case %s: %w", c.ID, withoutURL(err))
		}
		for _, m := range msgs {
			if m.BotID == "" || strings.HasPrefix(m.Text, erasedText) {
				continue
			}
			_, _, _, err := a.api.UpdateMessageContext(ctx, a.cfg.Channel, m.Timestamp,
				slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks())
			var se slackapi.SlackErrorResponse
			if errors.As(err, &se) && (se.Err == "cant_update_message" || se.Err == "message_not_found") {
				continue
			}
			if err != nil {
				return "", fmt.Errorf("slack: rewrite a message of erased case %s: %w", c.ID, withoutURL(err))
			}
		}
		if !more || next == "" {
			return c.Thread, nil
		}
		cursor = next
	}
}
