package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"portabot/bot"
)

// maxTextBody is Meta's limit for a text message body, in characters.
const maxTextBody = 4096

type textMessage struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	} `json:"text"`
}

// SendText sends body to the WhatsApp user to (digits, with or without "+")
// from the business number phoneNumberID, and returns Meta's message id
// (wamid). It is made once: a repeated send would reach the client twice.
func (c *Client) SendText(ctx context.Context, phoneNumberID, to, body string) (string, error) {
	const op = "messages"
	digits := strings.TrimPrefix(strings.TrimSpace(to), "+")
	if !bot.AllDigits(digits, 6, 15) {
		return "", fmt.Errorf("graph: %s: recipient is not a phone number in digits", op)
	}
	if body == "" || utf8.RuneCountInString(body) > maxTextBody {
		return "", fmt.Errorf("graph: %s: text must have 1 to %d characters", op, maxTextBody)
	}
	msg := textMessage{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		// With the "+", Meta takes the number as international; without it,
		// Meta would prepend the business number's country code.
		To:   "+" + digits,
		Type: "text",
	}
	msg.Text.Body = body
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	err := c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{id}/messages",
		ids:    map[string]string{"id": phoneNumberID},
		json:   msg,
		out:    &out,
	})
	if err != nil {
		return "", err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return "", fmt.Errorf("graph: %s: answer has no message id", op)
	}
	return out.Messages[0].ID, nil
}
