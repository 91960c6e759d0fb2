package bot

import (
	"context"
	"errors"
	"strings"

	"portabot/fsm"
)

// The message for the current provider: whenever the origin BSP must act
// (turn off two-step verification, finish a display-name approval), the
// client gets a ready-to-forward message asking for exactly that, in their
// language with an English copy, since the provider may not speak it.
// It names the number and nothing secret: never a code or a PIN.

// stepLetterPhone: a blocked client asked for the message before giving the
// number, which the message must name.
const stepLetterPhone = "letter_phone"

// letterPage is Meta's page a provider can check the request against: the
// programmatic migration page lists both as prerequisites of moving a
// number between providers.
const letterPage = "https://developers.facebook.com/documentation/business-messaging/whatsapp/solution-providers/support/migrating-phone-numbers-among-solution-partners-programmatically"

// ErrNoLetter is returned for a case whose current provider has nothing to
// do: it is not blocked on two-step verification or the display name.
var ErrNoLetter = errors.New("the case is not waiting for its current provider (not blocked on two-step verification or the display name)")

// ErrLetterNoNumber is returned when the client has not given the number
// the message must name.
var ErrLetterNoNumber = errors.New("the client has not given the number yet, and the message must name it")

// Letter is the message for the current provider.
type Letter struct {
	Lang Lang
	// Text is the whole message: in the client's language, then the English
	// copy (only the English for an English speaker).
	Text string
}

// letterAsk maps a check to what the provider is asked.
func letterAsk(c Check) (ask, why msg, ok bool) {
	switch c {
	case Check2FA:
		return msgLetterAsk2FA, msgLetterWhy2FA, true
	case CheckDisplayName:
		return msgLetterAskName, msgLetterWhyName, true
	}
	return 0, 0, false
}

// WriteLetter writes the message for the current provider of number about
// check, in l with an English copy.
func WriteLetter(check Check, number string, l Lang) (Letter, error) {
	ask, why, ok := letterAsk(check)
	if !ok {
		return Letter{}, ErrNoLetter
	}
	if number == "" {
		return Letter{}, ErrLetterNoNumber
	}
	one := func(l Lang) string {
		return render(l, msgLetterBody, number, render(l, ask, number), render(l, why), letterPage)
	}
	text := one(l)
	if l != English {
		text += "\n\n— English —\n\n" + one(English)
	}
	return Letter{Lang: l, Text: text}, nil
}

// LetterFor is the message for the current provider of case c, for agents
// (`/porta letter`).
func LetterFor(c Case) (Letter, error) {
	if c.State != fsm.Blocked {
		return Letter{}, ErrNoLetter
	}
	number := c.Phone
	if number == "" {
		number = c.LetterPhone
	}
	return WriteLetter(c.Blocked, number, c.Lang)
}

// Letter returns the message for the current provider of the case with id.
func (b *Bot) Letter(ctx context.Context, id string) (Letter, error) {
	c, err := b.store.Case(ctx, id)
	if err != nil {
		return Letter{}, err
	}
	return LetterFor(c)
}

// offersLetter reports whether the blocked client's fix is their current
// provider's to make.
func (t *turn) offersLetter() bool {
	_, _, ok := letterAsk(t.cas.Blocked)
	return ok
}

// asksLetter reads a request for the message to the current provider in
// the client's words ("mensagem pro provedor", "message for my BSP"), as
// the button's label invites them to type it: a word for a message and
// one for the provider.
func asksLetter(text string) bool {
	var message, provider bool
	for _, w := range strings.Fields(fold(text)) {
		switch w {
		case "mensagem", "mensaje", "message", "msg", "carta", "letter", "texto", "text":
			message = true
		case "provedor", "proveedor", "provider", "bsp", "fornecedor":
			provider = true
		}
	}
	return message && provider
}

// sendLetter sends the message as a WhatsApp message of its own, which the
// client can forward as it is; the number is asked for first when unknown.
func (t *turn) sendLetter() {
	c := t.cas
	number := c.Phone
	if number == "" {
		number = c.LetterPhone
	}
	if number == "" {
		t.conv.Step = stepLetterPhone
		t.say(msgLetterAskPhone)
		return
	}
	l, err := WriteLetter(c.Blocked, number, t.lang())
	if err != nil {
		t.prompt()
		return
	}
	t.record("letter", string(c.Blocked))
	t.say(msgLetterIntro)
	t.replies = append(t.replies, Reply{Text: l.Text})
	// The message goes as it is: what follows must not join it.
	t.sealed = len(t.replies)
	t.prompt()
}

// onLetterPhone reads the number a blocked client gives for the message.
func (t *turn) onLetterPhone(text string) bool {
	if n, ok := numberIn(text); ok {
		text = n
	}
	p, err := ParsePhone(text, t.b.cfg.Region)
	if err != nil {
		if strings.ContainsFunc(text, func(r rune) bool { return r >= '0' && r <= '9' }) {
			t.say(msgPhoneInvalid)
			return true
		}
		return false
	}
	t.conv.Step = ""
	t.cas.LetterPhone = p.E164
	t.record("letter_phone", MaskPhone(p.E164))
	t.sendLetter()
	return true
}
