package bot_test

import (
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/fsm"
)

// Graph faults met by a migration, through the real Graph client against
// the simulator. Steps Meta must not repeat (request_code sends an SMS,
// register is limited to 10 tries in 72 hours) are never called a second
// time unless a status check or the client says so.
func TestGraphFaultsDuringMigration(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name  string
		fault metasim.Fault
		run   func(t *testing.T, h *harness)
	}{
		{"request_code answered after the client's timeout", metasim.Fault{Kind: metasim.FaultTimeout, Endpoint: metasim.EndpointRequestCode, Delay: 3 * time.Second},
			func(t *testing.T, h *harness) {
				h.addNumber()
				r := h.tap("sms")
				h.wantState(fsm.AwaitCode)
				says(t, r, "didn't confirm your code request", "Resend")
				if got := len(h.sent()); got != 1 {
					t.Fatalf("%d codes sent, want 1", got)
				}
				h.send(otp)
				h.wantState(fsm.AskPin)
				if got := h.calls(metasim.EndpointRequestCode); got != 1 {
					t.Errorf("request_code called %d times, want 1", got)
				}
			}},
		{"request_code lost on the way", metasim.Fault{Kind: metasim.FaultDrop, Endpoint: metasim.EndpointRequestCode, Times: 1},
			func(t *testing.T, h *harness) {
				h.addNumber()
				r := h.tap("sms")
				// The bot cannot tell this from a code that went out.
				h.wantState(fsm.AwaitCode)
				says(t, r, "didn't confirm your code request")
				if got := len(h.sent()); got != 0 {
					t.Fatalf("%d codes sent, want none", got)
				}
				// Nothing came: the client asks again, after the cool-down.
				h.clock.advance(2 * time.Minute)
				r = h.send("resend")
				says(t, r, "An SMS is on its way")
				if got := len(h.sent()); got != 1 {
					t.Fatalf("%d codes sent after the client asked, want 1", got)
				}
				h.send(otp)
				h.wantState(fsm.AskPin)
			}},
		{"request_code refused with a 5xx", metasim.Fault{Kind: metasim.FaultServerError, Endpoint: metasim.EndpointRequestCode, Times: 1, Status: 503},
			func(t *testing.T, h *harness) {
				h.addNumber()
				r := h.tap("sms")
				// Meta answered: nothing was sent, so the client chooses again.
				h.wantState(fsm.ChooseMethod)
				says(t, r, "Meta isn't answering right now", "*retry*")
				if got := len(h.sent()); got != 0 {
					t.Errorf("%d codes sent, want none", got)
				}
				r = h.send("retry")
				h.wantState(fsm.AwaitCode)
				says(t, r, "An SMS is on its way")
			}},
		{"register answered too slowly", metasim.Fault{Kind: metasim.FaultSlow, Endpoint: metasim.EndpointRegister, Delay: 3 * time.Second},
			func(t *testing.T, h *harness) {
				h.addNumber()
				// The number's status says it is registered.
				r := h.finish()
				says(t, r, "Registered!", "has moved")
				if got := h.calls(metasim.EndpointRegister); got != 1 {
					t.Errorf("register called %d times, want 1", got)
				}
			}},
		{"register lost on the way", metasim.Fault{Kind: metasim.FaultDrop, Endpoint: metasim.EndpointRegister, Times: 1},
			func(t *testing.T, h *harness) {
				h.addNumber()
				h.tap("sms")
				h.send(otp)
				h.send(pin)
				r := h.send(pin)
				// Not registered: the client is asked, and the PIN is not kept.
				h.wantState(fsm.AskPin)
				says(t, r, "Meta isn't answering right now")
				if got := h.calls(metasim.EndpointRegister); got != 0 {
					t.Errorf("register counted %d times at Meta, want 0 (it never arrived)", got)
				}
				h.send(pin)
				h.send(pin)
				h.wantState(fsm.Done)
			}},
		{"number added, answer reset", metasim.Fault{Kind: metasim.FaultReset, Endpoint: metasim.EndpointAddNumber, Times: 1},
			func(t *testing.T, h *harness) {
				r := h.addNumber()
				// The WABA's list shows the number: no second add, which Meta
				// would refuse.
				h.wantState(fsm.ChooseMethod)
				says(t, r, "How should it arrive?")
				if got := h.calls(metasim.EndpointAddNumber); got != 1 {
					t.Errorf("number added %d times, want 1", got)
				}
				if id := h.kase().PhoneNumberID; len(id) != 15 {
					t.Errorf("case phone number id %q, want the 15-digit id Meta gave the number", id)
				}
				h.finish()
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, options{graphTimeout: timeout})
			h.sim.Inject(tc.fault)
			tc.run(t, h)
		})
	}
}
