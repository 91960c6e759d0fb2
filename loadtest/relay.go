package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portabot/adapters/metahttp"
	"portabot/adapters/whatsapp"
)

// RelaySenders is how many sends the relay has in flight at most: serve's
// dispatcher sends to 32 clients at once, and the relay must not win by
// waiting on the Graph with more.
const RelaySenders = 32

// RelayAnswer is the text of every reply: close to the size of a FAQ
// answer, so a reply costs the Graph what one of serve's costs.
const RelayAnswer = "Portability moves your WhatsApp Business number from the provider where it is live " +
	"today to us. Your number stays exactly the same, in a new WhatsApp Business Account that we " +
	"prepare for you.\n\nThe process is Meta's; we only carry it out. Until the number is registered " +
	"with us, everything keeps working as it does now."

// Relay sends are retried only while the Graph looks briefly unavailable,
// so that a hiccup does not turn into an unanswered message; anything
// else is logged and counted, since the relay stores nothing to retry from
// later.
const (
	relayAttempts = 3
	relayBackoff  = 50 * time.Millisecond
	relayTimeout  = 20 * time.Second // serve's per-call timeout
)

// RelayConfig says where the relay sends, as serve's environment does.
type RelayConfig struct {
	Secret string
	// GraphURL is Graph's origin (metahttp.DefaultBaseURL when empty),
	// Version the API version in the path (metahttp.DefaultVersion when
	// empty).
	GraphURL      string
	Version       string
	Token         string
	PhoneNumberID string
	// Log receives failed sends; nothing when nil.
	Log *slog.Logger
}

// RelayStats counts what the relay did with the messages it took.
type RelayStats struct {
	Queued   int64 // messages acknowledged and put on the queue
	Receipts int64 // read receipts the Graph took
	Replies  int64 // replies the Graph took
	Retries  int64 // calls made again after a transient failure
	Failed   int64 // calls given up
	// Dropped counts calls cut off or never made because the relay
	// closed: two for each message still queued.
	Dropped int64
}

// relayJob is one acknowledged message waiting for its answer.
type relayJob struct{ id, from string }

// RelayServer is the relay: the ceiling, then for every message the HTTP
// work serve does to answer it, from a pool of RelaySenders goroutines.
type RelayServer struct {
	key    []byte
	url    string
	auth   string
	client *http.Client
	tr     *http.Transport
	log    *slog.Logger

	// The queue is a slice rather than a channel so that no burst can
	// make the webhook handler wait: the ceiling does not wait either.
	mu     sync.Mutex
	queue  []relayJob // waiting from head on
	head   int
	closed bool
	wake   chan struct{}
	stop   chan struct{} // closed by Close

	ctx     context.Context
	cancel  context.CancelFunc
	senders sync.WaitGroup

	queued, receipts, replies, retries, failed, dropped atomic.Int64
	loggedFailure                                       atomic.Bool
}

// NewRelay starts the relay's senders; Close stops them.
func NewRelay(cfg RelayConfig) (*RelayServer, error) {
	if cfg.Token == "" || cfg.PhoneNumberID == "" {
		return nil, errors.New("relay: needs an access token and a phone number id")
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = metahttp.DefaultBaseURL
	}
	if cfg.Version == "" {
		cfg.Version = metahttp.DefaultVersion
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	// Built as serve builds its client for Meta: Go's default keeps two
	// idle connections per host, and 32 senders would otherwise open a new
	// connection for almost every call.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * RelaySenders
	tr.MaxIdleConnsPerHost = 2 * RelaySenders
	ctx, cancel := context.WithCancel(context.Background())
	r := &RelayServer{
		key: []byte(cfg.Secret),
		// The path serve's sender posts to.
		url:    strings.TrimRight(cfg.GraphURL, "/") + whatsapp.MessagesPath(cfg.Version, cfg.PhoneNumberID),
		auth:   "Bearer " + cfg.Token,
		client: &http.Client{Transport: tr, Timeout: relayTimeout},
		tr:     tr,
		log:    cfg.Log,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		ctx:    ctx,
		cancel: cancel,
	}
	for range RelaySenders {
		r.senders.Go(r.send)
	}
	return r, nil
}

// ServeHTTP acknowledges a webhook as the ceiling does and queues its
// messages to be answered after the 200.
func (r *RelayServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	d, _, ok := receive(r.key, w, req)
	if !ok {
		return
	}
	if len(d.Messages) > 0 {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			// No sender is left to answer: Meta must deliver it again.
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		for _, m := range d.Messages {
			r.queue = append(r.queue, relayJob{id: m.ID, from: m.From})
		}
		r.mu.Unlock()
		r.queued.Add(int64(len(d.Messages)))
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	w.WriteHeader(http.StatusOK)
}

// next takes the oldest queued message, waiting for one; false once the
// relay is closing.
func (r *RelayServer) next() (relayJob, bool) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return relayJob{}, false
		}
		if r.head < len(r.queue) {
			j := r.queue[r.head]
			r.head++
			more := r.head < len(r.queue)
			if !more {
				// Drained: start again at the front of the same array.
				r.queue, r.head = r.queue[:0], 0
			}
			r.mu.Unlock()
			if more {
				// Pass the wake-up on: one signal may stand for many
				// messages.
				select {
				case r.wake <- struct{}{}:
				default:
				}
			}
			return j, true
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-r.stop:
		}
	}
}

