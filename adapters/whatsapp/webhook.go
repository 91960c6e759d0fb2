package whatsapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"portabot/bot"
)

// DefaultMaxBody bounds a webhook body. Meta batches at most about 3 MB of
// updates, but a bot number's deliveries are a handful of messages and
// statuses; anything near the limit is not a real delivery.
const DefaultMaxBody = 1 << 20

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// AppSecret keys the X-Hub-Signature-256 HMAC. Empty refuses every POST.
	AppSecret string
	// VerifyToken is the string set in the App Dashboard for the
	// subscription handshake. Empty refuses every handshake.
	VerifyToken string
	// MaxBody bounds a POST body in bytes; DefaultMaxBody when zero.
	MaxBody int64
	// PhoneNumberID, when set, is the only business number whose messages
	// and statuses are taken; the rest are acknowledged and dropped. An app
	// subscribed to several WABAs receives their numbers' traffic on the
	// same URL, and the bot must not answer clients of other numbers.
	PhoneNumberID string
	// Observe, when set, is told what happened to each delivery (one of
	// the Event constants, with a count), so an operator can see refusals
	// and duplicates that the 200 or 4xx alone hides from Meta's side. It is
	// called on the request's goroutine and must not block.
	Observe func(event string, n int)
}

// Events reported through WebhookConfig.Observe. An accepted delivery
// reports EventReceived once, then EventMessages and EventDuplicates with
// how many messages it carried and how many of them were already stored; a
// refused one reports one of the EventRefused* events with n = 1.
const (
	EventReceived          = "received"
	EventMessages          = "messages"
	EventDuplicates        = "duplicates"
	EventRefusedSignature  = "refused_signature"
	EventRefusedTooLarge   = "refused_too_large"
	EventRefusedUnreadable = "refused_unreadable"
	EventRefusedBadJSON    = "refused_bad_json"
	EventRefusedStoreError = "refused_store_error"
	// EventMetaErrors counts the errors Meta reported in deliveries
	// (value.errors and a message's errors).
	EventMetaErrors = "meta_errors"
	// EventIgnored counts the messages and statuses of accepted deliveries
	// that were left out: without an id or a sender, with an id too long to
	// be Meta's, unreadable, or for another business number.
	EventIgnored = "ignored"
)

// Sink is where the webhook puts what Meta delivered.
type Sink interface {
	// Enqueue stores msgs durably in one transaction, skipping ids already
	// seen, and returns how many were new. An error makes the webhook answer
	// 500, so Meta delivers again.
	Enqueue(ctx context.Context, msgs []bot.Inbound) (int, error)
	// OutboundStatus records a status Meta reported for a message the bot
	// sent (see bot.Outbox.OutboundStatus). It returns an error wrapping
	// bot.ErrNotFound when no reply sent it.
	OutboundStatus(ctx context.Context, r bot.Receipt) error
	// MetaError attaches an error Meta reported asynchronously to the case
	// of the client with WhatsApp id client (a number or a BSUID). An error
	// wrapping bot.ErrNotFound (no such client, or no case) is not a
	// failure.
	MetaError(ctx context.Context, client, text string) error
	// Notify wakes whatever processes the inbox; it must not block.
	Notify()
}

// Webhook is the http.Handler for /webhooks/whatsapp: GET answers Meta's
// subscription handshake, POST receives signed deliveries.
type Webhook struct {
	secret  string
	token   string
	maxBody int64
	phoneID string
	sink    Sink
	log     *slog.Logger
	now     func() time.Time
	observe func(event string, n int)
}

// NewWebhook returns the handler. log may be nil.
func NewWebhook(cfg WebhookConfig, sink Sink, log *slog.Logger) *Webhook {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Webhook{
		secret:  cfg.AppSecret,
		token:   cfg.VerifyToken,
		maxBody: cfg.MaxBody,
		phoneID: cfg.PhoneNumberID,
		sink:    sink,
		log:     log,
		now:     time.Now,
		observe: cfg.Observe,
	}
}

