package metasim_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/internal/eventually"
)

const (
	botPhoneID   = "109876543210"
	appSecret    = "metasim-test-app-secret"
	clientNumber = "+5511977776666"
)

// app is the receiving end of the status webhooks: the real whatsapp
// webhook handler, recording what reaches the store.
type app struct {
	mu       sync.Mutex
	receipts []bot.Receipt
	inbound  []bot.Inbound
	errors   []string // "client text" of the errors put on a case
	// refuse makes the first refuse deliveries answer 500, as an app that
	// is down or restarting does.
	refuse  int
	arrived int
	block   chan struct{} // when set, deliveries wait for it to close
}

func (a *app) Enqueue(_ context.Context, msgs []bot.Inbound) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inbound = append(a.inbound, msgs...)
	return len(msgs), nil
}

func (a *app) OutboundStatus(_ context.Context, r bot.Receipt) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.receipts = append(a.receipts, r)
	return nil
}

func (a *app) Security(context.Context, string, string) error { return nil }
func (a *app) MetaError(_ context.Context, client, text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errors = append(a.errors, client+" "+text)
	return nil
}
func (a *app) Notify() {}

func (a *app) got() []bot.Receipt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]bot.Receipt(nil), a.receipts...)
}

// serve starts the app; the handler refuses the first a.refuse deliveries.
func (a *app) serve(t *testing.T) string {
	t.Helper()
	hook := whatsapp.NewWebhook(whatsapp.WebhookConfig{AppSecret: appSecret, PhoneNumberID: botPhoneID}, a, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.arrived++
		refuse := a.arrived <= a.refuse
		block := a.block
		a.mu.Unlock()
		if block != nil {
			<-block
		}
		if refuse {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		hook.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/whatsapp"
}

// faultEnv is a simulator with a webhook to an app, behind the real Graph
// client and sender, both with a short timeout.
type faultEnv struct {
	*env
	sender *whatsapp.Sender
	app    *app
}

const clientTimeout = 300 * time.Millisecond

func startFaults(t *testing.T, a *app) *faultEnv {
	t.Helper()
	e := &env{phone: &phone{}, clock: &clock{t: time.Now()}, logs: &logBuffer{}}
	opts := metasim.Options{Token: token, Deliver: e.phone.deliver, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if a != nil {
		opts.Webhook = &metasim.Webhook{URL: a.serve(t), AppSecret: appSecret, Retry: 10 * time.Millisecond,
			MaxRetry: 50 * time.Millisecond}
	}
	sim, err := metasim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e.sim, e.url = sim, srv.URL
	e.g = graph.New(graph.Config{BaseURL: srv.URL, Token: token, Timeout: clientTimeout,
		RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond})
	s := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: srv.URL, Token: token, PhoneNumberID: botPhoneID,
		Timeout: clientTimeout})
	return &faultEnv{env: e, sender: s, app: a}
}

// noAnswer fails the test unless err is a call that got no answer from
// Meta: unavailable, and no error from Meta in it.
func noAnswer(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("%s = %v, want ErrUnavailable", what, err)
	}
	if ge, ok := errors.AsType[*bot.GraphError](err); ok {
		t.Fatalf("%s = %v: Meta answered (%+v), want no answer", what, err, ge)
	}
}

func TestStatusWebhooksEchoCallbackData(t *testing.T) {
	a := &app{refuse: 3}
	e := startFaults(t, a)
	row := bot.Outbound{ID: "000000000000002a", To: strings.TrimPrefix(clientNumber, "+"), Reply: bot.Reply{Text: "hello"}}
	res, err := e.sender.Send(t.Context(), row)
	if err != nil {
		t.Fatal(err)
	}
	// The app refused the first posts; the simulator kept trying.
	eventually.True(t, "sent and delivered", func() bool { return len(a.got()) == 2 && e.sim.PendingStatuses() == 0 })
	ref := bot.OutboundRef(row.ID, 1, 1)
	for i, want := range []string{"sent", "delivered"} {
		got := a.got()[i]
		if got.MetaID != res.MetaID || got.Status != want || got.Ref != ref || got.Recipient != row.To {
			t.Errorf("status %d = %+v, want %s of %s for %s with ref %s", i, got, want, res.MetaID, row.To, ref)
		}
	}
	if sent := e.sim.Sent(); len(sent) != 1 || sent[0].CallbackData != ref {
		t.Errorf("Sent() = %+v, want one message with callback data %s", sent, ref)
	}
}

