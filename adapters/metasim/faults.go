package metasim

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// FaultKind is one way a Graph request goes wrong.
type FaultKind int

// The faults. Some happen before Meta acts on the request (nothing
// changes), the others after (the code was sent, the message accepted, the
// number registered) with the answer lost or late: those are the ones a
// client cannot tell from the first kind, and must settle by asking where
// things stand.
const (
	// FaultServerError answers Fault.Status (500 by default) with code 2,
	// transient, without acting.
	FaultServerError FaultKind = iota + 1
	// FaultRateLimit answers 429 with a Retry-After of Fault.RetryAfter
	// (1 s by default) and code 80007 (130429 on the messages endpoint),
	// without acting.
	FaultRateLimit
	// FaultTimeout acts, then holds the answer for Fault.Delay: past the
	// client's timeout, the client gives up on a call that worked.
	FaultTimeout
	// FaultSlow acts, sends the status line and headers at once, then the
	// body a byte at first and the rest after Fault.Delay: a response too
	// slow to read within the client's timeout.
	FaultSlow
	// FaultReset acts, then closes the connection without an answer: the
	// request was received and done, and the client sees a reset.
	FaultReset
	// FaultDrop closes the connection without acting, as when a request is
	// lost before Meta handles it.
	FaultDrop
)

var faultNames = map[FaultKind]string{FaultServerError: "server error", FaultRateLimit: "rate limit",
	FaultTimeout: "timeout", FaultSlow: "slow response", FaultReset: "reset", FaultDrop: "drop"}

func (k FaultKind) String() string { return faultNames[k] }

// acts reports whether the simulator does what the request asks before the
// fault strikes.
func (k FaultKind) acts() bool { return k == FaultTimeout || k == FaultSlow || k == FaultReset }

// Fault makes matching requests fail the way Meta's sometimes do.
type Fault struct {
	Kind FaultKind
	// Endpoint limits the fault to one endpoint (an Endpoint name, or
	// EndpointRead for read receipts); empty matches every endpoint.
	Endpoint string
	// Phone limits the fault to requests about one number (E.164): the
	// number being migrated, or the recipient of a message. Empty matches
	// any.
	Phone string
	// Times is how many requests the fault hits; 0 means every matching
	// request until ClearFaults.
	Times int
	// Delay is how long FaultTimeout and FaultSlow hold the answer; 30 s
	// by default.
	Delay time.Duration
	// RetryAfter is FaultRateLimit's Retry-After; 1 s by default.
	RetryAfter time.Duration
	// Status is FaultServerError's HTTP status; 500 by default.
	Status int
}

// EndpointRead names read receipts, which share the messages endpoint.
const EndpointRead = "read"

// EndpointListNumbers names GET /{waba}/phone_numbers.
const EndpointListNumbers = "list_phone_numbers"

// Inject adds a fault; faults are tried in the order added, and the first
// that matches a request decides its fate.
func (s *Sim) Inject(f Fault) {
	if f.Delay <= 0 {
		f.Delay = 30 * time.Second
	}
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	if f.Status == 0 {
		f.Status = http.StatusInternalServerError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first fault matching a request to endpoint about
// phone, counting it as used, or nil. s.mu is held.
func (s *Sim) takeFault(endpoint, phone string) *Fault {
	for i, f := range s.faults {
		if f.Endpoint != "" && f.Endpoint != endpoint {
			continue
		}
		if f.Phone != "" && strings.TrimPrefix(f.Phone, "+") != strings.TrimPrefix(phone, "+") {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

// scenarioFault is the fault a scenario number meets, or nil. s.mu is held.
func (s *Sim) scenarioFault(endpoint, phone string) *Fault {
	if endpoint == EndpointRequestCode && phone == CodeCutOff && s.once("reset", phone) {
		return &Fault{Kind: FaultReset}
	}
	return nil
}

// subject names the endpoint a routed request is for and the number it
// concerns, so that faults can be matched before the handler acts. s.mu is
// held.
func (s *Sim) subject(method string, parts []string, p params) (endpoint, phone string) {
	byID := func(id string) string {
		if n := s.st.Numbers[id]; n != nil {
			return n.e164()
		}
		return ""
	}
	switch {
	case len(parts) == 1 && method == http.MethodGet && s.st.Numbers[parts[0]] == nil:
		return EndpointWABA, ""
	case len(parts) == 1:
		return EndpointPhoneNumber, byID(parts[0])
	case method == http.MethodGet && parts[1] == "subscribed_apps":
		return EndpointSubscribedList, ""
	case method == http.MethodGet && parts[1] == "message_templates":
		return EndpointTemplateList, ""
	case method == http.MethodGet:
		return EndpointListNumbers, ""
	}
	switch parts[1] {
	case "phone_numbers":
		return EndpointAddNumber, "+" + p.get("cc") + p.get("phone_number")
	case "request_code", "verify_code", "register":
		return parts[1], byID(parts[0])
	case "migrate_message_templates":
		return EndpointTemplates, ""
	case "messages":
		if p.get("status") == "read" {
			return EndpointRead, ""
		}
		return EndpointMessages, "+" + strings.TrimPrefix(strings.TrimSpace(p.get("to")), "+")
	}
	return parts[1], ""
}

// failBefore is the answer of a fault that strikes before the simulator
// acts, or nil for the others.
func failBefore(f *Fault, endpoint string) *apiError {
	switch f.Kind {
	case FaultServerError:
		e := errServer()
		e.status = f.Status
		return e
	case FaultRateLimit:
		e := errRateLimited(f.RetryAfter, 0)
		if endpoint == EndpointMessages {
			e.code, e.message = 130429, "(#130429) Rate limit hit"
			e.details = "Cloud API message throughput has been reached."
		}
		return e
	}
	return nil
}

// hangUp closes the client's connection without an answer; with SO_LINGER
// at zero the client sees a reset, not an orderly close.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 cannot hand over its connection: a broken stream is the
		// closest thing.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
