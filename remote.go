package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
)

// remote is the engine as `portabot chat --server` sees it: each line goes
// to a running serve as a signed webhook, and the replies are read back
// from what serve's simulated Meta received.
type remote struct {
	server  string
	secret  string
	phoneID string
	out     io.Writer
	client  *http.Client
	// seenMsgs and seenCodes count what was already shown.
	seenMsgs  int
	seenCodes int
	// quiet is how long no new reply means the bot has finished answering.
	quiet   time.Duration
	timeout time.Duration
}

type sandboxFeed struct {
	Codes    []sandboxCode     `json:"codes"`
	Messages []metasim.Message `json:"messages"`
}

func (r *remote) feed(ctx context.Context) (sandboxFeed, error) {
	var f sandboxFeed
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.server+"/sandbox/messages", nil)
	if err != nil {
		return f, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return f, fmt.Errorf("read replies from %s: %w", r.server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return f, fmt.Errorf("read replies from %s: %s (is it serve in sandbox mode, started with --sandbox or PORTABOT_SANDBOX=1?)", r.server, resp.Status)
	}
	return f, json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&f)
}

// skipSeen starts the session after whatever serve delivered before it.
func (r *remote) skipSeen(ctx context.Context) error {
	f, err := r.feed(ctx)
	if err != nil {
		return err
	}
	r.seenMsgs, r.seenCodes = len(f.Messages), len(f.Codes)
	return nil
}

// Handle posts in as Meta would and waits for the bot's replies.
func (r *remote) Handle(ctx context.Context, in bot.Inbound) ([]bot.Reply, error) {
	id := "wamid.chat." + randomHex(8)
	user := whatsapp.User{Phone: in.From, UserID: in.UserID, Username: in.Username}
	content := map[string]any{"type": "text", "text": map[string]string{"body": in.Text}}
	if in.Choice != "" {
		content = map[string]any{"type": "interactive", "interactive": map[string]any{
			"type": "button_reply", "button_reply": map[string]string{"id": in.Choice, "title": in.Text}}}
	}
	body := whatsapp.BuildUserWebhook(r.phoneID, user, id, time.Now(), content)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.server+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapp.SignBody(r.secret, body))
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post webhook to %s: %w", r.server, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("serve refused the webhook: %s (is PORTABOT_META_APP_SECRET the sandbox_app_secret serve logged, or the one you gave it?)", resp.Status)
	}

	to := "+" + in.From
	if in.From == "" {
		to = in.UserID // a client known by BSUID alone is written to by it
	}
	var replies []bot.Reply
	deadline := time.Now().Add(r.timeout)
	last := time.Now()
	for time.Now().Before(deadline) {
		f, err := r.feed(ctx)
		if err != nil {
			return replies, err
		}
		for _, c := range f.Codes[min(r.seenCodes, len(f.Codes)):] {
			kind := "SMS"
			if c.Method == "VOICE" {
				kind = "Voice call"
			}
			fmt.Fprintf(r.out, "%s to %s: %s\n", kind, c.To, c.Code)
		}
		r.seenCodes = len(f.Codes)
		for _, m := range f.Messages[min(r.seenMsgs, len(f.Messages)):] {
			if m.To != to {
				continue
			}
			rep := bot.Reply{Text: m.Text}
			if m.Template != "" {
				name, lang, _ := strings.Cut(m.Template, "/")
				rep = bot.Reply{Template: &bot.Template{Name: name, Lang: lang, Params: strings.Fields(m.Text)}}
			}
			for _, c := range m.Choices {
				rep.Buttons = append(rep.Buttons, bot.Button{ID: c.ID, Title: c.Title})
			}
			replies = append(replies, rep)
			last = time.Now()
		}
		if len(f.Messages) > r.seenMsgs {
			r.seenMsgs = len(f.Messages)
		}
		if len(replies) > 0 && time.Since(last) >= r.quiet {
			break
		}
		select {
		case <-ctx.Done():
			return replies, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	return mergeParts(replies), nil
}

// mergeParts joins the parts of a long text the sender split, so the
// terminal shows one reply per bot message.
func mergeParts(rs []bot.Reply) []bot.Reply {
	var out []bot.Reply
	for _, r := range rs {
		if n := len(out); n > 0 && len(out[n-1].Buttons) == 0 && strings.TrimSpace(r.Text) != "" && len(out[n-1].Text) >= 4000 {
			out[n-1].Text += r.Text
			out[n-1].Buttons = r.Buttons
			continue
		}
		out = append(out, r)
	}
	return out
}
