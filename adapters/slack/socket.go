package slack

import (
	"context"
	"errors"
	"log/slog"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"portabot/bot"
)

// RunSocketMode serves the same commands and buttons over Slack's Socket
// Mode, for deployments without a public HTTPS endpoint: the websocket is
// authenticated by the app-level token, so there is no signature to check.
// It blocks until ctx ends (returning nil) or the connection fails for good.
func (a *App) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return errors.New("slack: socket mode needs an app-level token")
	}
	sm := socketmode.New(a.api, socketmode.OptionLog(slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)))
	run, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The client blocks when nobody reads its events: keep draining
		// until the connection is gone.
		for {
			select {
			case <-run.Done():
				return
			case evt := <-sm.Events:
				a.socketEvent(run, sm, evt)
			}
		}
	}()
	err := sm.RunContext(run)
	stop()
	<-done
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// socketEvent answers one Socket Mode event; requests are handled in their
// own goroutines so a slow store does not hold up the next one.
func (a *App) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackapi.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		req := *evt.Request
		a.work.Go(func() { bot.Recovered("slack request", a.log, func() { a.slashCommand(ctx, sm, req, cmd) }) })
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slackapi.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		req := *evt.Request
		a.work.Go(func() { bot.Recovered("slack request", a.log, func() { a.interactive(ctx, sm, req, ic) }) })
	case socketmode.EventTypeEventsAPI:
		// Not subscribed to events; acknowledge so Slack does not resend.
		if evt.Request != nil {
			a.ack(sm, *evt.Request, nil, "")
		}
	case socketmode.EventTypeConnected:
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeConnectionError:
		a.log.Warn("slack socket mode connection error", "error", errorOf(evt.Data))
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack socket mode: the app-level token was refused")
	}
}

// ack acknowledges a request with reply as its immediate answer. Slack drops
// acks of 20 KB or more, and the client refuses them: such a reply goes to
// the response_url instead.
func (a *App) ack(sm *socketmode.Client, req socketmode.Request, reply *slackapi.WebhookMessage, responseURL string) {
	if reply == nil {
		if err := sm.Ack(req); err != nil {
			a.log.Error("slack socket mode ack failed", "error", err)
		}
		return
	}
	if err := sm.Ack(req, reply); err == nil {
		return
	}
	if err := sm.Ack(req); err != nil {
		a.log.Error("slack socket mode ack failed", "error", err)
		return
	}
	a.finish(responseURL, func(context.Context) *slackapi.WebhookMessage { return reply })
}

func errorOf(data any) error {
	if e, ok := data.(*slackapi.ConnectionErrorEvent); ok && e.ErrorObj != nil {
		return withoutURL(e.ErrorObj)
	}
	return nil
}

// slashCommand answers one /porta command that came over Socket Mode.
func (a *App) slashCommand(ctx context.Context, sm *socketmode.Client, req socketmode.Request, cmd slackapi.SlashCommand) {
	if !a.teamServed(cmd.TeamID) {
		a.log.Warn("slack request from another workspace refused", "team", cmd.TeamID)
		a.ack(sm, req, ephemeral("This workspace is not served by portabot."), "")
		return
	}
	reply, later := a.command(ctx, cmd)
	a.ack(sm, req, reply, cmd.ResponseURL)
	a.finish(cmd.ResponseURL, later)
}

// interactive answers one button press that came over Socket Mode.
func (a *App) interactive(ctx context.Context, sm *socketmode.Client, req socketmode.Request, ic slackapi.InteractionCallback) {
	a.ack(sm, req, nil, "")
	if !a.teamServed(ic.Team.ID) {
		a.log.Warn("slack request from another workspace refused", "team", ic.Team.ID)
		return
	}
	a.finish(ic.ResponseURL, a.interaction(ctx, ic))
}
