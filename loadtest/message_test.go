package loadtest

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"portabot/adapters/whatsapp"
)

func TestBuilderMatchesWhatsAppBuilder(t *testing.T) {
	qs := []string{"hi", "¿cuánto cuesta?", "o que é waba"}
	at := time.Now()
	m := NewMessages(testSecret, benchPhoneID, qs, 42, 10, 9000)
	build := m.Builder()
	var buf []byte
	for j := range int64(25) {
		var sig string
		buf, sig = build(j, buf)
		from := m.Phone(m.ClientOf(j))
		want := whatsapp.BuildTextWebhook(benchPhoneID, from, idPrefix+strconv.FormatInt(9000+j, 10), qs[j%3], at)
		if !bytes.Equal(buf, want) {
			t.Fatalf("message %d:\n got %s\nwant %s", j, buf, want)
		}
		if sig != whatsapp.SignBody(testSecret, want) {
			t.Fatalf("message %d: signature %s, want %s", j, sig, whatsapp.SignBody(testSecret, want))
		}
		d, err := whatsapp.Decode(buf)
		if err != nil || len(d.Messages) != 1 {
			t.Fatalf("message %d does not decode: %v", j, err)
		}
		if c, ok := ParsePhone("+" + d.Messages[0].From); !ok || c != 42+j%10 {
			t.Errorf("message %d: client %d, %v; want %d", j, c, ok, 42+j%10)
		}
		if n, ok := ParseMessageID(d.Messages[0].ID); !ok || n != 9000+j {
			t.Errorf("message %d: id number %d, %v", j, n, ok)
		}
	}
}

func TestOneClientPerMessage(t *testing.T) {
	m := NewMessages(testSecret, benchPhoneID, []string{"hi"}, 0, 0, 0)
	if m.ClientOf(12345) != 12345 {
		t.Error("with no client count every message should have its own client")
	}
}

func TestReadQuestions(t *testing.T) {
	qs, err := ReadQuestions(strings.NewReader("{\"q\": \"what is portability\", \"intent\": \"x\"}\n\n  plain line  \n"))
	if err != nil || len(qs) != 2 || qs[0] != "what is portability" || qs[1] != "plain line" {
		t.Errorf("got %q, %v", qs, err)
	}
	if _, err := ReadQuestions(strings.NewReader("{\"intent\": \"x\"}\n")); err == nil {
		t.Error("a JSON line without q should be refused")
	}
	if _, err := ReadQuestions(strings.NewReader("\n")); err == nil {
		t.Error("no questions should be refused")
	}
	if len(DefaultQuestions()) < 50 {
		t.Errorf("only %d built-in questions", len(DefaultQuestions()))
	}
}

func TestParseRefusesOtherNumbers(t *testing.T) {
	for _, s := range []string{"+5511912345678", "5521912345678", "55119123", "wamid.X1"} {
		if _, ok := ParsePhone(s); ok != (s == "+5511912345678") {
			t.Errorf("ParsePhone(%q) = %v", s, ok)
		}
	}
	if _, ok := ParseMessageID("wamid.HBgL"); ok {
		t.Error("Meta's own ids are not the tool's")
	}
}
