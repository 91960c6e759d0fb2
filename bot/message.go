package bot

import "time"

// Lang is a language the bot speaks: "en", "pt" (Brazil) or "es".
type Lang string

// The languages portabot speaks.
const (
	English    Lang = "en"
	Portuguese Lang = "pt"
	Spanish    Lang = "es"
)

// Langs lists the supported languages in menu order.
var Langs = []Lang{English, Portuguese, Spanish}

// ParseLang returns the language for a code such as "pt" or "pt_BR", or
// false when portabot does not speak it.
func ParseLang(s string) (Lang, bool) {
	if len(s) >= 2 {
		switch Lang(s[:2]) {
		case English, Portuguese, Spanish:
			return Lang(s[:2]), true
		}
	}
	return "", false
}

// Inbound is one message from a client.
type Inbound struct {
	// ID identifies the message (Meta's wamid); a second message with the same
	// ID is a re-delivery and changes nothing.
	ID string
	// From is the client's WhatsApp id: the phone number in digits, no "+".
	From string
	// Text is what the client typed, or the title of the button they tapped.
	Text string
	// Choice is the id of the button or list row tapped, empty for typed text.
	Choice string `json:",omitempty"`
	// Unsupported is set for content the bot cannot read (image, audio,
	// sticker, location, ...); it names the kind.
	Unsupported string `json:",omitempty"`
	At          time.Time
}

// Button is a choice offered with a reply: sent as a reply button (up to
// three) or as a list row.
type Button struct {
	ID    string
	Title string
}

// Reply is one message to the client.
type Reply struct {
	Text    string   `json:",omitempty"`
	Buttons []Button `json:",omitempty"`
}
