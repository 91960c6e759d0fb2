package main

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/internal/eventually"
	"portabot/storage"
)

// sentToID is what serve's simulated Meta took for the recipient id (a
// BSUID, or a number with "+").
func (s *served) sentToID(t *testing.T, id string) []metasim.Message {
	t.Helper()
	var out []metasim.Message
	for _, m := range s.feed(t).Messages {
		if m.To == id {
			out = append(out, m)
		}
	}
	return out
}

func TestServeAnswersAClientKnownOnlyByBSUID(t *testing.T) {
	const bsuid = "BR.1502576394655843"
	s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))
	ana := whatsapp.User{UserID: bsuid, Username: "@analima"}
	// Meta's shape for a user who adopted a username: contacts[].user_id
	// and messages[].from_user_id, no from and no wa_id.
	first := whatsapp.BuildUserWebhook(s.phone, ana, newMessageID(), time.Now(),
		map[string]any{"type": "text", "text": map[string]string{"body": "Olá, quero portar meu número"}})
	if strings.Contains(string(first), `"from":`) || strings.Contains(string(first), `"wa_id"`) {
		t.Fatalf("the test webhook names a number: %s", first)
	}
	s.deliver(t, first)
	eventually.Within(t, 20*time.Second, "the reply to the BSUID", func() bool { return len(s.sentToID(t, bsuid)) > 0 })
	welcome := s.sentToID(t, bsuid)[0].Text

	// Meta delivers the first message again, and the client writes once
	// more: once the second answer is out, whatever the first caused is
	// out too, since a client's replies go in order.
	s.deliver(t, first)
	s.deliver(t, whatsapp.BuildUserWebhook(s.phone, ana, newMessageID(), time.Now(),
		map[string]any{"type": "text", "text": map[string]string{"body": "menu"}}))
	eventually.Within(t, 20*time.Second, "the answer to the second message", func() bool {
		return len(s.sentToID(t, bsuid)) > 1
	})
	n := 0
	for _, m := range s.feed(t).Messages {
		if m.Text == welcome {
			n++
		}
		if m.To != bsuid {
			t.Errorf("a reply went to %q, not to the client's BSUID", m.To)
		}
	}
	if n != 1 {
		t.Errorf("the first reply went out %d times, want once", n)
	}
}

func TestServeFollowsAClientWhoChangedNumber(t *testing.T) {
	const oldNumber, newNumber = "5511999990041", "5511999990042"
	s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))
	s.text(t, oldNumber, "hi")
	eventually.Within(t, 20*time.Second, "the welcome", func() bool { return len(s.sentTo(t, oldNumber)) > 0 })
	welcome := s.sentTo(t, oldNumber)[0].Text

	s.deliver(t, whatsapp.BuildSystemWebhook(s.phone, whatsapp.User{Phone: oldNumber}, newMessageID(),
		bot.Move{Phone: newNumber}, time.Now()))
	s.text(t, newNumber, "hi")
	eventually.Within(t, 20*time.Second, "the answer at the new number", func() bool { return len(s.sentTo(t, newNumber)) > 0 })
	for _, m := range s.sentTo(t, newNumber) {
		if m.Text == welcome {
			t.Errorf("the client was welcomed again at their new number: their conversation did not follow them")
		}
	}
}

func TestServeCountsErrorsMetaReports(t *testing.T) {
	s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))
	s.deliver(t, whatsapp.BuildErrorsWebhook(s.phone,
		whatsapp.MetaError{Code: "131000", Title: "Something went wrong", Details: "Message failed to send due to an unknown error."}))
	if got := scrapeMetrics(t, s).samples["portabot_webhook_meta_errors_total"]; got != 1 {
		t.Errorf("portabot_webhook_meta_errors_total = %v, want 1", got)
	}
	if !strings.Contains(s.logs.String(), "Something went wrong") {
		t.Error("the error Meta reported is not in the log")
	}
}

func TestTemplatesCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		name string
	}{
		{nil, nil, bot.DefaultTemplate},
		{[]string{"--name", "acme_port_update"}, nil, "acme_port_update"},
		{nil, map[string]string{"PORTABOT_TEMPLATE_UPDATE": "from_env"}, "from_env"},
	} {
		out, _, err := runCmd(t, tt.env, "", append([]string{"templates"}, tt.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var langs []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var d bot.TemplateDefinition
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("templates printed a line that is not a JSON body: %q", sc.Text())
			}
			if d.Name != tt.name || d.Category != "UTILITY" || len(d.Components) == 0 ||
				!strings.Contains(d.Components[0].Text, "{{1}}") || d.Components[0].Example == nil {
				t.Errorf("definition %+v: want %s, a utility template whose body takes the case number, with an example", d, tt.name)
			}
			langs = append(langs, d.Language)
		}
		if strings.Join(langs, ",") != "en,pt_BR,es" {
			t.Errorf("templates printed languages %v; want en, pt_BR and es", langs)
		}
	}
}

func TestChatAsAUsername(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portabot.db")
	out, _, err := runCmd(t, nil, "hi\n1\n", "chat", "--db", db, "--username", "@ana.lima")
	if err != nil {
		t.Fatalf("chat --username: %v\n%s", err, out)
	}
	if !strings.Contains(out, "bot:") {
		t.Fatalf("chat --username printed no reply:\n%s", out)
	}
	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cases, err := st.Cases(context.Background())
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases = %v, %v; want the one the client opened", cases, err)
	}
	if c := cases[0]; !strings.HasPrefix(c.Client, "BR.") || c.ClientPhone != "" || c.Who() != "@ana.lima" {
		t.Errorf("case client %q, number %q, shown as %q; want a BSUID, no number, shown as @ana.lima", c.Client, c.ClientPhone, c.Who())
	}
	if _, _, err := runCmd(t, nil, "", "chat", "--db", db, "--username", "two words"); err == nil {
		t.Error("chat --username accepted a name with a space")
	}
}
