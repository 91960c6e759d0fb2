// Package terminal runs a conversation with the bot in a terminal: lines in
// from a reader (a person, or a pipe), replies out to a writer, with the
// buttons WhatsApp would show drawn as a numbered list.
package terminal

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"portabot/bot"
)

// Handler is the engine as the terminal sees it.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) ([]bot.Reply, error)
}

// Chat is one client's terminal session.
type Chat struct {
	Bot Handler
	// From is the client's WhatsApp id (digits, no "+"); empty for a
	// client known only by UserID, their BSUID, as Meta names a client who
	// adopted a username. Username is shown to agents.
	From     string
	UserID   string
	Username string
	In       io.Reader
	Out      io.Writer
	// Prompt is printed before each line is read; empty for pipes.
	Prompt string

	buttons []bot.Button // the choices of the last reply, for "1", "2", ...
}

// maxLine bounds one input line; longer lines are cut, as WhatsApp would
// never deliver more than 4,096 characters anyway.
const maxLine = 64 * 1024

// Run reads lines until EOF or ctx ends, and prints the bot's replies.
func (c *Chat) Run(ctx context.Context) error {
	sc := bufio.NewScanner(c.In)
	sc.Buffer(make([]byte, 4096), maxLine)
	session := newID()
	for n := 1; ; n++ {
		if c.Prompt != "" {
			fmt.Fprint(c.Out, c.Prompt)
		}
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return fmt.Errorf("terminal: read: %w", err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		in := c.inbound(sc.Text())
		in.ID = fmt.Sprintf("chat.%s.%d", session, n)
		replies, err := c.Bot.Handle(ctx, in)
		if err != nil {
			return err
		}
		c.Print(replies)
	}
}

// inbound turns a typed line into a message: a button's number or title
// becomes that button's choice.
func (c *Chat) inbound(line string) bot.Inbound {
	in := bot.Inbound{From: c.From, UserID: c.UserID, Username: c.Username, Text: line, At: time.Now()}
	s := strings.TrimSpace(line)
	if i, err := strconv.Atoi(s); err == nil && i >= 1 && i <= len(c.buttons) && len(s) <= 2 {
		b := c.buttons[i-1]
		in.Choice, in.Text = b.ID, b.Title
		return in
	}
	for _, b := range c.buttons {
		if strings.EqualFold(s, b.Title) {
			in.Choice, in.Text = b.ID, b.Title
			return in
		}
	}
	return in
}

// Print shows replies as the client would read them.
func (c *Chat) Print(replies []bot.Reply) {
	if len(replies) > 0 {
		// Numbers answer the newest question only.
		c.buttons = nil
	}
	for _, r := range replies {
		if t := r.Template; t != nil {
			// What the phone shows is Meta's approved text; the terminal
			// names the template.
			fmt.Fprintf(c.Out, "bot: [template %s (%s) %s]\n", t.Name, t.Lang, strings.Join(t.Params, " "))
			continue
		}
		fmt.Fprintf(c.Out, "bot: %s\n", strings.ReplaceAll(r.Text, "\n", "\n     "))
		for i, b := range r.Buttons {
			fmt.Fprintf(c.Out, "     [%d] %s\n", i+1, b.Title)
		}
		if len(r.Buttons) > 0 {
			c.buttons = r.Buttons
		}
	}
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
