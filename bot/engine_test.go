package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/fsm"
)

// addNumber drives a conversation for h's number through the checks and
// the phone step, to the point where Meta is asked to add the number.
func (h *harness) addNumber() []bot.Reply {
	h.t.Helper()
	h.driveTo(fsm.AskPhone)
	h.send(h.opts.typed)
	return h.send(metasim.SandboxSourceWABA)
}

// finish goes from choose_method to done.
func (h *harness) finish() []bot.Reply {
	h.t.Helper()
	h.wantState(fsm.ChooseMethod)
	h.tap("sms")
	h.wantState(fsm.AwaitCode)
	h.send(otp)
	h.wantState(fsm.AskPin)
	h.send(pin)
	r := h.send(pin)
	h.wantState(fsm.Done)
	return r
}

func TestMetaFailureScenarios(t *testing.T) {
	// Every scenario the simulator knows must have its test here.
	tests := map[string]func(t *testing.T, h *harness){
		metasim.TwoStepOn: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Blocked)
			says(t, r, "two-step verification is still *on*", "ask them to turn it off", "WhatsApp Manager", "send *done*")
			c := h.kase()
			if c.Blocked != bot.Check2FA || c.TraceID == "" {
				t.Errorf("case blocked on %q with trace id %q, want 2fa and Meta's fbtrace_id", c.Blocked, c.TraceID)
			}
			r = h.send("done")
			h.wantState(fsm.Check2FA)
			says(t, r, "Check 2/4")
			// Still on at Meta: the bot tries again and explains again.
			r = h.send("yes")
			h.wantState(fsm.Blocked)
			says(t, r, "two-step verification is still *on*")
			if got := h.calls(metasim.EndpointAddNumber); got != 2 {
				t.Errorf("number added %d times, want 2", got)
			}
		},
		metasim.TwoStepOffLater: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Blocked)
			says(t, r, "two-step verification is still *on*", "ask them to turn it off")
			r = h.send("done")
			h.wantState(fsm.Check2FA)
			says(t, r, "Check 2/4")
			// The other checks stay confirmed and the number is known:
			// the port goes straight on.
			h.send("yes")
			h.wantState(fsm.ChooseMethod)
			h.finish()
			if got := h.calls(metasim.EndpointAddNumber); got != 2 {
				t.Errorf("number added %d times, want 2", got)
			}
			if got := h.calls(metasim.EndpointRegister); got != 1 {
				t.Errorf("register called %d times, want 1", got)
			}
		},
		metasim.NamePending: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Blocked)
			says(t, r, "display name is not approved yet", "Only your *current provider*")
			c := h.kase()
			if c.Blocked != bot.CheckDisplayName || c.TraceID == "" {
				t.Errorf("case blocked on %q with trace id %q, want display_name and Meta's fbtrace_id", c.Blocked, c.TraceID)
			}
			r = h.send("fixed")
			h.wantState(fsm.CheckDisplayName)
			says(t, r, "Check 4/4")
		},
		metasim.AlreadyOnWABA: func(t *testing.T, h *harness) {
			// The pre-flight finds the number in our WABA: no add, the port
			// goes on from the verification code.
			r := h.addNumber()
			h.wantState(fsm.ChooseMethod)
			says(t, r, "already in our account: we go on from the verification code")
			if got := h.calls(metasim.EndpointAddNumber); got != 0 {
				t.Errorf("number added %d times, want 0", got)
			}
			h.finish()
		},
		metasim.NoWebhooks: func(t *testing.T, h *harness) {
			// Ours to fix, and fixed: the pre-flight subscribes our app
			// before the add, which then works.
			r := h.addNumber()
			h.wantState(fsm.ChooseMethod)
			says(t, r, "I connected it (that part was ours)")
			lacks(t, r, "webhook", "subscribed")
			wantBefore(t, h.sim.Journal(), "POST subscribed_apps", "POST phone_numbers")
			if got := h.calls(metasim.EndpointAddNumber); got != 1 {
				t.Errorf("number added %d times, want 1", got)
			}
			h.finish()
		},
		metasim.RateLimited: func(t *testing.T, h *harness) {
			h.addNumber()
			r := h.tap("sms")
			h.wantState(fsm.ChooseMethod)
			// Retry-After says 1 s; the usage header's estimate, 1 minute, is
			// longer and wins.
			says(t, r, "Meta asked us to slow down", "try again in 1 minute.", "*retry*")
			if got := len(h.sent()); got != 0 {
				t.Errorf("%d codes sent, want none", got)
			}
			if c := h.kase(); c.CodeRequests != 0 || c.InFlight != "" {
				t.Errorf("case counts %d code requests, in flight %q; want 0 and none", c.CodeRequests, c.InFlight)
			}
			r = h.send("retry")
			h.wantState(fsm.AwaitCode)
			says(t, r, "An SMS is on its way")
			if got := h.calls(metasim.EndpointRequestCode); got != 2 {
				t.Errorf("request_code called %d times, want 2", got)
			}
			if got := len(h.sent()); got != 1 {
				t.Errorf("%d codes sent, want 1", got)
			}
			h.send(otp)
			h.wantState(fsm.AskPin)
		},
		metasim.Flaky: func(t *testing.T, h *harness) {
			h.addNumber()
			r := h.finish()
			// The limit comes from whatsapp_business_manager_messaging_limit.
			says(t, r, "has moved", "Messaging limit: 1,000 clients a day")
			// Meta's one-off 500s were retried by the client, unseen.
			if got := h.calls(metasim.EndpointVerifyCode); got != 2 {
				t.Errorf("verify_code called %d times, want 2 (one 500, one retry)", got)
			}
			if got := h.calls(metasim.EndpointRegister); got != 1 {
				t.Errorf("register called %d times, want 1", got)
			}
		},
		metasim.CodeCutOff: func(t *testing.T, h *harness) {
			h.addNumber()
			r := h.tap("sms")
			// The SMS went out but Meta's answer never came: the client is
			// told a code may have arrived, not asked to choose again.
			h.wantState(fsm.AwaitCode)
			says(t, r, "didn't confirm your code request", "If it arrives, type the 6 digits")
			if got := len(h.sent()); got != 1 {
				t.Errorf("%d codes sent, want 1", got)
			}
			if c := h.kase(); c.CodeRequests != 1 || c.InFlight != "" {
				t.Errorf("case counts %d code requests, in flight %q; want 1 and none", c.CodeRequests, c.InFlight)
			}
			// No second code blindly: a resend at once waits.
			r = h.send("resend")
			says(t, r, "You can ask for a new one in")
			h.send(otp)
			h.wantState(fsm.AskPin)
			if got := h.calls(metasim.EndpointRequestCode); got != 1 {
				t.Errorf("request_code called %d times, want 1", got)
			}
		},
		metasim.NoPayment:       ourSetupFailure("payment method or line of credit"),
		metasim.DestNotApproved: ourSetupFailure("destination WABA is not approved"),
		metasim.OtherPortfolio: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Failed)
			says(t, r, "different business portfolio", "Our team has been told")
			wantProblem(t, h, "different business portfolios", "our_configuration")
		},
		metasim.MessagingFor: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Failed)
			says(t, r, `"Messaging For"`, "Meta Business Suite", "accept it")
			wantProblem(t, h, "Messaging For", "client_must_act")
		},
		metasim.AddDirectly: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Failed)
			says(t, r, "doesn't need to be moved", "added to our account directly")
			wantProblem(t, h, "added to the destination directly", "permanent")
		},
		metasim.SourceNotSetUp: func(t *testing.T, h *harness) {
			r := h.addNumber()
			h.wantState(fsm.Failed)
			says(t, r, "not set up in a way that lets it move", "current provider")
			wantProblem(t, h, "source WABA is not approved", "origin_bsp_must_act")
		},
		metasim.MigrationTryAgain: func(t *testing.T, h *harness) {
			// Meta's generic "error migrating, try again" postpones, as any
			// answer worth a later try does; it does not fail the case.
			r := h.addNumber()
			h.wantState(fsm.AskPhone)
			says(t, r, "try again in a few minutes", "*retry*")
			if c := h.kase(); c.Problem != "" || c.PhoneNumberID != "" {
				t.Errorf("case problem %q, number id %q after a retryable refusal; want neither", c.Problem, c.PhoneNumberID)
			}
			h.send("retry")
			h.wantState(fsm.ChooseMethod)
			h.finish()
			if got := h.calls(metasim.EndpointAddNumber); got != 2 {
				t.Errorf("number added %d times, want 2", got)
			}
		},
		metasim.CodeRefused: func(t *testing.T, h *harness) {
			// 136024 on a number Meta reports NOT_VERIFIED: verification is
			// not skipped, the code request is tried again later.
			h.addNumber()
			r := h.tap("sms")
			h.wantState(fsm.ChooseMethod)
			says(t, r, "try again in a few minutes")
			if got := h.calls(metasim.EndpointPhoneNumber); got < 1 {
				t.Errorf("the number's status was read %d times, want at least once", got)
			}
			if c := h.kase(); c.CodeRequests != 0 {
				t.Errorf("case counts %d code requests, want 0", c.CodeRequests)
			}
			r = h.send("retry")
			h.wantState(fsm.AwaitCode)
			says(t, r, "An SMS is on its way")
			h.send(otp)
			h.wantState(fsm.AskPin)
			if got := h.calls(metasim.EndpointVerifyCode); got != 1 {
				t.Errorf("verify_code called %d times, want 1", got)
			}
		},
		metasim.RegisterBlocked: func(t *testing.T, h *harness) {
			h.addNumber()
			h.tap("sms")
			h.send(otp)
			h.send(pin)
			r := h.send(pin)
			h.wantState(fsm.Failed)
			says(t, r, "72 hours", "Our team has been told")
			c := h.kase()
			if !strings.Contains(c.Problem, "72 hours") || c.TraceID == "" || c.RegisterCalls != 1 || c.InFlight != "" {
				t.Errorf("case problem %q trace %q register calls %d in flight %q", c.Problem, c.TraceID, c.RegisterCalls, c.InFlight)
			}
			if got := h.calls(metasim.EndpointRegister); got != 1 {
				t.Errorf("register called %d times, want 1", got)
			}
			// A failed case waits for agents; the client hears so.
			r = h.send("menu")
			says(t, r, "What would you like to do?")
			r = h.tap("continue")
			h.wantState(fsm.Failed)
			says(t, r, "Our team is looking into your case")
		},
	}
	for _, sc := range metasim.Scenarios() {
		test := tests[sc.Number]
		if test == nil {
			t.Errorf("no test for scenario %s (%s)", sc.Number, sc.Name)
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newHarness(t, options{phone: sc.Number}))
		})
	}
}

