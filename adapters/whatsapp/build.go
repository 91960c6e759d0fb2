package whatsapp

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"portabot/bot"
)

// User is the WhatsApp user a built webhook comes from: their number, their
// BSUID, or both, and their username.
type User struct {
	Phone    string // digits, with or without "+"
	UserID   string // BSUID
	Username string
}

// BuildTextWebhook returns the body Meta would post when the WhatsApp user
// from (digits, with or without "+") sends text to the business number
// phoneNumberID, as message id at time at; BuildUserWebhook builds one from
// a user known by BSUID. With
// BuildChoiceWebhook and SignBody it lets tests, portabot chat --server and
// load tools speak to a running server exactly as Meta does.
func BuildTextWebhook(phoneNumberID, from, id, text string, at time.Time) []byte {
	return BuildUserWebhook(phoneNumberID, User{Phone: from}, id, at, map[string]any{
		"type": "text",
		"text": map[string]string{"body": text},
	})
}

// BuildChoiceWebhook returns the body Meta would post when the user taps the
// reply button choiceID, titled title.
func BuildChoiceWebhook(phoneNumberID, from, id, choiceID, title string, at time.Time) []byte {
	return BuildUserWebhook(phoneNumberID, User{Phone: from}, id, at, map[string]any{
		"type": "interactive",
		"interactive": map[string]any{
			"type":         "button_reply",
			"button_reply": map[string]string{"id": choiceID, "title": title},
		},
	})
}

// BuildUserWebhook returns the body Meta would post for a message from u
// whose content (type and its object) is content. A user known only by
// BSUID comes without from and wa_id, as Meta sends them for a user who
// adopted a username (Meta: business-scoped-user-ids).
func BuildUserWebhook(phoneNumberID string, u User, id string, at time.Time, content map[string]any) []byte {
	msg := map[string]any{"id": id, "timestamp": strconv.FormatInt(at.Unix(), 10)}
	maps.Copy(msg, content)
	contact := map[string]any{}
	if u.Phone != "" {
		msg["from"] = strings.TrimPrefix(u.Phone, "+")
		contact["wa_id"] = strings.TrimPrefix(u.Phone, "+")
	}
	if u.UserID != "" {
		msg["from_user_id"] = u.UserID
		contact["user_id"] = u.UserID
	}
	if u.Username != "" {
		contact["profile"] = map[string]string{"username": u.Username}
	}
	value := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]string{"phone_number_id": phoneNumberID},
		"messages":          []any{msg},
	}
	if content["type"] != "system" {
		// System messages come without contacts (Meta:
		// webhooks/reference/messages/system).
		value["contacts"] = []any{contact}
	}
	return buildChange(value)
}

// BuildSystemWebhook returns the body Meta would post when u changed their
// number (m.Phone, with a new BSUID m.UserID) or only their BSUID.
func BuildSystemWebhook(phoneNumberID string, u User, id string, m bot.Move, at time.Time) []byte {
	sys := map[string]any{"type": "user_changed_user_id", "body": "User changed their user id"}
	if m.Phone != "" {
		sys = map[string]any{"type": "user_changed_number", "wa_id": strings.TrimPrefix(m.Phone, "+"),
			"body": "User changed from " + strings.TrimPrefix(u.Phone, "+") + " to " + strings.TrimPrefix(m.Phone, "+")}
	}
	if m.UserID != "" {
		sys["user_id"] = m.UserID
	}
	if u.UserID != "" {
		sys["previous_user_id"] = u.UserID
	}
	return BuildUserWebhook(phoneNumberID, User{Phone: u.Phone}, id, at, map[string]any{"type": "system", "system": sys})
}

// BuildErrorsWebhook returns the body Meta would post to report errors of
// its own (value.errors), with codes and titles.
func BuildErrorsWebhook(phoneNumberID string, errs ...MetaError) []byte {
	var list []any
	for _, e := range errs {
		list = append(list, map[string]any{"code": e.Code, "title": e.Title, "message": e.Title,
			"error_data": map[string]string{"details": e.Details}})
	}
	return buildChange(map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]string{"phone_number_id": phoneNumberID},
		"errors":            list,
	})
}

func buildChange(value map[string]any) []byte {
	// Entry id "0" is what the App Dashboard's test deliveries carry; the
	// real one is the WABA id, which nothing downstream reads.
	n := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "0",
			"changes": []any{map[string]any{"field": "messages", "value": value}},
		}},
	}
	b, err := json.Marshal(n)
	if err != nil {
		panic("whatsapp: build webhook: " + err.Error()) // maps of strings always marshal
	}
	return escapeNonASCII(b)
}

// escapeNonASCII writes every non-ASCII character as a \u escape, as Meta
// does in the bodies it signs, so a signature check that re-encoded the
// JSON would fail here as it would in production.
func escapeNonASCII(b []byte) []byte {
	var sb strings.Builder
	for _, r := range string(b) {
		if r < 0x80 {
			sb.WriteRune(r)
			continue
		}
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&sb, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&sb, `\u%04x`, r)
	}
	return []byte(sb.String())
}
