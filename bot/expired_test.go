package bot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"portabot/bot"
)

// Past retention a case keeps no number in any field: the one a blocked
// client gave for the message to their provider and the pre-flight's
// report included.
func TestExpiredKeepsNoNumber(t *testing.T) {
	const number = "5511987654321"
	c := bot.Case{ID: "7", Client: number, ClientPhone: number, Phone: "+" + number, LetterPhone: "+" + number,
		State: "done", Closed: time.Unix(1, 0),
		Preflight: &bot.Preflight{Findings: []bot.Finding{{Kind: "number", State: "ok", Args: []string{"+" + number},
			Detail: "number +" + number + " valid, " + bot.MaskPhone(number)}}}}
	got := bot.Expired(c, bot.PseudonymKey([]byte("a seal key of thirty-two bytes!!")), time.Unix(2, 0))
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{number, "987654321", bot.MaskPhone(number)} {
		if strings.Contains(string(b), needle) {
			t.Errorf("the expired case still holds %q: %s", needle, b)
		}
	}
	if got.Preflight == nil || len(got.Preflight.Findings) != 1 || got.Preflight.Findings[0].Kind != "number" {
		t.Errorf("the pre-flight's findings were lost: %+v", got.Preflight)
	}
	if c.Preflight.Findings[0].Detail == "" {
		t.Error("expiring a case changed the original's pre-flight")
	}
}