// ourSetupFailure checks a 2388103 cause that is ours to fix: the case
// fails for agents, who read what to do; the client hears only that we
// are fixing something on our side.
func ourSetupFailure(agents string) func(t *testing.T, h *harness) {
	return func(t *testing.T, h *harness) {
		r := h.addNumber()
		h.wantState(fsm.Failed)
		says(t, r, "isn't fully set up", "That's on us")
		lacks(t, r, "app", "webhook", "payment", "credit")
		wantProblem(t, h, agents, "our_configuration")
	}
}

// wantProblem checks that agents read the cause and Meta's trace id.
func wantProblem(t *testing.T, h *harness, parts ...string) {
	t.Helper()
	c := h.kase()
	for _, p := range parts {
		if !strings.Contains(c.Problem, p) {
			t.Errorf("case problem %q does not say %q", c.Problem, p)
		}
	}
	if c.TraceID == "" {
		t.Error("the case has no fbtrace_id")
	}
}

// A number Meta already verified (an earlier attempt, elsewhere) answers
// request_code with 136024; its code_verification_status confirms it,
// and the case goes on to the PIN without a code.
func TestCodeRequestOnAVerifiedNumberSkipsTheCode(t *testing.T) {
	h := newHarness(t, options{})
	h.addNumber()
	h.wantState(fsm.ChooseMethod)
	id := h.kase().PhoneNumberID
	if err := h.graph.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
		t.Fatal(err)
	}
	sent := h.sent()
	if err := h.graph.VerifyCode(t.Context(), id, sent[len(sent)-1].code); err != nil {
		t.Fatal(err)
	}
	r := h.tap("sms")
	h.wantState(fsm.AskPin)
	lacks(t, r, "An SMS is on its way")
	if got := h.calls(metasim.EndpointRequestCode); got != 2 {
		t.Errorf("request_code called %d times, want 2 (ours refused with 136024)", got)
	}
}

