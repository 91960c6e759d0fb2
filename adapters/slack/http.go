package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
)

// maxBody bounds a request from Slack; real ones are a few kilobytes.
const maxBody = 1 << 20

// Commands serves POST /slack/commands: /porta, verified and answered
// within Slack's 3 seconds.
func (a *App) Commands() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.verified(w, r, func(r *http.Request) error { return r.ParseForm() }) {
			return
		}
		if r.PostForm.Get("ssl_check") == "1" {
			// Slack's certificate probe carries no command.
			return
		}
		cmd, err := slackapi.SlashCommandParse(r) // the form is parsed already
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !a.ourTeam(w, cmd.TeamID) {
			return
		}
		reply, later := a.command(r.Context(), cmd)
		writeJSON(w, reply)
		a.finish(cmd.ResponseURL, later)
	})
}

// Interactions serves POST /slack/interactions: the buttons of a case card.
// Slack only wants a 200 within 3 seconds; the outcome goes to the
// response_url.
func (a *App) Interactions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ic slackapi.InteractionCallback
		parse := func(r *http.Request) (err error) {
			ic, err = slackapi.InteractionCallbackParse(r)
			return err
		}
		if !a.verified(w, r, parse) {
			return
		}
		if !a.ourTeam(w, ic.Team.ID) {
			return
		}
		later := a.interaction(r.Context(), ic)
		w.WriteHeader(http.StatusOK)
		a.finish(ic.ResponseURL, later)
	})
}

// verified checks Slack's signature over the raw body while parse reads it,
// and answers the request itself when it fails: 401 for anything unsigned,
// expired or tampered with, before anything in the body is acted on.
func (a *App) verified(w http.ResponseWriter, r *http.Request, parse func(*http.Request) error) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	sv, err := slackapi.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
	if err != nil {
		a.log.Warn("slack request refused", "path", r.URL.Path, "error", err)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	// The verifier sees every byte the parser reads, and nothing else.
	r.Body = io.NopCloser(io.TeeReader(http.MaxBytesReader(w, r.Body, maxBody), &sv))
	perr := parse(r)
	if _, ok := errors.AsType[*http.MaxBytesError](perr); ok {
		// Unverifiable, since the signature covers the whole body.
		a.log.Warn("slack request refused: too large", "path", r.URL.Path)
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return false
	}
	if perr != nil {
		// Read what the parser left, so an unsigned body gets a 401
		// rather than a parse error that tells its sender something.
		_, _ = io.Copy(io.Discard, r.Body)
	}
	if err := sv.Ensure(); err != nil {
		a.log.Warn("slack request refused", "path", r.URL.Path, "error", err)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	if perr != nil {
		a.log.Warn("slack request unreadable", "path", r.URL.Path, "error", perr)
		http.Error(w, "bad request", http.StatusBadRequest)
		return false
	}
	return true
}

// ourTeam refuses requests from workspaces other than the configured one:
// a signing secret is per app, and an app can be installed in several.
func (a *App) ourTeam(w http.ResponseWriter, team string) bool {
	if a.teamServed(team) {
		return true
	}
	a.log.Warn("slack request from another workspace refused", "team", team)
	http.Error(w, "this workspace is not served by portabot", http.StatusForbidden)
	return false
}

// teamServed fails closed: without a configured team no workspace is served.
func (a *App) teamServed(team string) bool {
	return a.cfg.TeamID != "" && team == a.cfg.TeamID
}

func writeJSON(w http.ResponseWriter, msg *slackapi.WebhookMessage) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(msg)
}

// job is work acknowledged to Slack and finished later; its result is
// posted to the response_url.
type job func(ctx context.Context) *slackapi.WebhookMessage

// finish runs later, if any, detached from the request that asked for it
// (whose context ends with the handler), and posts its result to
// responseURL.
func (a *App) finish(responseURL string, later job) {
	if later == nil {
		return
	}
	a.work.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.actionTimeout)
		defer cancel()
		var msg *slackapi.WebhookMessage
		if bot.Recovered("slack action", a.log, func() { msg = later(ctx) }) {
			msg = ephemeral("Something went wrong on portabot's side; nothing more was done. The error is in serve's log.")
		}
		a.respond(responseURL, msg)
	})
}

// respond posts msg to a response_url as an ephemeral message beside the
// one that asked, never replacing it.
func (a *App) respond(responseURL string, msg *slackapi.WebhookMessage) {
	if msg == nil || responseURL == "" {
		return
	}
	msg.ResponseType = slackapi.ResponseTypeEphemeral
	msg.ReplaceOriginal = false
	ctx, cancel := context.WithTimeout(context.Background(), a.replyTimeout)
	defer cancel()
	// The URL itself is a credential for 30 minutes: it is never logged.
	if err := slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, a.client, msg); err != nil {
		a.log.Error("slack response_url post failed", "error", withoutURL(err))
	}
}

// withoutURL drops the URL a transport error names, for the log.
func withoutURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
