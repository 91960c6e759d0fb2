package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
)

// export answers /porta export <case>: the case's history (bot.ExportCase,
// numbers masked) posted as a JSON file in the case's thread, where the
// agents who follow the case look, or in the channel when the case has no
// thread yet. It changes no case, so anyone who may read cases may ask;
// the upload takes three calls to Slack, so it is finished after the
// acknowledgement.
func (a *App) export(sub subcommand, rest, user string) (*slackapi.WebhookMessage, job) {
	id, ok := parseCaseID(strings.TrimSpace(rest))
	if !ok {
		return usage(sub), nil
	}
	return ephemeral("Exporting case #" + esc(id) + "…"), func(ctx context.Context) *slackapi.WebhookMessage {
		c, err := a.deps.Cases.Case(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			return ephemeral("There is no case #" + esc(id) + ".")
		}
		if err != nil {
			return a.readFailed("export a case", err)
		}
		x, err := bot.ExportCase(ctx, a.deps.Cases, id, false)
		if err != nil {
			return a.readFailed("export a case", err)
		}
		data, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return a.readFailed("export a case", err)
		}
		_, err = a.api.UploadFileContext(ctx, slackapi.UploadFileParameters{
			Reader: bytes.NewReader(data), FileSize: len(data), Filename: "case-" + id + ".json",
			Title: "Case #" + id + " history", Channel: a.cfg.Channel, ThreadTimestamp: c.Thread,
			InitialComment: "History of case #" + id + ", asked by <@" + user + ">.",
		})
		if err != nil {
			a.log.Error("slack export upload failed", "case", id, "user", user, "error", err)
			return ephemeral("Could not post the history of case #" + esc(id) + ": Slack refused the file (" + esc(err.Error()) + "). Try again, or run `portabot export " + esc(id) + "` on the server.")
		}
		a.log.Info("slack export posted", "case", id, "user", user, "bytes", len(data))
		where := "in its thread"
		if c.Thread == "" {
			where = "in the channel (the case has no thread yet)"
		}
		return ephemeral("Posted the history of case #" + esc(id) + " " + where + ".")
	}
}