func TestRedeliveryChangesNothing(t *testing.T) {
	h := reach(t, fsm.ChooseMethod, bot.English)
	in := bot.Inbound{ID: "wamid.same", Text: "Voice call", Choice: "voice"}
	if r := h.deliver(in); len(r) == 0 {
		t.Fatal("first delivery got no reply")
	}
	before := h.conv()
	beforeCase := h.kase()
	if r := h.deliver(in); len(r) != 0 {
		t.Errorf("second delivery got replies:\n%s", text(r))
	}
	if after := h.conv(); !reflect.DeepEqual(after, before) {
		t.Errorf("conversation changed:\n%+v\n%+v", before, after)
	}
	if after := h.kase(); !reflect.DeepEqual(after, beforeCase) {
		t.Errorf("case changed:\n%+v\n%+v", beforeCase, after)
	}
	if got := h.calls(metasim.EndpointRequestCode); got != 1 {
		t.Errorf("request_code called %d times, want 1", got)
	}
}

func TestConcurrentRedeliveryAnswersOnce(t *testing.T) {
	h := reach(t, fsm.ChooseMethod, bot.English)
	in := bot.Inbound{ID: "wamid.burst", From: client, Text: "SMS", Choice: "sms"}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers [][]bot.Reply
	)
	for range 5 {
		wg.Go(func() {
			r, err := h.bot.Handle(context.Background(), in)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			answers = append(answers, r)
		})
	}
	wg.Wait()
	n := 0
	for _, r := range answers {
		if len(r) > 0 {
			n++
			says(t, r, "An SMS is on its way")
		}
	}
	if n != 1 {
		t.Errorf("%d deliveries answered, want 1", n)
	}
	h.wantState(fsm.AwaitCode)
	if got := h.calls(metasim.EndpointRequestCode); got != 1 {
		t.Errorf("request_code called %d times, want 1", got)
	}
	if got := len(h.sent()); got != 1 {
		t.Errorf("%d codes sent, want 1", got)
	}
}

