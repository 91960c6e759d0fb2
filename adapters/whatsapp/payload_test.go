package whatsapp

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unix(secs int64) time.Time { return time.Unix(secs, 0).UTC() }

func TestDecodeFixtures(t *testing.T) {
	const pablo = "16505551234"
	tests := []struct {
		file string
		want Delivery
	}{
		{"text.json", Delivery{Messages: []bot.Inbound{{
			ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZCRjA0NDI4NjA0QjY0QzhDNQA=", From: pablo,
			Text: "I want to move my number", At: unix(1714510003),
		}}}},
		{"text_unicode.json", Delivery{Messages: []bot.Inbound{{
			ID: "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDNBMDRCN0ZFMjY1RDM5QjE0QkE2AA==", From: "5511987654321",
			Text: "Olá! Quero portar meu número 🚀", At: unix(1714510120),
		}}}},
		{"button_reply.json", Delivery{Messages: []bot.Inbound{{
			ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdBNjA5NEEyRjNGNjBFMjRBRAA=", From: pablo,
			Context: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA",
			Text:    "Yes, it's off", Choice: "2fa_off", At: unix(1714510062),
		}}}},
		{"list_reply.json", Delivery{Messages: []bot.Inbound{{
			ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUQ2RTlCNzM4OEZGMDE3RjZBNAA=", From: pablo,
			Context: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBIzQUI3MjM0RDlCNjEzQTBDRTUA",
			Text:    "360dialog", Choice: "bsp_360dialog", At: unix(1714510180),
		}}}},
		{"template_button.json", Delivery{Messages: []bot.Inbound{{
			ID: "wamid.HBgLMTYzMTU1NTEyMzQVAgASGBQzQTg4RjA3MzM2MDlCMEE1QkNCNwA=", From: "16315551234",
			Context: "wamid.HBgLMTYzMTU1NTEyMzQVAgARGBJDQjZCMzlEQUE4OTJBMTE4NjgA",
			Text:    "Continue my port", Choice: "resume_port", At: unix(1669322473),
		}}}},
		{"dashboard_test.json", Delivery{Messages: []bot.Inbound{{
			ID: "ABGGFlA5Fpa", From: "16315551181", Text: "this is a text message", At: unix(1504902988),
		}}}},
		{"two_entries.json", Delivery{Messages: []bot.Inbound{
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQjFBNzE4QzQ2NUU5RTJBNkU1OQA=", From: pablo, Text: "Hello", At: unix(1714510300)},
			{ID: "wamid.HBgLNjAxNzM1MjYyMzMVAgASGBQzQUI0NkE4NjM1QTU2NjVGOURGQgA=", From: "60173526233", Text: "Can I keep my templates?", At: unix(1714510301)},
		}}},
		{"duplicate.json", Delivery{Messages: []bot.Inbound{
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzRUI1RDk4QTk1NzRGQjI2RDc4MgA=", From: pablo, Text: "2", At: unix(1714510400)},
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzRUI1RDk4QTk1NzRGQjI2RDc4MgA=", From: pablo, Text: "2", At: unix(1714510400)},
		}}},
		{"unsupported.json", Delivery{Messages: []bot.Inbound{
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTFGNjQ5NkU3QjJGNUM5RjE4MwA=", From: pablo, Unsupported: "image", At: unix(1714510500)},
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTVCNTRBNDQ5NjYxRjBERjNDNAA=", From: pablo, Unsupported: "sticker", At: unix(1714510501)},
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTk5QjFGMkIxQjA0RjYwNEI0RQA=", From: pablo, Unsupported: "location", At: unix(1714510502)},
			{ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUQ5QkJDNjc3NTRGRjNGMzhDOQA=", From: pablo, Unsupported: "reaction", At: unix(1714510503)},
		}}},
		{"statuses.json", Delivery{Statuses: []Status{
			{MetaID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA", Status: "sent", Recipient: pablo, At: unix(1750030073)},
			{MetaID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA", Status: "delivered", Recipient: pablo, At: unix(1750030075)},
			{MetaID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA", Status: "read", Recipient: pablo, At: unix(1750030101)},
			{MetaID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIzQUI3MjM0RDlCNjEzQTBDRTUA", Status: "failed", Recipient: pablo, At: unix(1750116500),
				Detail: "131047: Re-engagement message (Message failed to send because more than 24 hours have passed since the customer last replied to this number.)"},
		}}},
		{"bsuid_only.json", Delivery{Messages: []bot.Inbound{{
			ID:     "wamid.HBgNQlIuMTUwMjU3NjM5NDY1NTg0MxUCABIYFDNBMDRCN0ZFMjY1RDM5QjE0QkE2AA==",
			UserID: "BR.1502576394655843", Username: "@analima",
			Text: "Quero portar meu número", At: unix(1776944344),
		}}}},
		{"bsuid_and_phone.json", Delivery{Messages: []bot.Inbound{{
			ID:   "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUJDREVGMDEyMzQ1Njc4OUFCQwA=",
			From: pablo, UserID: "US.13491208655302741918", Text: "Hi", At: unix(1776944400),
		}}}},
		{"system_changed_number.json", Delivery{Messages: []bot.Inbound{{
			ID:   "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTk4NzY1NDMyMTBGRURDQkEwAA==",
			From: pablo, UserID: "US.13491208655302741918", At: unix(1776950000),
			Moved: &bot.Move{Phone: "16505559876", UserID: "US.99887766554433221100"},
		}}}},
		{"system_changed_user_id.json", Delivery{Messages: []bot.Inbound{{
			ID:     "wamid.HBgNQlIuMTUwMjU3NjM5NDY1NTg0MxUCABIYFDNBQkNERUYwMTIzNDU2Nzg5AA==",
			UserID: "BR.1502576394655843", At: unix(1776951000),
			Moved: &bot.Move{UserID: "BR.7000000000000001"},
		}}}},
		{"value_errors.json", Delivery{Errors: []MetaError{
			{Code: "131000", Title: "Something went wrong", Details: "Message failed to send due to an unknown error."},
		}}},
		{"security.json", Delivery{Security: []SecurityEvent{
			{DisplayPhone: "15550783881", Event: "PIN_CHANGED", Requester: "2553166738377434", At: unix(1714510600)},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Decode(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeOddItems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Delivery
	}{
		{"no timestamp leaves At zero",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","type":"text","text":{"body":"hi"}}]}}]}]}`,
			Delivery{Messages: []bot.Inbound{{ID: "a", From: "1", Text: "hi"}}}},
		{"numeric timestamp",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","timestamp":1714510003,"type":"text","text":{"body":"hi"}}]}}]}]}`,
			Delivery{Messages: []bot.Inbound{{ID: "a", From: "1", Text: "hi", At: unix(1714510003)}}}},
		{"unreadable timestamp",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","timestamp":"soon","type":"text","text":{"body":"hi"}}]}}]}]}`,
			Delivery{Messages: []bot.Inbound{{ID: "a", From: "1", Text: "hi"}}}},
		{"message without id or sender is ignored",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","type":"text"},{"id":"b","type":"text"}]}}]}]}`,
			Delivery{Ignored: 2}},
		{"text body of the wrong type is kept as unreadable",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","type":"text","text":{"body":42}}]}}]}]}`,
			Delivery{Messages: []bot.Inbound{{ID: "a", From: "1", Unsupported: "unreadable"}}}},
		{"flow answer",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}}}]}}]}]}`,
			Delivery{Messages: []bot.Inbound{{ID: "a", From: "1", Unsupported: "interactive.nfm_reply"}}}},
		{"Meta's unsupported type",
			`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}]}}]}]}`,
			Delivery{Messages: []bot.Inbound{{ID: "a", From: "1", Unsupported: "unsupported"}},
				Errors: []MetaError{{Code: "131051", Title: "Message type unknown", Client: "1"}}}},
		{"status without id is ignored",
			`{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"sent"}]}}]}]}`,
			Delivery{Ignored: 1}},
		{"other fields are skipped",
			`{"entry":[{"changes":[{"field":"account_update","value":{"event":"PARTNER_ADDED"}}]}]}`,
			Delivery{}},
		{"null", `null`, Delivery{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{``, `{`, `[]`, `"x"`, `{"entry":"x"}`, `{"entry":[{"changes":{}}]}`} {
		if _, err := Decode([]byte(body)); err == nil {
			t.Errorf("Decode(%q) = nil error, want one", body)
		}
	}
}

func TestDecodeForOneNumber(t *testing.T) {
	body := fixture(t, "text.json")
	d, err := decode(body, "999")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 0 || d.Ignored != 1 {
		t.Errorf("decode for another number = %d messages, %d ignored; want 0, 1", len(d.Messages), d.Ignored)
	}
	d, err = decode(body, "106540352242922")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 1 {
		t.Errorf("decode for the number = %d messages, want 1", len(d.Messages))
	}
}

func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(fixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"a","timestamp":-1}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d1, err1 := Decode(body)
		d2, err2 := Decode(body)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Decode errors differ: %v, %v", err1, err2)
		}
		if diff := cmp.Diff(d1, d2); diff != "" {
			t.Fatalf("Decode twice differs (-first +second):\n%s", diff)
		}
		for _, m := range d1.Messages {
			if m.ID == "" || m.Sender() == "" {
				t.Fatalf("message without id or sender: %+v", m)
			}
			if len(m.ID) > maxID || len(m.Sender()) > maxID {
				t.Fatalf("message with an oversized id: %d/%d bytes", len(m.ID), len(m.Sender()))
			}
		}
		for _, s := range d1.Statuses {
			if s.MetaID == "" || s.Status == "" {
				t.Fatalf("status without id or status: %+v", s)
			}
		}
	})
}
