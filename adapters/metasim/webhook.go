package metasim

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook is the app's callback URL, to which the simulator posts status
// webhooks as Meta does: "sent", then "delivered", for every message the
// messages endpoint accepted, each with the message's
// biz_opaque_callback_data echoed.
//
// Like Meta, it keeps posting a status until the app answers 200: Meta
// retries for days, the simulator for as long as it runs (until Close). The
// posts come from goroutines of their own, so a slow or dead app never holds
// up the messages endpoint's answer.
type Webhook struct {
	// URL receives the POSTs, e.g. http://127.0.0.1:8080/webhooks/whatsapp.
	URL string
	// AppSecret signs every body (X-Hub-Signature-256), as Meta signs with
	// the app secret.
	AppSecret string
	// Retry is the wait before a status the app did not take is posted
	// again; it doubles per attempt up to MaxRetry. Defaults: 100 ms, 2 s.
	Retry    time.Duration
	MaxRetry time.Duration
	// Client makes the POSTs; one with a 10-second timeout when nil.
	Client *http.Client
	// Workers is how many statuses are posted at once (default 4). Meta
	// posts many at once; a test of several replicas needs more than one
	// process takes.
	Workers int
}

// webhookWorkers is how many statuses are posted at once by default.
const webhookWorkers = 4

// statusEvent is one status waiting to be posted, or, with body set, any
// other webhook (a system message, errors).
type statusEvent struct {
	phoneID string // the business number that sent the message
	msg     Message
	status  string
	body    []byte
}

// hooks posts statuses to the app in the background.
type hooks struct {
	cfg  Webhook
	now  func() time.Time
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []statusEvent
	busy    int // statuses taken by a worker and not yet accepted
	closed  bool
	posted  int // statuses the app accepted
	refused int // posts that failed or were not answered 200
}

func startHooks(cfg Webhook, now func() time.Time) *hooks {
	if cfg.Retry <= 0 {
		cfg.Retry = 100 * time.Millisecond
	}
	if cfg.MaxRetry < cfg.Retry {
		cfg.MaxRetry = max(2*time.Second, cfg.Retry)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = webhookWorkers
	}
	h := &hooks{cfg: cfg, now: now, stop: make(chan struct{})}
	h.cond = sync.NewCond(&h.mu)
	for range cfg.Workers {
		h.wg.Go(h.work)
	}
	return h
}

// push queues a status; it never blocks on the app.
func (h *hooks) push(ev statusEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.queue = append(h.queue, ev)
	h.cond.Signal()
}

func (h *hooks) close() {
	h.mu.Lock()
	h.closed = true
	h.cond.Broadcast()
	h.mu.Unlock()
	close(h.stop)
	h.wg.Wait()
}

// pending counts statuses the app has not accepted yet.
func (h *hooks) pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queue) + h.busy
}

func (h *hooks) work() {
	for {
		h.mu.Lock()
		for len(h.queue) == 0 && !h.closed {
			h.cond.Wait()
		}
		if h.closed {
			h.mu.Unlock()
			return
		}
		ev := h.queue[0]
		h.queue = h.queue[1:]
		h.busy++
		h.mu.Unlock()

		ok := h.deliver(ev)
		h.mu.Lock()
		h.busy--
		if ok {
			h.posted++
			if ev.status == "sent" && !h.closed {
				// Meta reports delivery after the send, never before.
				ev.status = "delivered"
				h.queue = append(h.queue, ev)
				h.cond.Signal()
			}
		}
		h.mu.Unlock()
	}
}

// deliver posts ev until the app answers 200, or the simulator closes.
func (h *hooks) deliver(ev statusEvent) bool {
	body := ev.body
	if body == nil {
		body = statusPayload(ev, h.now())
	}
	wait := h.cfg.Retry
	for {
		if err := h.post(body); err == nil {
			return true
		}
		h.mu.Lock()
		h.refused++
		h.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-h.stop:
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, h.cfg.MaxRetry)
	}
}