// Clients are served in parallel by one engine; each port is its own.
func TestClientsInParallel(t *testing.T) {
	h := newHarness(t, options{})
	const clients = 8
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			from := fmt.Sprintf("55219990000%02d", i)
			number := fmt.Sprintf("+55 11 98765-43%02d", i)
			n := 0
			say := func(text, choice string) []bot.Reply {
				n++
				r, err := h.bot.Handle(context.Background(), bot.Inbound{
					ID: fmt.Sprintf("wamid.%s.%d", from, n), From: from, Text: text, Choice: choice})
				if err != nil {
					t.Error(err)
				}
				return r
			}
			say("Hi", "")
			say("Start the port", "start")
			for range 4 {
				say("Yes", "yes")
			}
			say(number, "")
			say("skip", "")
			say("SMS", "sms")
			say(otp, "")
			say(pin, "")
			r := say(pin, "")
			says(t, r, fmt.Sprintf("Your number +55119876543%02d has moved", i))
		})
	}
	wg.Wait()
	cases, err := h.db.Cases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != clients {
		t.Fatalf("%d cases, want %d", len(cases), clients)
	}
	for _, c := range cases {
		if c.State != fsm.Done {
			t.Errorf("case %s of %s is %s, want done", c.ID, c.Client, c.State)
		}
		if got := h.sim.Calls(metasim.EndpointRegister, c.Phone); got != 1 {
			t.Errorf("%s registered %d times, want 1", c.Phone, got)
		}
	}
}

// crashAt rewrites the stored conversation and case as a process that
// stopped in the middle of a Graph step leaves them, then restarts.
func (h *harness) crashAt(st fsm.State, inFlight string) {
	h.t.Helper()
	conv, c := h.conv(), h.kase()
	conv.State, c.State, c.InFlight = st, st, inFlight
	if inFlight == "register" {
		c.RegisterCalls++
	}
	if err := h.db.Commit(context.Background(), bot.Turn{Conversation: conv, Case: &c}); err != nil {
		h.t.Fatal(err)
	}
	h.restart()
}

// recover runs the engine's start-up recovery and returns what it tells
// the client.
func (h *harness) recover() []bot.Reply {
	h.t.Helper()
	outs, err := h.bot.Recover(context.Background())
	if err != nil {
		h.t.Fatalf("Recover: %v", err)
	}
	if len(outs) != 1 || outs[0].To != client {
		h.t.Fatalf("Recover spoke to %d clients (%+v), want %s", len(outs), outs, client)
	}
	h.last = outs[0].Replies
	return outs[0].Replies
}