// report passes an event to the observer, if there is one.
func (h *Webhook) report(event string, n int) {
	if h.observe != nil {
		h.observe(event, n)
	}
}

// ServeHTTP answers one request from Meta.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.handshake(w, r)
	case http.MethodPost:
		h.receive(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// handshake answers the GET Meta sends when the callback URL or verify
// token is saved in the App Dashboard.
func (h *Webhook) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if h.token == "" || q.Get("hub.mode") != "subscribe" || !sameSecret(q.Get("hub.verify_token"), h.token) {
		h.log.WarnContext(r.Context(), "webhook handshake refused", "mode", q.Get("hub.mode"))
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	h.log.InfoContext(r.Context(), "webhook handshake accepted")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	// The challenge is echoed verbatim; nosniff keeps a browser from
	// treating the reflected value as anything but text.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}

// readBody reads r whole into a buffer sized for the announced length, so
// that a body of n bytes holds n bytes, not the up to 2n io.ReadAll's
// doubling reaches.
func readBody(r io.Reader, announced int64) ([]byte, error) {
	var buf bytes.Buffer
	if announced > 0 {
		buf.Grow(int(announced) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// sameSecret compares digests, so neither the content nor the length of the
// configured token leaks through timing.
func sameSecret(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (h *Webhook) receive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.ContentLength > h.maxBody {
		// Refused before a byte is read: a sender announcing more than any
		// delivery holds would otherwise keep the connection, and its
		// memory, until the read timeout. Closing spares reading the rest.
		h.log.WarnContext(ctx, "webhook body too large", "limit", h.maxBody, "content_length", r.ContentLength)
		h.report(EventRefusedTooLarge, 1)
		w.Header().Set("Connection", "close")
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	claimed, ok := parseSignature(h.secret, r.Header.Get(SignatureHeader))
	if !ok {
		// No body can match this header: it is refused unread.
		h.log.WarnContext(ctx, "webhook signature refused", "has_signature", r.Header.Get(SignatureHeader) != "", "bytes", r.ContentLength)
		h.report(EventRefusedSignature, 1)
		w.Header().Set("Connection", "close")
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	// The MAC is computed as the body streams in, over the bytes exactly
	// as received.
	sum := hmac.New(sha256.New, []byte(h.secret))
	body, err := readBody(io.TeeReader(http.MaxBytesReader(w, r.Body, h.maxBody), sum), r.ContentLength)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.log.WarnContext(ctx, "webhook body too large", "limit", h.maxBody)
			h.report(EventRefusedTooLarge, 1)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.log.WarnContext(ctx, "webhook body unreadable", "error", err)
		h.report(EventRefusedUnreadable, 1)
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if !hmac.Equal(claimed, sum.Sum(nil)) {
		h.log.WarnContext(ctx, "webhook signature refused", "has_signature", r.Header.Get(SignatureHeader) != "", "bytes", len(body))
		h.report(EventRefusedSignature, 1)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	d, err := decode(body, h.phoneID)
	if err != nil {
		// Signed by Meta yet unreadable: a 400 makes Meta retry for a while,
		// which is what a change in payload format deserves until fixed.
		h.log.ErrorContext(ctx, "webhook payload unreadable", "error", err, "bytes", len(body))
		h.report(EventRefusedBadJSON, 1)
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return
	}

	// Meta's time is when the client sent; receipt time is the next best.
	now := h.now().UTC()
	// The arguments of a debug line cost a masked copy of the number per
	// message even when the line is dropped; a burst is no time for that.
	debug := h.log.Enabled(ctx, slog.LevelDebug)
	for i := range d.Messages {
		if d.Messages[i].At.IsZero() {
			d.Messages[i].At = now
		}
		if debug {
			m := d.Messages[i]
			h.log.DebugContext(ctx, "webhook message", "client", bot.MaskPhone(m.Sender()), "wa_message_id", m.ID, "kind", kind(m))
		}
	}
	// Security events go to the inbox with the messages: handling one may
	// call Meta, which the webhook must not wait for.
	for _, ev := range d.Security {
		h.log.InfoContext(ctx, "security webhook", "phone", bot.MaskPhone(ev.DisplayPhone), "event", ev.Event)
		if in, ok := ev.Inbound(now); ok {
			d.Messages = append(d.Messages, in)
		} else {
			d.Ignored++
		}
	}
	fresh := 0
	if len(d.Messages) > 0 {
		fresh, err = h.sink.Enqueue(ctx, d.Messages)
		if err != nil {
			h.log.ErrorContext(ctx, "webhook enqueue failed; Meta will deliver again", "messages", len(d.Messages), "error", err)
			h.report(EventRefusedStoreError, 1)
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
	}
	// Statuses are mostly advice, and a failure to record one is logged,
	// not turned into a 5xx that would make Meta redeliver (and, if it
	// persisted, disable) the whole subscription. A status naming one of
	// the bot's outbox rows is more: it may settle a reply whose send was
	// cut off, which is otherwise sent again after a grace period. So when
	// such a status cannot be recorded, the answer is a 500 and Meta
	// delivers it again (the messages it came with are in the inbox
	// already; their redelivery is dropped there).
	retry := false
	for _, st := range d.Statuses {
		err := h.sink.OutboundStatus(ctx, bot.Receipt{MetaID: st.MetaID, Status: st.Status, Detail: st.Detail,
			Recipient: st.Recipient, Ref: st.CallbackData})
		_, _, _, ours := bot.ParseOutboundRef(st.CallbackData)
		switch {
		case err == nil:
		case errors.Is(err, bot.ErrNotFound):
			// A status for a message sent by another system on this number,
			// or for a row already gone.
			h.log.DebugContext(ctx, "status for an unknown message", "wa_message_id", st.MetaID, "status", st.Status)
		case ours:
			h.log.ErrorContext(ctx, "record message status failed; Meta will deliver it again", "wa_message_id", st.MetaID,
				"status", st.Status, "error", err)
			retry = true
		default:
			h.log.WarnContext(ctx, "record message status", "wa_message_id", st.MetaID, "status", st.Status, "error", err)
		}
	}
	if retry {
		h.report(EventRefusedStoreError, 1)
		if fresh > 0 {
			h.sink.Notify()
		}
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	// Errors Meta reports on its own are advice for agents and operators,
	// never worth a redelivery.
	for _, e := range d.Errors {
		h.log.WarnContext(ctx, "Meta reported an error in a webhook", "client", bot.MaskPhone(e.Client), "error", e.String())
		if e.Client == "" {
			continue
		}
		if err := h.sink.MetaError(ctx, e.Client, "Meta reported an error: "+e.String()); err != nil && !errors.Is(err, bot.ErrNotFound) {
			h.log.WarnContext(ctx, "attach Meta's error to the case", "client", bot.MaskPhone(e.Client), "error", err)
		}
	}
	if len(d.Errors) > 0 {
		h.report(EventMetaErrors, len(d.Errors))
	}
	if d.Ignored > 0 {
		h.report(EventIgnored, d.Ignored)
	}
	if debug {
		h.log.DebugContext(ctx, "webhook delivery", "messages", len(d.Messages), "new", fresh,
			"statuses", len(d.Statuses), "security", len(d.Security), "ignored", d.Ignored)
	}
	w.WriteHeader(http.StatusOK)
	h.report(EventReceived, 1)
	h.report(EventMessages, len(d.Messages))
	h.report(EventDuplicates, len(d.Messages)-fresh)
	if fresh > 0 {
		h.sink.Notify()
	}
}

// kind names a message for the log without its content.
func kind(m bot.Inbound) string {
	switch {
	case m.Moved != nil:
		return "system"
	case m.Unsupported != "":
		return m.Unsupported
	case m.Choice != "":
		return "choice"
	default:
		return "text"
	}
}
