package terminal

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"portabot/bot"
)

// echo is the engine as the terminal sees it: it records what it got and
// offers two buttons after every message.
type echo struct{ got []bot.Inbound }

func (e *echo) Handle(ctx context.Context, in bot.Inbound) ([]bot.Reply, error) {
	e.got = append(e.got, in)
	return []bot.Reply{{Text: "you said " + in.Text, Buttons: []bot.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}}}, nil
}

func TestChatMapsNumbersAndTitlesToButtons(t *testing.T) {
	e := &echo{}
	var out bytes.Buffer
	c := &Chat{Bot: e, From: "5511999990001", In: strings.NewReader("hi\n2\nyes\n123456\n"), Out: &out}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(e.got) != 4 {
		t.Fatalf("the bot got %d messages, want 4 (the chat must end at EOF)", len(e.got))
	}
	want := []struct{ text, choice string }{{"hi", ""}, {"No", "no"}, {"Yes", "yes"}, {"123456", ""}}
	for i, w := range want {
		if e.got[i].Text != w.text || e.got[i].Choice != w.choice {
			t.Errorf("message %d = %q/%q, want %q/%q", i, e.got[i].Text, e.got[i].Choice, w.text, w.choice)
		}
		if e.got[i].From != "5511999990001" || e.got[i].ID == "" {
			t.Errorf("message %d has sender %q and id %q", i, e.got[i].From, e.got[i].ID)
		}
	}
	if e.got[0].ID == e.got[1].ID {
		t.Error("two messages share an id: the engine would drop the second as a re-delivery")
	}
	if !strings.Contains(out.String(), "bot: you said hi\n     [1] Yes\n     [2] No\n") {
		t.Errorf("buttons are not shown numbered:\n%s", out.String())
	}
}

func TestChatShowsPromptOnlyWhenAsked(t *testing.T) {
	var out bytes.Buffer
	c := &Chat{Bot: &echo{}, From: "1", In: strings.NewReader("hi\n"), Out: &out, Prompt: "you: "}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "you: ") {
		t.Errorf("no prompt before the first line: %q", out.String())
	}
}