func TestRecoverAfterCrash(t *testing.T) {
	t.Run("requesting_code", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AwaitCode, bot.English)
		h.crashAt(fsm.RequestingCode, "request_code")
		r := h.recover()
		h.wantState(fsm.AwaitCode)
		says(t, r, "interrupted while asking Meta for your code", "If a code has arrived, type it")
		if got := h.calls(metasim.EndpointRequestCode); got != 1 {
			t.Errorf("request_code called %d times, want 1", got)
		}
		if c := h.kase(); c.InFlight != "" {
			t.Errorf("in flight %q after recovery", c.InFlight)
		}
		// The code may be on its way: an immediate resend waits.
		r = h.send("resend")
		says(t, r, "You can ask for a new one in")
		if got := h.calls(metasim.EndpointRequestCode); got != 1 {
			t.Errorf("request_code called %d times, want 1", got)
		}
		h.send(otp)
		h.wantState(fsm.AskPin)
		// Nothing is left to recover.
		if outs, err := h.bot.Recover(context.Background()); err != nil || len(outs) != 0 {
			t.Errorf("second Recover = %+v, %v; want nothing", outs, err)
		}
	})
	t.Run("requesting_code, then the code arrives", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AwaitCode, bot.English)
		h.crashAt(fsm.RequestingCode, "request_code")
		// The client's code is read before the recovery ran.
		h.send(otp)
		h.wantState(fsm.AskPin)
		if got := h.calls(metasim.EndpointRequestCode); got != 1 {
			t.Errorf("request_code called %d times, want 1", got)
		}
	})
	t.Run("adding_number, number added", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.ChooseMethod, bot.English)
		id := h.kase().PhoneNumberID
		// Meta added the number; the process stopped before storing its id.
		conv, c := h.conv(), h.kase()
		conv.State, c.State, c.InFlight, c.PhoneNumberID = fsm.AddingNumber, fsm.AddingNumber, "add_number", ""
		if err := h.db.Commit(context.Background(), bot.Turn{Conversation: conv, Case: &c}); err != nil {
			t.Fatal(err)
		}
		h.restart()
		r := h.recover()
		h.wantState(fsm.ChooseMethod)
		says(t, r, "How should it arrive?")
		if c := h.kase(); c.PhoneNumberID != id || c.InFlight != "" {
			t.Errorf("case phone number id %q in flight %q, want %s and none", c.PhoneNumberID, c.InFlight, id)
		}
		if got := h.calls(metasim.EndpointAddNumber); got != 1 {
			t.Errorf("number added %d times, want 1", got)
		}
	})
	t.Run("adding_number, before Meta heard of it", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPhone, bot.English)
		h.send(typed)
		conv, c := h.conv(), h.kase()
		conv.State, conv.Step, c.State, c.InFlight = fsm.AddingNumber, "", fsm.AddingNumber, "add_number"
		if err := h.db.Commit(context.Background(), bot.Turn{Conversation: conv, Case: &c}); err != nil {
			t.Fatal(err)
		}
		h.restart()
		r := h.recover()
		h.wantState(fsm.ChooseMethod)
		says(t, r, "How should it arrive?")
		if got := h.calls(metasim.EndpointAddNumber); got != 1 {
			t.Errorf("number added %d times, want 1", got)
		}
		h.finish()
	})
	t.Run("verifying", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AwaitCode, bot.English)
		h.crashAt(fsm.Verifying, "")
		r := h.recover()
		h.wantState(fsm.AwaitCode)
		says(t, r, "type it again")
		if got := h.calls(metasim.EndpointVerifyCode); got != 0 {
			t.Errorf("verify_code called %d times, want 0", got)
		}
		h.send(otp)
		h.wantState(fsm.AskPin)
	})
	t.Run("registering, number connected", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPin, bot.English)
		// The register call reached Meta; the process stopped before it
		// stored the answer.
		if err := h.graph.Register(context.Background(), h.kase().PhoneNumberID, pin); err != nil {
			t.Fatal(err)
		}
		h.crashAt(fsm.Registering, "register")
		r := h.recover()
		h.wantState(fsm.Done)
		says(t, r, "Registered!", "has moved", "Templates copied: 5")
		if got := h.calls(metasim.EndpointRegister); got != 1 {
			t.Errorf("register called %d times, want 1", got)
		}
		if c := h.kase(); c.InFlight != "" || c.RegisterCalls != 1 {
			t.Errorf("case in flight %q register calls %d, want none and 1", c.InFlight, c.RegisterCalls)
		}
	})
	t.Run("registering, number not registered", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPin, bot.English)
		h.crashAt(fsm.Registering, "register")
		r := h.recover()
		h.wantState(fsm.AskPin)
		says(t, r, "interrupted while registering", "new 6-digit PIN")
		if got := h.calls(metasim.EndpointRegister); got != 0 {
			t.Errorf("register called %d times, want 0", got)
		}
		h.send(pin)
		h.send(pin)
		h.wantState(fsm.Done)
		if got := h.calls(metasim.EndpointRegister); got != 1 {
			t.Errorf("register called %d times, want 1", got)
		}
	})
	t.Run("migrating_templates", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPin, bot.English)
		h.send(pin)
		h.send(pin)
		h.wantState(fsm.Done)
		h.crashAt(fsm.MigratingTemplates, "")
		r := h.recover()
		h.wantState(fsm.Done)
		says(t, r, "has moved", "Templates copied: 5")
		if got := h.calls(metasim.EndpointRegister); got != 1 {
			t.Errorf("register called %d times, want 1", got)
		}
		// The copy was stored before the stop: it is not made twice.
		if got := h.calls(metasim.EndpointTemplates); got != 1 {
			t.Errorf("templates copied %d times, want 1", got)
		}
	})
}

