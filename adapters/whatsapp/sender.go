package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"portabot/adapters/metahttp"
	"portabot/bot"
)

// DefaultTimeout bounds one call when SenderConfig leaves it zero; Meta
// answers a send in well under a second when it is healthy.
const DefaultTimeout = 15 * time.Second

// SenderConfig configures a Sender.
type SenderConfig struct {
	// BaseURL is Graph's origin; metahttp.DefaultBaseURL when empty.
	BaseURL string
	// Version is the Graph API version in the path;
	// metahttp.DefaultVersion when empty.
	Version string
	// Token is the access token with whatsapp_business_messaging. It travels
	// only in the Authorization header.
	Token string
	// PhoneNumberID is the bot's own business number id: replies come from
	// it.
	PhoneNumberID string
	// Timeout bounds each call to Meta; DefaultTimeout when zero. The
	// caller's context bounds a whole Send.
	Timeout time.Duration
	// HTTPClient, when set, supplies the transport. It is copied, not
	// modified.
	HTTPClient *http.Client
	// Logger receives debug lines about calls; nothing when nil.
	Logger *slog.Logger
	// ListLabel names the button that opens a list of 4 to 10 choices (at
	// most 20 characters). When nil, the label is "Options", "Opções" or
	// "Opciones", whichever language the reply appears to be written in.
	ListLabel func(bot.Reply) string
	// Observe, when set, is told of every call to Meta: the endpoint
	// ("messages" or "read"), the outcome ("ok", "meta_error" when Meta
	// refused it, "unavailable" when Meta could not be reached or answered
	// 429 or 5xx) and how long it took. Meta's health is seen here first,
	// before any reply is given up. It must not block.
	Observe func(endpoint, outcome string, d time.Duration)
}

// Sender delivers replies through the Cloud API messages endpoint. It is
// safe for concurrent use.
type Sender struct {
	rc    *resty.Client
	path  string
	label func(bot.Reply) string
	log   *slog.Logger
	obs   func(endpoint, outcome string, d time.Duration)
}

var _ bot.Sender = (*Sender)(nil)

// NewSender returns a Sender for cfg.
func NewSender(cfg SenderConfig) *Sender {
	mc := metahttp.ClientConfig{BaseURL: cfg.BaseURL, Version: cfg.Version, Token: cfg.Token, Timeout: cfg.Timeout,
		MaxBody: maxResponse, HTTPClient: cfg.HTTPClient, Log: cfg.Logger, Name: "whatsapp http client"}.WithDefaults(DefaultTimeout)
	label := cfg.ListLabel
	if label == nil {
		label = guessListLabel
	}
	// No retry count and no retry conditions: a repeated POST /messages
	// reaches the client twice, and the dispatcher owns retries and backoff.
	return &Sender{
		rc:    metahttp.NewClient(mc),
		path:  MessagesPath(mc.Version, cfg.PhoneNumberID),
		label: label,
		log:   mc.Log,
		obs:   cfg.Observe,
	}
}

// MessagesPath is the path of the messages endpoint of the business number
// phoneNumberID under Graph API version: where replies and read receipts
// are posted.
func MessagesPath(version, phoneNumberID string) string {
	return "/" + strings.Trim(version, "/") + "/" + url.PathEscape(phoneNumberID) + "/messages"
}

// maxResponse caps an answer from the messages endpoint, which is a few
// hundred bytes.
const maxResponse = 1 << 20

// Send delivers row.Reply to the client row.To (digits, with or without
// "+").
//
// A reply without buttons is sent as text, cut into messages of at most
// 4,096 characters at paragraph, line or word boundaries. One to three
// buttons make an interactive button message, four to ten a list; more
// than ten are cut to the first ten. Text too long for the interactive body
// goes first as text messages, and its last paragraphs become the body.
// The cut is the same on every attempt, so the row.PartsSent messages Meta
// accepted before are skipped, and the client never gets a part twice.
//
// When row.ID is set, every message carries bot.OutboundRef of the row and
// its place in the reply as biz_opaque_callback_data, which Meta echoes in
// the message's status webhooks.
//
// Errors are *bot.GraphError when Meta refused the message, and also wrap
// bot.ErrUnavailable when it could not be reached, timed out, or answered
// 429 or 5xx. The result counts the parts Meta accepted, also on error.
func (s *Sender) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	msgs := s.plan(row)
	start := min(max(row.PartsSent, 0), len(msgs))
	res := bot.SendResult{Parts: start}
	for i := start; i < len(msgs); i++ {
		op := "send"
		if len(msgs) > 1 {
			op = fmt.Sprintf("send part %d of %d", i+1, len(msgs))
		}
		if row.ID != "" {
			msgs[i].CallbackData = bot.OutboundRef(row.ID, i+1, len(msgs))
		}
		var out struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err := s.post(ctx, "messages", op, msgs[i], &out); err != nil {
			s.log.DebugContext(ctx, "whatsapp send failed", "client", bot.MaskPhone(row.To), "row", row.ID,
				"part", i+1, "parts", len(msgs), "error", err)
			return res, err
		}
		id := ""
		if len(out.Messages) > 0 {
			id = out.Messages[0].ID
		}
		if id == "" {
			// Meta took the message (2xx) but its answer has no id: the
			// client has it; statuses find the row by its reference.
			s.log.WarnContext(ctx, "whatsapp send answer without a message id", "client", bot.MaskPhone(row.To))
		}
		if i == 0 {
			res.MetaID = id
		}
		res.Parts = i + 1
	}
	s.log.DebugContext(ctx, "whatsapp sent", "client", bot.MaskPhone(row.To), "row", row.ID,
		"parts", len(msgs)-start, "wa_message_id", res.MetaID)
	return res, nil
}

