package metasim_test

import (
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/internal/eventually"
)

const jsonType = "application/json"

func TestMessagesToABSUID(t *testing.T) {
	e := start(t, "")
	code, body := raw(t, e, "POST", "/v25.0/109876543210/messages", jsonType,
		`{"messaging_product":"whatsapp","recipient":"BR.1502576394655843","type":"text","text":{"body":"Olá"}}`)
	if code != 200 || !strings.Contains(body, `"user_id":"BR.1502576394655843"`) {
		t.Fatalf("message to a BSUID: %d %s; want 200 naming the user id", code, body)
	}
	sent := e.sim.Sent()
	if len(sent) != 1 || sent[0].To != "BR.1502576394655843" {
		t.Errorf("Sent() = %+v; want one message to the BSUID", sent)
	}
	for _, bad := range []string{
		`{"messaging_product":"whatsapp","type":"text","text":{"body":"to nobody"}}`,
		`{"messaging_product":"whatsapp","recipient":"not-a-bsuid","type":"text","text":{"body":"x"}}`,
	} {
		if code, body := raw(t, e, "POST", "/v25.0/109876543210/messages", jsonType, bad); code != 400 {
			t.Errorf("%s: %d %s; want 400", bad, code, body)
		}
	}
}

func TestTemplatesAreCheckedAgainstTheApprovedOnes(t *testing.T) {
	e := start(t, "")
	tests := []struct {
		name, template string
		code           int
		want           string
	}{
		{"approved", `{"name":"portabot_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"12"}]}]}`, 200, "wamid."},
		{"unknown name", `{"name":"promo","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"12"}]}]}`, 404, "132001"},
		{"unapproved language", `{"name":"portabot_update","language":{"code":"fr"},"components":[{"type":"body","parameters":[{"type":"text","text":"12"}]}]}`, 404, "132001"},
		{"missing parameter", `{"name":"portabot_update","language":{"code":"en"}}`, 400, "132000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := raw(t, e, "POST", "/v25.0/109876543210/messages", jsonType,
				`{"messaging_product":"whatsapp","to":"+5511921098765","type":"template","template":`+tt.template+`}`)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("%d %s; want %d with %s", code, body, tt.code, tt.want)
			}
		})
	}
	if sent := e.sim.Sent(); len(sent) != 1 || sent[0].Template != "portabot_update/pt_BR" || sent[0].Text != "12" {
		t.Errorf("Sent() = %+v; want the approved template, with its parameter", sent)
	}
}

func TestFreeFormOutsideTheWindowFails(t *testing.T) {
	e := start(t, "")
	const user = "+5511921098765"
	e.sim.ClientWrote(e.clock.Now(), user)
	send := func(kind string) metasim.Message {
		t.Helper()
		body := `{"messaging_product":"whatsapp","to":"` + user + `","type":"text","text":{"body":"news"}}`
		if kind == "template" {
			body = `{"messaging_product":"whatsapp","to":"` + user + `","type":"template","template":{"name":"portabot_update","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"7"}]}]}}`
		}
		if code, b := raw(t, e, "POST", "/v25.0/109876543210/messages", jsonType, body); code != 200 {
			t.Fatalf("%s: %d %s; Meta takes the message and fails it later", kind, code, b)
		}
		sent := e.sim.Sent()
		return sent[len(sent)-1]
	}
	if m := send("text"); m.Error != "" {
		t.Errorf("a message within the window failed: %s", m.Error)
	}
	e.clock.Advance(24*time.Hour + time.Minute)
	if m := send("text"); !strings.HasPrefix(m.Error, "131047") {
		t.Errorf("a free-form message 24 hours after the client wrote: error %q, want 131047", m.Error)
	}
	if m := send("template"); m.Error != "" {
		t.Errorf("a template outside the window failed: %s", m.Error)
	}
	e.sim.ClientWrote(e.clock.Now(), user)
	if m := send("text"); m.Error != "" {
		t.Errorf("a message after the client wrote again failed: %s", m.Error)
	}
}

func TestSimPlaysSystemMessagesAndErrors(t *testing.T) {
	a := &app{}
	e := startFaults(t, a)
	if err := e.sim.ChangeNumber(botPhoneID, clientNumber, "BR.1502576394655843", "+5511955550000", "BR.7000000000000001"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the system message", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.inbound) == 1
	})
	a.mu.Lock()
	in := a.inbound[0]
	a.mu.Unlock()
	if in.Moved == nil || in.Moved.Phone != "5511955550000" || in.Moved.UserID != "BR.7000000000000001" ||
		in.UserID != "BR.1502576394655843" || in.From != strings.TrimPrefix(clientNumber, "+") {
		t.Errorf("the app read %+v (moved %+v); want a move from the old number and BSUID to the new ones", in, in.Moved)
	}
	if err := e.sim.ReportError(botPhoneID, 131000, "Something went wrong", "try again later"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the errors webhook", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.arrived >= 2
	})
	if err := startFaults(t, nil).sim.ReportError(botPhoneID, 1, "x", ""); err == nil {
		t.Error("a simulator without a webhook claimed to post one")
	}
}
