package loadtest

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// FakeGraph is the part of Meta's Graph API that serve uses to answer
// clients: POST /{version}/{phone-number-id}/messages. It answers every
// send at once with a fresh message id and every read receipt with
// success, and tells the current Tracker about both.
type FakeGraph struct {
	URL     string
	token   string
	phoneID string
	srv     *http.Server
	seq     atomic.Int64

	mu      sync.Mutex
	tracker *Tracker
	stray   GraphCounts
}

// GraphCounts counts what the fake Graph received outside any tracker.
type GraphCounts struct {
	Replies      int `json:"replies"`
	ReadReceipts int `json:"read_receipts"`
	// Other counts calls to endpoints other than messages, and messages
	// for a number the tool did not send from.
	Other        int `json:"other"`
	Unauthorized int `json:"unauthorized"`
}

// StartFakeGraph listens on a loopback port. Calls must carry token as a
// bearer token and be for the business number phoneID.
func StartFakeGraph(token, phoneID string) (*FakeGraph, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &FakeGraph{URL: "http://" + ln.Addr().String(), token: token, phoneID: phoneID}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{phone}/messages", g.messages)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.stray.Other++
		g.mu.Unlock()
		graphError(w, http.StatusNotFound, "unknown path")
	})
	g.srv = newServer(mux)
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

// Close stops the server.
func (g *FakeGraph) Close() error { return g.srv.Close() }

// Track makes t the tracker of what arrives from now on; nil stops
// tracking.
func (g *FakeGraph) Track(t *Tracker) {
	g.mu.Lock()
	g.tracker = t
	g.mu.Unlock()
}

// Stray returns the counts of calls no tracker took.
func (g *FakeGraph) Stray() GraphCounts {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stray
}

func graphError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":{"message":`+strconv.Quote(msg)+`,"type":"OAuthException","code":100}}`)
}

func (g *FakeGraph) messages(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		graphError(w, http.StatusBadRequest, "unreadable body")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		g.mu.Lock()
		g.stray.Unauthorized++
		g.mu.Unlock()
		graphError(w, http.StatusUnauthorized, "invalid access token")
		return
	}
	var m struct {
		To        string `json:"to"`
		Status    string `json:"status"`
		MessageID string `json:"message_id"`
	}
	if r.PathValue("phone") != g.phoneID || json.Unmarshal(body, &m) != nil {
		g.mu.Lock()
		g.stray.Other++
		g.mu.Unlock()
		graphError(w, http.StatusBadRequest, "unexpected message")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if m.Status == "read" {
		g.receipt(m.MessageID, now)
		_, _ = io.WriteString(w, `{"success":true}`)
		return
	}
	g.reply(m.To, body, now)
	_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":`+strconv.Quote(m.To)+
		`,"wa_id":`+strconv.Quote(m.To)+`}],"messages":[{"id":"wamid.`+strconv.FormatInt(g.seq.Add(1), 10)+`"}]}`)
}

func (g *FakeGraph) receipt(id string, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n, ok := ParseMessageID(id); ok && g.tracker != nil && g.tracker.receipt(n, at) {
		return
	}
	g.stray.ReadReceipts++
}

func (g *FakeGraph) reply(to string, body []byte, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n, ok := ParsePhone(to); ok && g.tracker != nil && g.tracker.reply(n, body, at) {
		return
	}
	g.stray.Replies++
}

// Tracker follows the replies to one run's messages. Replies carry no
// inbound id, so they are counted per client; read receipts do carry one,
// and serve sends one before the first reply to each message. A message
// counts as answered when it was read and its client has at least one
// reply for each message read: with one message per client that is
// exact.
type Tracker struct {
	msgs *Messages
	// first and last bound the ids of the run (IDBase+j).
	first, last int64

	clients map[int64]*clientCount // by client number, ClientBase included
	read    map[int64]bool         // by message number j
	seen    map[uint64]bool        // hash of client and reply body
	replies int
	reads   int

	// Set by Expect.
	expecting bool
	acked     map[int64]bool
	expected  int
	answered  int
	lastEvent time.Time // of any reply or receipt of the run
	doneAt    time.Time
	done      chan struct{}
}

type clientCount struct {
	sent    int // acknowledged messages
	read    int // of them, read
	replies int
	dup     bool
}

