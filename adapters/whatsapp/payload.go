package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"portabot/bot"
)

// Delivery is what one webhook POST carries.
type Delivery struct {
	// Messages from clients, in payload order. A message Meta delivers twice
	// appears twice: dropping repeats is the inbox's job, across deliveries.
	Messages []bot.Inbound
	// Statuses Meta reports for messages the bot sent.
	Statuses []Status
	// Security events on numbers the app is subscribed to.
	Security []SecurityEvent
	// Errors are the asynchronous errors Meta reported in value.errors
	// (Meta: webhooks reference), and in the errors of a message it could
	// not pass on.
	Errors []MetaError
	// Ignored counts messages and statuses left out: without an id or a
	// sender, unreadable, or addressed to another business number.
	Ignored int
}

// Status is a delivery status of a message the bot sent.
type Status struct {
	// MetaID is the wamid the messages endpoint returned for the message.
	MetaID string
	// Status is sent, delivered, read, failed (or played, for voice).
	Status string
	// Recipient is the client's WhatsApp id, digits without "+".
	Recipient string
	// At is when Meta says the status changed; zero when it did not say.
	At time.Time
	// Detail explains a failure: "131047: Re-engagement message", one
	// "code: title" per error Meta listed, joined by "; ".
	Detail string
	// CallbackData is the message's biz_opaque_callback_data, echoed as
	// the sender set it: the bot's reference to the outbox row.
	CallbackData string
}

// MetaError is an error Meta reported through a webhook rather than in
// answer to a call.
type MetaError struct {
	Code    string
	Title   string
	Details string
	// Client is the WhatsApp id (number or BSUID) of the client the error
	// concerns, when the change names one.
	Client string
}

func (e MetaError) String() string {
	s := e.Code + ": " + e.Title
	if e.Details != "" && e.Details != e.Title {
		s += " (" + e.Details + ")"
	}
	return s
}

// SecurityEvent is a change to a number's two-step verification, reported
// through the "security" webhook field.
type SecurityEvent struct {
	// DisplayPhone is the number concerned, digits as Meta displays them.
	DisplayPhone string
	// Event is Meta's name for what happened: PIN_CHANGED,
	// PIN_RESET_REQUEST, ...
	Event string
	// Requester is the business user who made the change, when given.
	Requester string
	// At is when Meta says it happened (the entry's time); zero when it
	// did not say.
	At time.Time
}

// Inbound is the event as the inbox queues it: under the number, with an id
// that is the same when Meta delivers the webhook again.
func (e SecurityEvent) Inbound(receivedAt time.Time) (bot.Inbound, bool) {
	phone := strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return -1
		}
		return r
	}, e.DisplayPhone)
	if phone == "" || e.Event == "" || len(phone) > 20 || len(e.Event) > 64 {
		return bot.Inbound{}, false
	}
	at := e.At
	if at.IsZero() {
		at = receivedAt
	}
	id := fmt.Sprintf("security.%s.%s.%d", phone, e.Event, e.At.Unix())
	return bot.Inbound{ID: id, From: phone, Security: e.Event, At: at}, true
}

// Decode reads a webhook body. It fails only when the body is not the JSON
// object Meta sends; a message or status that cannot be read is counted in
// Ignored, so one odd item does not lose the rest of the delivery.
//
// Decode is deterministic: a missing or unreadable timestamp leaves At zero
// rather than reading the clock, and the webhook fills in the time of
// receipt.
func Decode(body []byte) (Delivery, error) {
	return decode(body, "")
}

// notification is the envelope every WhatsApp Business Account webhook
// shares. Items inside a change are kept raw and decoded one by one.
type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      flexString `json:"id"`
		Time    flexString `json:"time"`
		Changes []struct {
			Field string      `json:"field"`
			Value changeValue `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type changeValue struct {
	Metadata struct {
		DisplayPhoneNumber flexString `json:"display_phone_number"`
		PhoneNumberID      flexString `json:"phone_number_id"`
	} `json:"metadata"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	// Contacts name the senders of Messages: their number (wa_id), BSUID
	// (user_id) and username.
	Contacts []contact  `json:"contacts"`
	Errors   []apiError `json:"errors"`

	// Fields of the "security" change.
	DisplayPhoneNumber flexString `json:"display_phone_number"`
	Event              flexString `json:"event"`
	Requester          flexString `json:"requester"`
}

// contact is one entry of value.contacts. Meta documents the username in
// the profile; it is read at the top level too, where some partners'
// passthroughs put it.
type contact struct {
	WaID     flexString `json:"wa_id"`
	UserID   string     `json:"user_id"`
	Username string     `json:"username"`
	Profile  struct {
		Username string `json:"username"`
	} `json:"profile"`
}