func TestSecretsAreNeverStoredOrLogged(t *testing.T) {
	h := newHarness(t, options{})
	h.driveTo(fsm.AwaitCode)
	h.send(otp)
	h.send("642913") // a first PIN, then a mismatch: both pass through the store
	h.send("642914")
	h.send(pin)

	// While the confirmation is awaited, only a hash of the PIN is kept.
	if c := h.conv(); c.PinHash == "" || strings.Contains(c.PinHash, pin) {
		t.Errorf("pin hash %q while confirming", c.PinHash)
	}
	raw, err := os.ReadFile(h.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{otp, pin, "642913", "642914"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("db file holds %s while the PIN is being confirmed", secret)
		}
	}

	h.send(pin)
	h.wantState(fsm.Done)
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(h.path)
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]string{"engine log": h.logs.String(), "graph log": h.glogs.String()}
	if logs["engine log"] == "" || logs["graph log"] == "" {
		t.Fatalf("nothing was logged; the test would prove nothing: %q", logs)
	}
	for _, secret := range []string{otp, pin, "642913", "642914"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("db file holds %s", secret)
		}
		for name, log := range logs {
			if strings.Contains(log, secret) {
				t.Errorf("%s holds %s", name, secret)
			}
		}
	}
	// Numbers are masked and the token never shows.
	for _, s := range []string{"5511987654321", client, token} {
		for name, log := range logs {
			if strings.Contains(log, s) {
				t.Errorf("%s holds %s", name, s)
			}
		}
	}
}

// The 2388103 causes are told in the client's language.
func TestMigrationRefusalsInTheClientsLanguage(t *testing.T) {
	tests := []struct {
		lang  bot.Lang
		phone string
		want  string
	}{
		{bot.Portuguese, metasim.NoPayment, "Isso é com a gente"},
		{bot.Spanish, metasim.NoPayment, "Eso nos toca a nosotros"},
		{bot.Portuguese, metasim.MessagingFor, "aceite"},
		{bot.Spanish, metasim.MessagingFor, "acéptala"},
		{bot.Portuguese, metasim.OtherPortfolio, "portfólio empresarial diferente"},
		{bot.Spanish, metasim.AddDirectly, "directamente a nuestra cuenta"},
		{bot.Portuguese, metasim.SourceNotSetUp, "provedor atual"},
		{bot.Spanish, metasim.MigrationTryAgain, "inténtalo de nuevo"},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+" "+tt.phone, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, options{lang: tt.lang, phone: tt.phone})
			says(t, h.addNumber(), tt.want)
		})
	}
}