// The app's webhook handler hangs until the test ends: a send whose
// answer waited for its status webhook would never be answered, and the
// sender's timeout would fail it.
func TestStatusWebhooksNeverHoldUpTheAnswer(t *testing.T) {
	a := &app{block: make(chan struct{})}
	e := startFaults(t, a)
	defer close(a.block)
	for i := range 10 {
		if _, err := e.sender.Send(t.Context(), bot.Outbound{ID: "000000000000000" + string(rune('0'+i)),
			To: clientNumber, Reply: bot.Reply{Text: "hi"}}); err != nil {
			t.Fatalf("send %d while the app hangs: %v: the answer waited for the webhook", i, err)
		}
	}
	if n := e.sim.PendingStatuses(); n != 10 {
		t.Errorf("PendingStatuses() = %d, want 10", n)
	}
}

func TestFaults(t *testing.T) {
	add := func(t *testing.T, e *faultEnv, number string) string {
		t.Helper()
		return e.add(t, number)
	}
	tests := []struct {
		name  string
		fault metasim.Fault
		check func(t *testing.T, e *faultEnv)
	}{
		{"5xx on request_code", metasim.Fault{Kind: metasim.FaultServerError, Endpoint: metasim.EndpointRequestCode, Status: 503},
			func(t *testing.T, e *faultEnv) {
				id := add(t, e, clientNumber)
				err := e.g.RequestCode(t.Context(), id, "SMS", bot.English)
				ge := graphErr(t, err)
				if ge.HTTPStatus != 503 || ge.Code != 2 || !ge.Transient || !errors.Is(err, bot.ErrUnavailable) {
					t.Errorf("RequestCode = %v (%+v), want 503, code 2, transient, unavailable", err, ge)
				}
				if got := e.phone.received(clientNumber); len(got) != 0 {
					t.Errorf("a refused request_code sent %d codes", len(got))
				}
				if got := e.sim.Calls(metasim.EndpointRequestCode, clientNumber); got != 1 {
					t.Errorf("Calls(request_code) = %d, want 1: request_code is never repeated by the client", got)
				}
			}},
		{"one 5xx on verify_code", metasim.Fault{Kind: metasim.FaultServerError, Endpoint: metasim.EndpointVerifyCode, Times: 1},
			func(t *testing.T, e *faultEnv) {
				id := add(t, e, clientNumber)
				if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
					t.Fatal(err)
				}
				if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, clientNumber)); err != nil {
					t.Errorf("VerifyCode should ride over one 500: %v", err)
				}
				if got := e.sim.Calls(metasim.EndpointVerifyCode, clientNumber); got != 2 {
					t.Errorf("Calls(verify_code) = %d, want 2", got)
				}
			}},
		{"429 on messages", metasim.Fault{Kind: metasim.FaultRateLimit, Endpoint: metasim.EndpointMessages, RetryAfter: 3 * time.Second},
			func(t *testing.T, e *faultEnv) {
				_, err := e.sender.Send(t.Context(), bot.Outbound{To: clientNumber, Reply: bot.Reply{Text: "hi"}})
				ge := graphErr(t, err)
				if ge.HTTPStatus != 429 || ge.Code != 130429 || ge.RetryAfter != 3*time.Second || !errors.Is(err, bot.ErrUnavailable) {
					t.Errorf("Send = %v (%+v), want 429, code 130429, Retry-After 3s, unavailable", err, ge)
				}
				if got := e.sim.Sent(); len(got) != 0 {
					t.Errorf("a rate-limited message was recorded: %+v", got)
				}
			}},
		{"429 on request_code", metasim.Fault{Kind: metasim.FaultRateLimit, Endpoint: metasim.EndpointRequestCode, Times: 1},
			func(t *testing.T, e *faultEnv) {
				id := add(t, e, clientNumber)
				ge := graphErr(t, e.g.RequestCode(t.Context(), id, "SMS", bot.English))
				if ge.HTTPStatus != 429 || ge.Code != 80007 || ge.RetryAfter != time.Second {
					t.Errorf("RequestCode = %+v, want 429, code 80007, Retry-After 1s", ge)
				}
				if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
					t.Errorf("second RequestCode: %v", err)
				}
				if got := len(e.phone.received(clientNumber)); got != 1 {
					t.Errorf("%d codes sent, want 1", got)
				}
			}},
		{"timeout on request_code", metasim.Fault{Kind: metasim.FaultTimeout, Endpoint: metasim.EndpointRequestCode, Delay: 3 * time.Second},
			func(t *testing.T, e *faultEnv) {
				id := add(t, e, clientNumber)
				// Meta answers after 3 s: no answer means the client's
				// timeout ended the call first.
				noAnswer(t, "RequestCode", e.g.RequestCode(t.Context(), id, "SMS", bot.English))
				// Meta acted: the SMS is out, and verifies.
				if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, clientNumber)); err != nil {
					t.Errorf("VerifyCode: %v", err)
				}
			}},
		{"slow response on register", metasim.Fault{Kind: metasim.FaultSlow, Endpoint: metasim.EndpointRegister, Delay: 3 * time.Second},
			func(t *testing.T, e *faultEnv) {
				id := e.verified(t, clientNumber)
				noAnswer(t, "Register", e.g.Register(t.Context(), id, "150954"))
				if got := e.sim.Calls(metasim.EndpointRegister, clientNumber); got != 1 {
					t.Errorf("Calls(register) = %d, want 1: register is never repeated by the client", got)
				}
				// A status check tells the truth: registered.
				pn, err := e.g.PhoneNumber(t.Context(), id)
				if err != nil || pn.Status != "CONNECTED" {
					t.Errorf("PhoneNumber = %+v, %v; want CONNECTED", pn, err)
				}
			}},
		{"reset after request_code", metasim.Fault{Kind: metasim.FaultReset, Endpoint: metasim.EndpointRequestCode, Phone: clientNumber},
			func(t *testing.T, e *faultEnv) {
				id := add(t, e, clientNumber)
				err := e.g.RequestCode(t.Context(), id, "SMS", bot.English)
				noAnswer(t, "RequestCode", err)
				if got := len(e.phone.received(clientNumber)); got != 1 {
					t.Errorf("%d codes sent, want 1: the request was received and done", got)
				}
				// Another number is not affected.
				other := add(t, e, "+5511977775555")
				if err := e.g.RequestCode(t.Context(), other, "SMS", bot.English); err != nil {
					t.Errorf("RequestCode for another number: %v", err)
				}
			}},
		{"reset on a status check", metasim.Fault{Kind: metasim.FaultReset, Endpoint: metasim.EndpointPhoneNumber, Times: 2},
			func(t *testing.T, e *faultEnv) {
				id := add(t, e, clientNumber)
				if _, err := e.g.PhoneNumber(t.Context(), id); err != nil {
					t.Errorf("PhoneNumber should ride over two resets (it is safe to repeat): %v", err)
				}
				if got := e.sim.Calls(metasim.EndpointPhoneNumber, clientNumber); got != 3 {
					t.Errorf("Calls(phone_number) = %d, want 3", got)
				}
			}},
		{"message dropped", metasim.Fault{Kind: metasim.FaultDrop, Endpoint: metasim.EndpointMessages, Times: 1},
			func(t *testing.T, e *faultEnv) {
				_, err := e.sender.Send(t.Context(), bot.Outbound{ID: "0000000000000001", To: clientNumber, Reply: bot.Reply{Text: "hi"}})
				noAnswer(t, "Send", err)
				// The hang-up is the simulator's answer, given once it has
				// decided to keep nothing; statuses are only queued for a
				// message it keeps. So nothing can come after this point.
				if got := e.sim.Sent(); len(got) != 0 {
					t.Errorf("a dropped message was recorded: %+v", got)
				}
				if got := e.app.got(); len(got) != 0 {
					t.Errorf("a dropped message had statuses: %+v", got)
				}
			}},
	}
	for _, kind := range []metasim.FaultKind{metasim.FaultReset, metasim.FaultTimeout, metasim.FaultSlow} {
		tests = append(tests, struct {
			name  string
			fault metasim.Fault
			check func(t *testing.T, e *faultEnv)
		}{kind.String() + " after a message was accepted", metasim.Fault{Kind: kind, Endpoint: metasim.EndpointMessages, Delay: 3 * time.Second},
			func(t *testing.T, e *faultEnv) {
				row := bot.Outbound{ID: "0000000000000002", To: clientNumber, Reply: bot.Reply{Text: "hi"}}
				res, err := e.sender.Send(t.Context(), row)
				noAnswer(t, "Send", err)
				if res.Parts != 0 || res.MetaID != "" {
					t.Errorf("Send result = %+v, want nothing known to be accepted", res)
				}
				// Meta has the message, and its status names the row.
				eventually.True(t, "the statuses", func() bool { return len(e.app.got()) == 2 })
				sent := e.sim.Sent()
				if len(sent) != 1 {
					t.Fatalf("Sent() = %+v, want the one message", sent)
				}
				for _, r := range e.app.got() {
					if r.MetaID != sent[0].ID || r.Ref != bot.OutboundRef(row.ID, 1, 1) {
						t.Errorf("status %+v does not name message %s of row %s", r, sent[0].ID, row.ID)
					}
				}
			}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startFaults(t, &app{})
			e.sim.Inject(tc.fault)
			tc.check(t, e)
		})
	}
}

func TestClearFaults(t *testing.T) {
	e := startFaults(t, nil)
	e.sim.Inject(metasim.Fault{Kind: metasim.FaultServerError})
	if _, err := e.sender.Send(t.Context(), bot.Outbound{To: clientNumber, Reply: bot.Reply{Text: "hi"}}); err == nil {
		t.Fatal("Send succeeded with every request failing")
	}
	e.sim.ClearFaults()
	if _, err := e.sender.Send(t.Context(), bot.Outbound{To: clientNumber, Reply: bot.Reply{Text: "hi"}}); err != nil {
		t.Errorf("Send after ClearFaults: %v", err)
	}
}