// MarkRead marks the inbound message id read, which shows the client blue
// ticks on it and on the messages before it.
func (s *Sender) MarkRead(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("whatsapp: mark read: no message id")
	}
	return s.post(ctx, "read", "mark read", markRead{MessagingProduct: "whatsapp", Status: "read", MessageID: id}, nil)
}

// post makes one call to the messages endpoint and decodes a 2xx answer
// into out. endpoint names the call for the observer, op for errors.
func (s *Sender) post(ctx context.Context, endpoint, op string, body, out any) error {
	start := time.Now()
	resp, err := s.rc.R().SetContext(ctx).
		SetHeader("Content-Type", "application/json").
		SetBody(body).
		Post(s.path)
	if err != nil {
		s.observe(endpoint, "unavailable", start)
		return fmt.Errorf("whatsapp: %s: %w: %w", op, bot.ErrUnavailable, transportCause(err))
	}
	if st := resp.StatusCode(); st < 200 || st > 299 {
		ge := metahttp.Decode(st, resp.Header(), resp.Body())
		if metahttp.Unavailable(st) {
			s.observe(endpoint, "unavailable", start)
			return fmt.Errorf("whatsapp: %s: %w: %w", op, bot.ErrUnavailable, ge)
		}
		s.observe(endpoint, "meta_error", start)
		return fmt.Errorf("whatsapp: %s: %w", op, ge)
	}
	s.observe(endpoint, "ok", start)
	if out != nil {
		// Decoded by hand rather than with resty's SetResult, which skips
		// bodies not labelled as JSON.
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			s.log.WarnContext(ctx, "whatsapp answer unreadable", "op", op, "error", err)
		}
	}
	return nil
}

// observe reports a call that began at start to the observer, if any.
func (s *Sender) observe(endpoint, outcome string, start time.Time) {
	if s.obs != nil {
		s.obs(endpoint, outcome, time.Since(start))
	}
}

// plan turns a row's reply into the messages that carry it, in sending
// order, addressed to the client's number, or to their BSUID in the
// recipient field when the number is not known (Meta:
// business-scoped-user-ids).
func (s *Sender) plan(o bot.Outbound) []outMessage {
	r := o.Reply
	phone, userID := o.Address()
	to := ""
	if phone != "" {
		to = "+" + strings.TrimPrefix(strings.TrimSpace(phone), "+")
	}
	if r.Template != nil {
		return []outMessage{{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Recipient: userID,
			Type: "template", Template: templateOf(r.Template)}}
	}
	buttons := r.Buttons
	if len(buttons) > maxRows {
		// Meta takes at most ten rows; the rest could not be shown anyway.
		s.log.Warn("whatsapp reply has too many choices; sending the first ten", "choices", len(buttons))
		buttons = buttons[:maxRows]
	}
	text := func(body string) outMessage {
		return outMessage{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Recipient: userID, Type: "text",
			Text: &textBody{Body: body}}
	}
	var msgs []outMessage
	if len(buttons) == 0 {
		for _, part := range splitText(r.Text, maxText) {
			msgs = append(msgs, text(part))
		}
		return msgs
	}
	bodyMax := maxText
	if len(buttons) <= maxButtons {
		bodyMax = maxButtonBody
	}
	head, body := splitTail(r.Text, bodyMax)
	if head != "" {
		for _, part := range splitText(head, maxText) {
			msgs = append(msgs, text(part))
		}
	}
	in := &interactive{Body: textField{Text: body}}
	if len(buttons) <= maxButtons {
		in.Type = "button"
		for i, title := range uniqueTitles(buttons, maxButtonTitle) {
			in.Action.Buttons = append(in.Action.Buttons, replyButton{Type: "reply", Reply: choice{ID: buttons[i].ID, Title: title}})
		}
	} else {
		in.Type = "list"
		in.Action.Button = truncate(s.label(r), maxListLabel)
		var rows []row
		for i, title := range uniqueTitles(buttons, maxRowTitle) {
			rw := row{ID: buttons[i].ID, Title: title}
			if full := buttonTitle(buttons[i]); full != title {
				// The row shows its description under the title: the place
				// for the words the title had no room for.
				rw.Description = truncate(full, maxRowDesc)
			}
			rows = append(rows, rw)
		}
		in.Action.Sections = []section{{Rows: rows}}
	}
	return append(msgs, outMessage{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Recipient: userID,
		Type: "interactive", Interactive: in})
}

