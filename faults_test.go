package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/internal/eventually"
)

// A reply Meta took without its answer reaching serve (the connection was
// reset after the request was received, or the request never got there) is
// sent once: settled by Meta's status webhook, or sent again only after the
// grace when no status can come.
func TestServeReplyWithoutMetaAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		kind  metasim.FaultKind
		grace time.Duration
	}{
		// A grace far beyond the test's length: only the status can
		// settle the reply.
		{"reset after Meta took it", metasim.FaultReset, time.Hour},
		{"lost before Meta saw it", metasim.FaultDrop, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const client = "5511999990011"
			addr := freePort(t)
			sim, err := metasim.New(metasim.Options{Token: "tok",
				Webhook: &metasim.Webhook{URL: "http://" + addr + "/webhooks/whatsapp", AppSecret: testAppSecret,
					Retry: 20 * time.Millisecond, MaxRetry: 100 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.Close)
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			sim.Inject(metasim.Fault{Kind: tc.kind, Endpoint: metasim.EndpointMessages, Phone: "+" + client, Times: 1})

			key := make([]byte, 32)
			_, _ = rand.Read(key)
			db := filepath.Join(t.TempDir(), "portabot.db")
			s := startServe(t, map[string]string{
				"PORTABOT_ADDR":               addr,
				"PORTABOT_META_ACCESS_TOKEN":  "tok",
				"PORTABOT_GRAPH_URL":          srv.URL,
				"PORTABOT_META_APP_SECRET":    testAppSecret,
				"PORTABOT_META_VERIFY_TOKEN":  "verify-token",
				"PORTABOT_WA_PHONE_NUMBER_ID": fakePhoneID,
				"PORTABOT_DB_KEY":             base64.StdEncoding.EncodeToString(key),
				"PORTABOT_DEST_WABA_ID":       metasim.SandboxWABA,
				"PORTABOT_SEND_GRACE":         tc.grace.String(),
				"PORTABOT_LOG_LEVEL":          "debug",
			}, db)
			s.text(t, client, "hi")
			to := func() []metasim.Message {
				var out []metasim.Message
				for _, m := range sim.Sent() {
					if m.To == "+"+client {
						out = append(out, m)
					}
				}
				return out
			}
			eventually.Within(t, 20*time.Second, "the welcome at Meta", func() bool { return len(to()) > 0 })
			// A reply sent again comes before the outbox empties, and its
			// statuses after.
			waitSettled(t, s.client, s.url)
			eventually.Within(t, 10*time.Second, "Meta's statuses taken", func() bool { return sim.PendingStatuses() == 0 })
			s.mustStop(t)

			got := to()
			if len(got) != 1 {
				t.Fatalf("the client received %d messages, want 1; logs:\n%s", len(got), s.logs)
			}
			st := openStore(t, db, key)
			rows, err := st.OutboundRows(context.Background(), client)
			if err != nil || len(rows) != 1 {
				t.Fatalf("outbox rows: %+v, %v; want one", rows, err)
			}
			r := rows[0]
			if r.State != bot.OutboundSent || r.MetaID != got[0].ID || r.Status != "delivered" || r.InDoubt() {
				t.Errorf("row = %+v, want sent as %s, delivered", r, got[0].ID)
			}
			logs := s.logs.String()
			resent := strings.Contains(logs, "sending a reply again")
			if want := tc.kind == metasim.FaultDrop; resent != want {
				t.Errorf("reply sent again after the grace: %v, want %v; logs:\n%s", resent, want, logs)
			}
			// Reset: one attempt, settled by the status. Dropped: a second
			// one after the grace.
			if want := map[metasim.FaultKind]int{metasim.FaultReset: 1, metasim.FaultDrop: 2}[tc.kind]; r.Attempts != want {
				t.Errorf("row made %d attempts, want %d", r.Attempts, want)
			}
		})
	}
}

func TestSendGraceConfig(t *testing.T) {
	cfg, err := loadServeConfig(sandboxGetenv(nil))
	if err != nil || cfg.SendGrace != delivery.DefaultGrace {
		t.Errorf("default PORTABOT_SEND_GRACE: %v, %v; want %v", cfg.SendGrace, err, delivery.DefaultGrace)
	}
	for v, want := range map[string]time.Duration{"0": 0, "5s": 5 * time.Second, "2m": 2 * time.Minute} {
		cfg, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_SEND_GRACE": v}))
		if err != nil || cfg.SendGrace != want {
			t.Errorf("PORTABOT_SEND_GRACE=%q: %v, %v; want %v", v, cfg.SendGrace, err, want)
		}
	}
	for _, v := range []string{"soon", "-1s", "48h"} {
		_, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_SEND_GRACE": v}))
		if err == nil || !strings.Contains(err.Error(), "PORTABOT_SEND_GRACE") {
			t.Errorf("PORTABOT_SEND_GRACE=%q: error %v, want it refused by name", v, err)
		}
	}
}
