package whatsapp

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
)

func TestBuildWebhooks(t *testing.T) {
	at := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		body []byte
		want bot.Inbound
	}{
		{"text", BuildTextWebhook(testPhoneID, "+5511987654321", "wamid.local1", "Olá, quero portar 🚀 <já>", at),
			bot.Inbound{ID: "wamid.local1", From: "5511987654321", Text: "Olá, quero portar 🚀 <já>", At: at}},
		{"choice", BuildChoiceWebhook(testPhoneID, "5511987654321", "wamid.local2", "2fa_off", "Sim, está desligada", at),
			bot.Inbound{ID: "wamid.local2", From: "5511987654321", Choice: "2fa_off", Text: "Sim, está desligada", At: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.body {
				if c >= 0x80 {
					t.Fatalf("body has a raw non-ASCII byte; Meta escapes them: %s", tt.body)
				}
			}
			sink := &fakeSink{}
			h := NewWebhook(WebhookConfig{AppSecret: testSecret, PhoneNumberID: testPhoneID}, sink, nil)
			if w := post(h, tt.body, SignBody(testSecret, tt.body)); w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			if diff := cmp.Diff([][]bot.Inbound{{tt.want}}, sink.enqueued); diff != "" {
				t.Errorf("enqueued mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
