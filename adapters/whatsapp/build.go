package whatsapp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// BuildTextWebhook returns the body Meta would post when the WhatsApp user
// from (digits, with or without "+") sends text to the business number
// phoneNumberID, as message id at time at. With BuildChoiceWebhook and
// SignBody it lets tests, portabot chat --server and load tools speak to a
// running server exactly as Meta does.
func BuildTextWebhook(phoneNumberID, from, id, text string, at time.Time) []byte {
	return buildWebhook(phoneNumberID, from, map[string]any{
		"from":      strings.TrimPrefix(from, "+"),
		"id":        id,
		"timestamp": strconv.FormatInt(at.Unix(), 10),
		"type":      "text",
		"text":      map[string]string{"body": text},
	})
}

// BuildChoiceWebhook returns the body Meta would post when the user taps the
// reply button choiceID, titled title.
func BuildChoiceWebhook(phoneNumberID, from, id, choiceID, title string, at time.Time) []byte {
	return buildWebhook(phoneNumberID, from, map[string]any{
		"from":      strings.TrimPrefix(from, "+"),
		"id":        id,
		"timestamp": strconv.FormatInt(at.Unix(), 10),
		"type":      "interactive",
		"interactive": map[string]any{
			"type":         "button_reply",
			"button_reply": map[string]string{"id": choiceID, "title": title},
		},
	})
}

func buildWebhook(phoneNumberID, from string, msg map[string]any) []byte {
	// Entry id "0" is what the App Dashboard's test deliveries carry; the
	// real one is the WABA id, which nothing downstream reads.
	n := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": "0",
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]string{"phone_number_id": phoneNumberID},
					"contacts":          []any{map[string]any{"wa_id": strings.TrimPrefix(from, "+")}},
					"messages":          []any{msg},
				},
			}},
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
