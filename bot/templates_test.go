package bot_test

import (
	"context"
	"testing"

	"portabot/bot"
	"portabot/fsm"
)

// Templates are copied before the number is registered, as the FAQ tells
// clients and Meta suggests: a template works with us only once its copy
// exists.
func TestTemplatesAreCopiedBeforeRegistering(t *testing.T) {
	h := reach(t, fsm.Done, bot.English)
	events, err := h.db.Audit(context.Background(), h.kase().ID)
	if err != nil {
		t.Fatal(err)
	}
	copied, registered := -1, -1
	for i, e := range events {
		switch {
		case e.Kind == "migrate_templates" && e.Detail == "ok" && copied < 0:
			copied = i
		case e.Kind == "register" && e.Detail == "ok":
			registered = i
		}
	}
	if copied < 0 || registered < 0 || copied > registered {
		t.Errorf("templates copied at event %d, number registered at %d: want the copy first", copied, registered)
	}
	if n := h.calls("migrate_message_templates"); n != 1 {
		t.Errorf("migrate_message_templates called %d times, want once", n)
	}
}

// A client who skipped the source account is not told templates are being
// copied: Meta copies them by itself.
func TestNoTemplateCopyAnnouncedAfterSkip(t *testing.T) {
	h := reach(t, fsm.AskPhone, bot.English)
	h.send(typed)
	h.tap("skip")
	h.tap("sms")
	h.send(otp)
	h.send(pin)
	r := h.send(pin)
	h.wantState(fsm.Done)
	lacks(t, r, "Copying your templates")
	says(t, r, "Meta copies your approved high-quality templates automatically")
}