// send is one of the senders: receipt first, then the reply, as serve's
// dispatcher does. A receipt that fails does not hold the reply back.
func (r *RelayServer) send() {
	for {
		j, ok := r.next()
		if !ok {
			return
		}
		receipt, _ := json.Marshal(relayReceipt{MessagingProduct: "whatsapp", Status: "read", MessageID: j.id})
		if r.post("read", receipt) {
			r.receipts.Add(1)
		}
		// "+" and digits: the form serve's sender puts in "to".
		reply, _ := json.Marshal(relayReply{MessagingProduct: "whatsapp", RecipientType: "individual",
			To: "+" + strings.TrimPrefix(j.from, "+"), Type: "text", Text: relayText{Body: RelayAnswer}})
		if r.post("messages", reply) {
			r.replies.Add(1)
		}
	}
}

type relayReceipt struct {
	MessagingProduct string `json:"messaging_product"`
	Status           string `json:"status"`
	MessageID        string `json:"message_id"`
}

type relayReply struct {
	MessagingProduct string    `json:"messaging_product"`
	RecipientType    string    `json:"recipient_type"`
	To               string    `json:"to"`
	Type             string    `json:"type"`
	Text             relayText `json:"text"`
}

type relayText struct {
	Body string `json:"body"`
}

// post makes one call, again while the failure is transient, and reports
// whether the Graph took it.
func (r *RelayServer) post(what string, body []byte) bool {
	var err error
	for attempt := 1; ; attempt++ {
		var transient bool
		transient, err = r.call(body)
		if err == nil {
			return true
		}
		if !transient || attempt == relayAttempts || r.ctx.Err() != nil {
			break
		}
		r.retries.Add(1)
		select {
		case <-time.After(time.Duration(attempt) * relayBackoff):
		case <-r.ctx.Done():
		}
	}
	if r.ctx.Err() != nil {
		// Cut off by Close, not refused by the Graph.
		r.dropped.Add(1)
		return false
	}
	r.failed.Add(1)
	// One line, not one per message: a Graph that is down would bury the
	// log under identical failures; Close reports the count.
	if r.loggedFailure.CompareAndSwap(false, true) {
		r.log.Warn("relay: a send failed; later failures are only counted", "call", what, "error", err)
	}
	return false
}

// call posts body once. transient is set when the Graph could not be
// reached or answered 429 or 5xx, the failures serve retries.
func (r *RelayServer) call(body []byte) (transient bool, err error) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", r.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return true, err
	}
	// Read to the end, or the connection cannot go back to the pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if st := resp.StatusCode; st < 200 || st > 299 {
		return st == http.StatusTooManyRequests || st >= 500, fmt.Errorf("graph answered %s", resp.Status)
	}
	return false, nil
}

// Stats returns the relay's counts so far.
func (r *RelayServer) Stats() RelayStats {
	return RelayStats{Queued: r.queued.Load(), Receipts: r.receipts.Load(), Replies: r.replies.Load(),
		Retries: r.retries.Load(), Failed: r.failed.Load(), Dropped: r.dropped.Load()}
}

// closeGrace bounds how long Close lets the calls in flight finish.
const closeGrace = 5 * time.Second

// Close stops the senders: messages still queued are abandoned, calls in
// flight get closeGrace to finish and are then cut off. Webhooks with
// messages are refused from then on. It logs what was not sent.
func (r *RelayServer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	left := len(r.queue) - r.head
	r.queue, r.head = nil, 0
	r.mu.Unlock()
	r.dropped.Add(2 * int64(left))
	close(r.stop)
	done := make(chan struct{})
	go func() {
		r.senders.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeGrace):
	}
	r.cancel()
	<-done
	r.tr.CloseIdleConnections()
	if s := r.Stats(); s.Failed > 0 || s.Dropped > 0 || s.Retries > 0 {
		r.log.Warn("relay: not everything went through", "messages", s.Queued, "receipts", s.Receipts,
			"replies", s.Replies, "retries", s.Retries, "failed", s.Failed, "dropped", s.Dropped)
	}
	return nil
}