// templateOf is the template message's body: the body's parameters, and the
// payload of its quick-reply button, which Meta echoes when it is tapped.
func templateOf(t *bot.Template) *templateBody {
	b := &templateBody{Name: t.Name}
	b.Language.Code = t.Lang
	if len(t.Params) > 0 {
		c := component{Type: "body"}
		for _, p := range t.Params {
			c.Parameters = append(c.Parameters, parameter{Type: "text", Text: p})
		}
		b.Components = append(b.Components, c)
	}
	if t.Button != "" {
		b.Components = append(b.Components, component{Type: "button", SubType: "quick_reply", Index: "0",
			Parameters: []parameter{{Type: "payload", Payload: t.Button}}})
	}
	return b
}

// buttonTitle is what a button shows: its title, or its id when the title
// is empty (Meta refuses an empty title, and an id beats no reply).
func buttonTitle(b bot.Button) string {
	if t := strings.TrimSpace(b.Title); t != "" {
		return t
	}
	return b.ID
}

// uniqueTitles shortens the buttons' titles to max characters and keeps
// them distinct, as Meta requires: a title that would repeat an earlier one
// (after shortening, ignoring case) gets " (2)", " (3)", ...
func uniqueTitles(buttons []bot.Button, max int) []string {
	seen := map[string]bool{}
	titles := make([]string, len(buttons))
	for i, b := range buttons {
		full := buttonTitle(b)
		t := truncate(full, max)
		for n := 2; seen[strings.ToLower(t)]; n++ {
			suffix := fmt.Sprintf(" (%d)", n)
			t = truncate(full, max-len(suffix)) + suffix
		}
		seen[strings.ToLower(t)] = true
		titles[i] = t
	}
	return titles
}

// The messages endpoint's request bodies.
type (
	outMessage struct {
		MessagingProduct string `json:"messaging_product"`
		RecipientType    string `json:"recipient_type"`
		To               string `json:"to,omitempty"`
		// Recipient is the client's BSUID, for a client whose number Meta
		// did not share.
		Recipient   string        `json:"recipient,omitempty"`
		Type        string        `json:"type"`
		Text        *textBody     `json:"text,omitempty"`
		Interactive *interactive  `json:"interactive,omitempty"`
		Template    *templateBody `json:"template,omitempty"`
		// CallbackData is echoed by Meta in the message's status webhooks.
		CallbackData string `json:"biz_opaque_callback_data,omitempty"`
	}
	textBody struct {
		// PreviewURL stays false: a link preview fetched by WhatsApp adds
		// nothing to the bot's instructions and can mislead.
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	}
	interactive struct {
		Type   string    `json:"type"` // button or list
		Body   textField `json:"body"`
		Action action    `json:"action"`
	}
	textField struct {
		Text string `json:"text"`
	}
	action struct {
		Buttons  []replyButton `json:"buttons,omitempty"`
		Button   string        `json:"button,omitempty"` // list label
		Sections []section     `json:"sections,omitempty"`
	}
	replyButton struct {
		Type  string `json:"type"`
		Reply choice `json:"reply"`
	}
	choice struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	section struct {
		Title string `json:"title,omitempty"`
		Rows  []row  `json:"rows"`
	}
	row struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
	}
	templateBody struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []component `json:"components,omitempty"`
	}
	component struct {
		Type       string      `json:"type"`
		SubType    string      `json:"sub_type,omitempty"`
		Index      string      `json:"index,omitempty"`
		Parameters []parameter `json:"parameters"`
	}
	parameter struct {
		Type    string `json:"type"`
		Text    string `json:"text,omitempty"`
		Payload string `json:"payload,omitempty"`
	}
	markRead struct {
		MessagingProduct string `json:"messaging_product"`
		Status           string `json:"status"`
		MessageID        string `json:"message_id"`
	}
)
