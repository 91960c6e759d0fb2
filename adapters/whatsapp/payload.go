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

	// Fields of the "security" change.
	DisplayPhoneNumber flexString `json:"display_phone_number"`
	Event              flexString `json:"event"`
	Requester          flexString `json:"requester"`
}

// message is one entry of value.messages. Only what the bot reads is
// declared; media, location and the like are recognised by type alone.
type message struct {
	From      string     `json:"from"`
	ID        string     `json:"id"`
	Timestamp flexString `json:"timestamp"`
	Type      string     `json:"type"`
	Text      *struct {
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
}

type status struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   flexString `json:"timestamp"`
	RecipientID flexString `json:"recipient_id"`
	// CallbackData is what the sender set on the message; Meta echoes it
	// in every status of that message.
	CallbackData string `json:"biz_opaque_callback_data"`
	Errors       []struct {
		Code      flexString `json:"code"`
		Title     string     `json:"title"`
		Message   string     `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
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
					if in, ok := decodeMessage(raw); ok {
						d.Messages = append(d.Messages, in)
					} else {
						d.Ignored++
					}
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
				})
			}
		}
	}
	return d, nil
}

func decodeMessage(raw json.RawMessage) (bot.Inbound, bool) {
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		// A field of an unexpected JSON type: keep the message as content
		// the bot cannot read, so the client still gets an answer.
		var bare struct {
			From string `json:"from"`
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &bare) != nil {
			return bot.Inbound{}, false
		}
		m = message{From: bare.From, ID: bare.ID, Type: bare.Type}
		if m.Type == "" || m.Type == "text" || m.Type == "interactive" || m.Type == "button" {
			m.Type = "unreadable"
		}
	}
	if m.ID == "" || m.From == "" {
		return bot.Inbound{}, false
	}
	in := bot.Inbound{ID: m.ID, From: m.From, At: unixTime(m.Timestamp)}
	switch {
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
	return in, true
}

func decodeStatus(raw json.RawMessage) (Status, bool) {
	var s status
	if json.Unmarshal(raw, &s) != nil || s.ID == "" || s.Status == "" {
		return Status{}, false
	}
	st := Status{MetaID: s.ID, Status: s.Status, Recipient: string(s.RecipientID), At: unixTime(s.Timestamp),
		CallbackData: s.CallbackData}
	var details []string
	for _, e := range s.Errors {
		what := e.Title
		if what == "" {
			what = e.Message
		}
		d := string(e.Code) + ": " + what
		if e.ErrorData.Details != "" && e.ErrorData.Details != what {
			d += " (" + e.ErrorData.Details + ")"
		}
		details = append(details, d)
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