func (h *hooks) post(body []byte) error {
	req, err := http.NewRequest(http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", sign(h.cfg.AppSecret, body))
	resp, err := h.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// sign is Meta's X-Hub-Signature-256 value for body.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// change wraps value as the one change of a "messages" webhook.
func change(phoneID string, value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"phone_number_id": phoneID}
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      SandboxWABA,
			"changes": []any{map[string]any{"field": "messages", "value": value}},
		}},
	})
	if err != nil {
		panic("metasim: webhook payload: " + err.Error()) // maps of strings always marshal
	}
	return b
}

// ErrNoWebhook is returned by the methods that play a webhook when the
// simulator has no Options.Webhook to post it to.
var ErrNoWebhook = errors.New("metasim: no webhook configured")

// ChangeNumber plays a user who changed their number: Meta posts a system
// message from their old number and BSUID, naming the new number and the
// new BSUID a number change brings (Meta: webhooks/reference/messages/system).
// phoneID is the business number the user wrote to.
func (s *Sim) ChangeNumber(phoneID, oldPhone, oldUserID, newPhone, newUserID string) error {
	old, nw := strings.TrimPrefix(oldPhone, "+"), strings.TrimPrefix(newPhone, "+")
	sys := map[string]any{"type": "user_changed_number", "wa_id": nw, "body": "User changed from " + old + " to " + nw}
	if newUserID != "" {
		sys["user_id"] = newUserID
	}
	if oldUserID != "" {
		sys["previous_user_id"] = oldUserID
	}
	return s.post(phoneID, map[string]any{"messages": []any{map[string]any{
		"from": old, "id": "wamid." + rand.Text(), "timestamp": strconv.FormatInt(s.now().Unix(), 10),
		"type": "system", "system": sys,
	}}})
}

// ReportError plays an error Meta reports on its own, in value.errors.
func (s *Sim) ReportError(phoneID string, code int, title, details string) error {
	return s.post(phoneID, map[string]any{"errors": []any{map[string]any{
		"code": code, "title": title, "message": title, "error_data": map[string]string{"details": details},
	}}})
}

func (s *Sim) post(phoneID string, value map[string]any) error {
	if s.hooks == nil {
		return ErrNoWebhook
	}
	s.hooks.push(statusEvent{phoneID: phoneID, body: change(phoneID, value)})
	return nil
}

// statusPayload is the body Meta posts for one status (field "messages",
// value.statuses[]).
func statusPayload(ev statusEvent, now time.Time) []byte {
	st := map[string]any{
		"id":           ev.msg.ID,
		"status":       ev.status,
		"timestamp":    strconv.FormatInt(now.Unix(), 10),
		"recipient_id": strings.TrimPrefix(ev.msg.To, "+"),
		"pricing": map[string]any{"billable": false, "pricing_model": "PMP", "type": "free_customer_service",
			"category": "service"},
	}
	if ev.msg.CallbackData != "" {
		st["biz_opaque_callback_data"] = ev.msg.CallbackData
	}
	if !strings.HasPrefix(ev.msg.To, "+") {
		// A message sent to a BSUID: Meta reports the recipient by it.
		delete(st, "recipient_id")
		st["recipient_user_id"] = ev.msg.To
	}
	if ev.status == "failed" && ev.msg.Error != "" {
		code, title, _ := strings.Cut(ev.msg.Error, ": ")
		st["errors"] = []any{map[string]any{"code": code, "title": title, "message": title,
			"error_data": map[string]string{"details": title}}}
	}
	n := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": SandboxWABA,
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]string{"phone_number_id": ev.phoneID},
					"statuses":          []any{st},
				},
			}},
		}},
	}
	b, err := json.Marshal(n)
	if err != nil {
		panic("metasim: status payload: " + err.Error()) // maps of strings always marshal
	}
	return b
}