// apiError is one error of value.errors or of a message's errors.
type apiError struct {
	Code      flexString `json:"code"`
	Title     string     `json:"title"`
	Message   string     `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

func (e apiError) meta(client string) MetaError {
	title := e.Title
	if title == "" {
		title = e.Message
	}
	return MetaError{Code: string(e.Code), Title: title, Details: e.ErrorData.Details, Client: client}
}

// message is one entry of value.messages. Only what the bot reads is
// declared; media, location and the like are recognised by type alone.
type message struct {
	From string `json:"from"`
	// FromUserID is the sender's BSUID (Meta: business-scoped-user-ids).
	FromUserID string     `json:"from_user_id"`
	ID         string     `json:"id"`
	Timestamp  flexString `json:"timestamp"`
	Type       string     `json:"type"`
	Text       *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	// Button is a tap on a quick-reply button of a template message.
	Button *struct {
		Text    string `json:"text"`
		Payload string `json:"payload"`
	} `json:"button"`
	// Context names the message replied to, or whose button was tapped.
	Context *struct {
		ID string `json:"id"`
	} `json:"context"`
	// System tells that the client changed their number or BSUID
	// (Meta: webhooks/reference/messages/system). The new number is wa_id;
	// older payloads named it new_wa_id.
	System *struct {
		Type           string     `json:"type"`
		WaID           flexString `json:"wa_id"`
		NewWaID        flexString `json:"new_wa_id"`
		UserID         string     `json:"user_id"`
		PreviousUserID string     `json:"previous_user_id"`
	} `json:"system"`
	Errors []apiError `json:"errors"`
}

type status struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   flexString `json:"timestamp"`
	RecipientID flexString `json:"recipient_id"`
	// CallbackData is what the sender set on the message; Meta echoes it
	// in every status of that message.
	CallbackData string `json:"biz_opaque_callback_data"`
	// RecipientUserID is the BSUID of a recipient messaged by it.
	RecipientUserID string     `json:"recipient_user_id"`
	Errors          []apiError `json:"errors"`
}

// decode reads body; when phoneNumberID is set, messages and statuses of
// other business numbers are ignored.
func decode(body []byte, phoneNumberID string) (Delivery, error) {
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return Delivery{}, fmt.Errorf("whatsapp: decode webhook: %w", err)
	}
	var d Delivery
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			v := c.Value
			switch c.Field {
			case "messages":
				if phoneNumberID != "" && string(v.Metadata.PhoneNumberID) != phoneNumberID {
					d.Ignored += len(v.Messages) + len(v.Statuses)
					continue
				}
				for _, raw := range v.Messages {
					in, errs, ok := decodeMessage(raw, v.Contacts)
					if ok {
						d.Messages = append(d.Messages, in)
					} else {
						d.Ignored++
					}
					d.Errors = append(d.Errors, errs...)
				}
				for _, e := range v.Errors {
					d.Errors = append(d.Errors, e.meta(""))
				}
				for _, raw := range v.Statuses {
					if st, ok := decodeStatus(raw); ok {
						d.Statuses = append(d.Statuses, st)
					} else {
						d.Ignored++
					}
				}
			case "security":
				d.Security = append(d.Security, SecurityEvent{
					DisplayPhone: string(v.DisplayPhoneNumber),
					Event:        string(v.Event),
					Requester:    string(v.Requester),
					At:           unixTime(e.Time),
				})
			}
		}
	}
	return d, nil
}

// decodeMessage reads one message; contacts are its change's, which name
// its sender. It also returns the errors Meta attached to the message.
func decodeMessage(raw json.RawMessage, contacts []contact) (bot.Inbound, []MetaError, bool) {
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		// A field of an unexpected JSON type: keep the message as content
		// the bot cannot read, so the client still gets an answer.
		var bare struct {
			From       string `json:"from"`
			FromUserID string `json:"from_user_id"`
			ID         string `json:"id"`
			Type       string `json:"type"`
		}
		if json.Unmarshal(raw, &bare) != nil {
			return bot.Inbound{}, nil, false
		}
		m = message{From: bare.From, FromUserID: bare.FromUserID, ID: bare.ID, Type: bare.Type}
		if m.Type == "" || m.Type == "text" || m.Type == "interactive" || m.Type == "button" || m.Type == "system" {
			m.Type = "unreadable"
		}
	}
	in := bot.Inbound{ID: m.ID, From: m.From, UserID: m.FromUserID, At: unixTime(m.Timestamp)}
	senderOf(&in, contacts)
	if m.Context != nil {
		in.Context = m.Context.ID
	}
	if m.Type == "system" && m.System != nil {
		// The message comes from the client's old ids: they find the
		// conversation, and Moved carries the new ones.
		if m.System.PreviousUserID != "" {
			in.UserID = m.System.PreviousUserID
		}
		mv := bot.Move{UserID: m.System.UserID}
		if m.System.Type != "user_changed_user_id" {
			mv.Phone = string(m.System.WaID)
			if mv.Phone == "" {
				mv.Phone = string(m.System.NewWaID)
			}
		}
		if mv.Phone == in.From {
			mv.Phone = ""
		}
		if mv.UserID == in.UserID {
			mv.UserID = ""
		}
		in.Moved = &mv
	}
	var errs []MetaError
	for _, e := range m.Errors {
		errs = append(errs, e.meta(in.Sender()))
	}
	if m.ID == "" || in.Sender() == "" || len(m.ID) > maxID || len(in.Sender()) > maxID {
		return bot.Inbound{}, errs, false
	}
	switch {
	case in.Moved != nil:
	case m.Type == "text" && m.Text != nil:
		in.Text = m.Text.Body
	case m.Type == "interactive" && m.Interactive != nil && m.Interactive.Type == "button_reply" && m.Interactive.ButtonReply != nil:
		in.Choice, in.Text = m.Interactive.ButtonReply.ID, m.Interactive.ButtonReply.Title
	case m.Type == "interactive" && m.Interactive != nil && m.Interactive.Type == "list_reply" && m.Interactive.ListReply != nil:
		in.Choice, in.Text = m.Interactive.ListReply.ID, m.Interactive.ListReply.Title
	case m.Type == "button" && m.Button != nil:
		in.Choice, in.Text = m.Button.Payload, m.Button.Text
	case m.Type == "interactive" && m.Interactive != nil && m.Interactive.Type != "":
		// Flow answers (nfm_reply) and whatever Meta adds next.
		in.Unsupported = "interactive." + m.Interactive.Type
	case m.Type == "":
		in.Unsupported = "unknown"
	default:
		// image, audio, video, document, sticker, location, contacts,
		// reaction, order, system, unsupported, ... and a text, interactive
		// or button message missing its content.
		in.Unsupported = m.Type
	}
	return in, errs, true
}

// maxID bounds a message id and a sender id: Meta's are well under 200
// bytes, and one that is not cannot be a real message.
const maxID = 512

// senderOf fills in what the message left out of its sender from the
// change's contacts: the number, the BSUID, the username. The contact is the
// one naming the same number or BSUID, or the only one.
func senderOf(in *bot.Inbound, contacts []contact) {
	var c *contact
	for i := range contacts {
		k := &contacts[i]
		if (in.From != "" && string(k.WaID) == in.From) || (in.UserID != "" && k.UserID == in.UserID) {
			c = k
			break
		}
	}
	if c == nil && len(contacts) == 1 {
		c = &contacts[0]
	}
	if c == nil {
		return
	}
	if in.From == "" {
		in.From = string(c.WaID)
	}
	if in.UserID == "" {
		in.UserID = c.UserID
	}
	in.Username = c.Profile.Username
	if in.Username == "" {
		in.Username = c.Username
	}
}

func decodeStatus(raw json.RawMessage) (Status, bool) {
	var s status
	if json.Unmarshal(raw, &s) != nil || s.ID == "" || s.Status == "" {
		return Status{}, false
	}
	st := Status{MetaID: s.ID, Status: s.Status, Recipient: string(s.RecipientID), At: unixTime(s.Timestamp),
		CallbackData: s.CallbackData}
	if st.Recipient == "" {
		st.Recipient = s.RecipientUserID
	}
	var details []string
	for _, e := range s.Errors {
		details = append(details, e.meta("").String())
	}
	st.Detail = strings.Join(details, "; ")
	return st, true
}

// unixTime reads Meta's Unix-seconds timestamp; zero when it is missing or
// not a plausible time.
func unixTime(s flexString) time.Time {
	secs, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || secs <= 0 || secs > 1<<40 {
		return time.Time{}
	}
	return time.Unix(secs, 0).UTC()
}

// flexString accepts a JSON string or number (Meta documents timestamps and
// ids as strings, but numbers have been seen in test tools and older
// payloads) and leaves any other JSON type empty.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*s = flexString(b)
	}
	return nil
}