// NewTracker tracks the messages 0..n-1 of msgs (n 0 for no bound).
func NewTracker(msgs *Messages, n int) *Tracker {
	last := int64(-1)
	if n > 0 {
		last = int64(n) - 1
	}
	return &Tracker{msgs: msgs, first: msgs.IDBase, last: last, clients: map[int64]*clientCount{},
		read: map[int64]bool{}, seen: map[uint64]bool{}, done: make(chan struct{})}
}

func (t *Tracker) client(c int64) *clientCount {
	cc := t.clients[c]
	if cc == nil {
		cc = &clientCount{}
		t.clients[c] = cc
	}
	return cc
}

func (t *Tracker) mine(j int64) bool { return j >= 0 && (t.last < 0 || j <= t.last) }

// answeredOf is how many of a client's messages count as answered.
func answeredOf(c *clientCount) int { return min(c.sent, c.read, c.replies) }

// receipt records a read receipt for id number n; called under the fake
// Graph's lock. It reports whether n belongs to this run.
func (t *Tracker) receipt(n int64, at time.Time) bool {
	j := n - t.first
	if !t.mine(j) {
		return false
	}
	t.reads++
	t.lastEvent = at
	if t.read[j] {
		return true
	}
	t.read[j] = true
	if !t.expecting {
		return true
	}
	if !t.acked[j] {
		return true
	}
	c := t.client(t.msgs.ClientBase + t.msgs.ClientOf(j))
	before := answeredOf(c)
	c.read++
	t.progress(answeredOf(c)-before, at)
	return true
}

// reply records a reply to client number n.
func (t *Tracker) reply(n int64, body []byte, at time.Time) bool {
	rel := n - t.msgs.ClientBase
	if rel < 0 || (t.msgs.Clients > 0 && rel >= int64(t.msgs.Clients)) || (t.msgs.Clients <= 0 && !t.mine(rel)) {
		return false
	}
	t.replies++
	t.lastEvent = at
	c := t.client(n)
	h := fnv.New64a()
	h.Write(strconv.AppendInt(nil, n, 10))
	h.Write([]byte{0})
	h.Write(body)
	if k := h.Sum64(); t.seen[k] {
		c.dup = true
	} else {
		t.seen[k] = true
	}
	before := answeredOf(c)
	c.replies++
	if t.expecting {
		t.progress(answeredOf(c)-before, at)
	}
	return true
}

func (t *Tracker) progress(delta int, at time.Time) {
	if delta <= 0 {
		return
	}
	t.answered += delta
	if t.answered == t.expected && t.doneAt.IsZero() {
		t.doneAt = at
		close(t.done)
	}
}

// Expect tells the tracker which messages were acknowledged (their
// numbers j); from then on it knows when all of them are answered. g's
// lock guards the tracker's state.
func (g *FakeGraph) Expect(t *Tracker, acked []int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t.acked = make(map[int64]bool, len(acked))
	for _, j := range acked {
		t.acked[j] = true
		c := t.client(t.msgs.ClientBase + t.msgs.ClientOf(j))
		c.sent++
		if t.read[j] {
			c.read++
		}
	}
	t.expected = len(acked)
	for _, c := range t.clients {
		t.answered += answeredOf(c)
	}
	t.expecting = true
	if t.answered == t.expected {
		// Everything was answered before the last acknowledgement reached
		// the generator: done when the last reply or receipt arrived.
		t.doneAt = t.lastEvent
		close(t.done)
	}
}

// Done is closed once every acknowledged message is answered.
func (t *Tracker) Done() <-chan struct{} { return t.done }

// Outcome is what a tracker saw, read once the run is over.
type Outcome struct {
	Expected int
	Answered int
	// DoneAt is when the last acknowledged message got answered; zero if
	// some never were.
	DoneAt       time.Time
	Replies      int
	ReadReceipts int
	// Duplicates counts clients that got the same reply body twice.
	Duplicates int
	// ExtraReplies counts clients with more replies than messages: a reply
	// cut into several messages shows here too.
	ExtraReplies int
}

// Outcome returns the tracker's counts.
func (g *FakeGraph) Outcome(t *Tracker) Outcome {
	g.mu.Lock()
	defer g.mu.Unlock()
	o := Outcome{Expected: t.expected, Answered: t.answered, DoneAt: t.doneAt, Replies: t.replies, ReadReceipts: t.reads}
	for _, c := range t.clients {
		if c.dup {
			o.Duplicates++
		}
		if c.replies > c.sent {
			o.ExtraReplies++
		}
	}
	return o
}
