package slack

import (
	"context"
	"errors"
	"fmt"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
)

var _ bot.Notifier = (*App)(nil)

// kindMark gives each kind of notice a glyph agents can scan a channel by.
var kindMark = map[bot.NoticeKind]string{
	bot.NoticeStarted:       ":new:",
	bot.NoticeBlocked:       ":no_entry:",
	bot.NoticeAwaitWABA:     ":hourglass_flowing_sand:",
	bot.NoticeWrongCodes:    ":warning:",
	bot.NoticeAgentAsked:    ":raising_hand:",
	bot.NoticeFailed:        ":x:",
	bot.NoticeDone:          ":white_check_mark:",
	bot.NoticeCancelled:     ":heavy_multiplication_x:",
	bot.NoticeClientMessage: ":speech_balloon:",
	bot.NoticeAgent:         ":bust_in_silhouette:",
	bot.NoticeFlagged:       ":triangular_flag_on_post:",
	bot.NoticeWindow:        ":hourglass_flowing_sand:",
	bot.NoticeMoved:         ":arrows_counterclockwise:",
	bot.NoticeSignup:        ":link:",
}

// needsPerson lists the notices that wait on an agent: in a thread they
// are also shown in the channel, where someone will see them.
var needsPerson = map[bot.NoticeKind]bool{
	bot.NoticeAwaitWABA:  true,
	bot.NoticeWrongCodes: true,
	bot.NoticeAgentAsked: true,
	bot.NoticeFailed:     true,
}

// Notify posts n about c to the agents' channel: as the case's first
// message when c has no thread yet, returning that message's ts as the
// thread, else as a reply in c.Thread. A failed post is returned, for the
// bot's notice dispatcher to retry; it never waits on Slack beyond ctx and
// the HTTP client's timeout.
func (a *App) Notify(ctx context.Context, c bot.Case, n bot.Notice) (thread string, err error) {
	if a.cfg.Channel == "" {
		return "", errors.New("slack: notify: no channel configured")
	}
	if n.Kind == bot.NoticeErased {
		return a.eraseThread(ctx, c, n)
	}
	mark := kindMark[n.Kind]
	if mark == "" {
		mark = ":information_source:"
	}
	text := safeText(n.Text, 2500)
	opts := []slackapi.MsgOption{slackapi.MsgOptionDisableLinkUnfurl(), slackapi.MsgOptionDisableMediaUnfurl()}
	if c.Thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(c.Thread), slackapi.MsgOptionText(mark+" "+text, false))
		if needsPerson[n.Kind] {
			opts = append(opts, slackapi.MsgOptionBroadcast())
		}
	} else {
		ref := "Case #" + esc(c.ID)
		opts = append(opts,
			slackapi.MsgOptionText(ref+": "+text, false),
			slackapi.MsgOptionBlocks(
				section(mark+" *"+ref+"* · "+phoneOf(c)+"\n"+text),
				slackapi.NewContextBlock("", mrkdwn("`/porta show "+esc(c.ID)+"` for the case card; "+
					"what happens next to this case is posted in this thread.")),
			))
	}
	_, ts, err := a.api.PostMessageContext(ctx, a.cfg.Channel, opts...)
	if err != nil {
		return "", fmt.Errorf("slack: post notice %s of case %s: %w", n.Kind, c.ID, withoutURL(err))
	}
	if c.Thread != "" {
		return c.Thread, nil
	}
	return ts, nil
}
