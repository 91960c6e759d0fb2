package bot

import (
	"context"
	"fmt"
	"time"
)

// Since 2026 Meta names a client by a business-scoped user id (BSUID) on
// every message, and by their phone number only while it may share it: a
// client who adopts a username can lose the number from their webhooks
// mid-port (Meta: business-scoped-user-ids). A conversation therefore keeps
// every id it learnt, and the store finds it by any of them.

// identify records the ids and username the turn's message names the
// client by, on the conversation and on its case.
func (t *turn) identify(in Inbound) {
	c := &t.conv
	if in.From != "" && in.From != c.Key {
		c.Phone = in.From
	}
	if in.UserID != "" && in.UserID != c.Key {
		c.UserID = in.UserID
	}
	if in.Username != "" {
		c.Username = in.Username
	}
	t.syncClient()
}

// syncClient copies how agents recognise the client onto the case.
func (t *turn) syncClient() {
	if t.cas == nil {
		return
	}
	phone, _ := t.conv.Address()
	t.cas.ClientPhone = phone
	t.cas.Username = t.conv.Username
}

// move follows a client to the number or BSUID Meta's system message says
// they changed to (Meta: webhooks/reference/messages/system). The ids they
// left stop finding the conversation, so whoever gets the old number next
// starts a conversation of their own; the case and the client's place in it
// stay.
func (t *turn) move(m Move) {
	c := &t.conv
	oldPhone, _ := c.Address()
	what := ""
	if m.Phone != "" && m.Phone != oldPhone {
		if oldPhone != "" && oldPhone != c.Key {
			t.forget = append(t.forget, oldPhone)
		}
		c.Phone = m.Phone
		what = "number " + MaskPhone(oldPhone) + " → " + MaskPhone(m.Phone)
	}
	if m.UserID != "" && m.UserID != c.UserID && m.UserID != c.Key {
		if c.UserID != "" {
			t.forget = append(t.forget, c.UserID)
		}
		c.UserID = m.UserID
		if what != "" {
			what += ", "
		}
		what += "user id " + MaskPhone(m.UserID)
	}
	if what == "" {
		return
	}
	t.syncClient()
	t.record("client_moved", what)
	if t.cas != nil {
		t.notice(NoticeMoved, fmt.Sprintf("Case #%s: the client changed their %s; the case follows them.", t.cas.ID, what))
	}
}

// DefaultTemplate is the name of the template that re-opens a
// conversation after 24 hours, unless Config.Template names another.
const DefaultTemplate = "portabot_update"

// TemplateButton is the payload of the template's quick-reply button: a tap
// on it says "go on" and is answered by the replies that waited.
const TemplateButton = "resume"

// TemplateLang is Meta's code for the translation of a template in l.
func TemplateLang(l Lang) string {
	switch l {
	case Portuguese:
		return "pt_BR"
	case Spanish:
		return "es"
	}
	return "en"
}

// windowOpen notes that the client wrote: replies that waited for their
// window go out with this turn's. wasAway says the client had not written
// for longer than the window: replies may have been parked even if the
// template that should have followed could not be sent.
func (t *turn) windowOpen(wasAway bool) {
	t.reask, t.conv.Dropped = t.conv.Dropped, false
	if t.conv.Held.IsZero() {
		t.unpark = wasAway
		return
	}
	t.unpark, t.held = true, true
	t.conv.Held = time.Time{}
	if t.cas != nil && !t.cas.Held.IsZero() {
		t.cas.Held = time.Time{}
		t.record("window_reopened", "")
		t.notice(NoticeWindow, fmt.Sprintf("Case #%s: the client is back; the replies that waited are on their way.", t.cas.ID))
	}
}

// Reengage is called when a reply to the client with conversation key could
// not go out because their 24-hour window had closed (Meta refuses
// free-form messages then, 131047: Meta: support/error-codes). The reply
// waits, parked; the client gets the approved template, once per closed
// window, with a button to go on; agents are told the case waits. A client
// who wrote since the reply was made needs no template: what waited goes
// out at once.
func (b *Bot) Reengage(ctx context.Context, key string) error {
	_, _, err := b.reengage(ctx, key, false, false)
	return err
}

// WindowClosed is Reengage for a reply Meta failed because the client's
// window had closed (131047): Meta's clock decides, whatever the client's
// last message says to ours. id is any id the client is known by. The
// reply itself is gone (Meta took it and dropped it); the client's answer
// to the template gets the question they are at asked again.
func (b *Bot) WindowClosed(ctx context.Context, id string) error {
	_, _, err := b.reengage(ctx, id, true, true)
	return err
}

// reengage is Reengage; metaSaid trusts Meta's word that the window closed
// over the client's last message, and dropped says the reply is lost, not
// parked. open reports that the client wrote since the reply was made:
// nothing waits, and lastSeen is the start of their open window.
func (b *Bot) reengage(ctx context.Context, key string, metaSaid, dropped bool) (open bool, lastSeen time.Time, err error) {
	tr, unlock, err := b.loadClient(ctx, key)
	if err != nil {
		return false, time.Time{}, err
	}
	defer unlock()
	if dropped {
		tr.conv.Dropped = true
	}
	if !metaSaid && !tr.conv.LastSeen.IsZero() && tr.now.Sub(tr.conv.LastSeen) < CustomerWindow {
		tr.unpark = true
		tr.conv.Held = time.Time{}
		if tr.cas != nil {
			tr.cas.Held = time.Time{}
		}
		tr.commit()
		return true, tr.conv.LastSeen, tr.err
	}
	if tr.conv.Held.IsZero() {
		tr.conv.Held = tr.now
		if tr.cas != nil {
			tr.cas.Held = tr.now
			tr.cas.Updated = tr.now
		}
		tr.record("window_closed", "")
	}
	if !tr.conv.Reengaged.Before(tr.conv.LastSeen) && !tr.conv.Reengaged.IsZero() {
		// The template for this closed window went already: the news waits
		// with the rest.
		tr.commit()
		return false, time.Time{}, tr.err
	}
	tr.conv.Reengaged = tr.now
	caseID := "-"
	if tr.cas != nil {
		caseID = tr.cas.ID
	}
	tr.replies = append(tr.replies, Reply{Template: &Template{Name: b.cfg.Template, Lang: TemplateLang(tr.lang()),
		Params: []string{caseID}, Button: TemplateButton}})
	if tr.cas != nil {
		tr.record("template_sent", b.cfg.Template)
		tr.notice(NoticeWindow, fmt.Sprintf("Case #%s has news, but the client's 24-hour window closed: template %q sent; "+
			"the replies wait until the client answers it.", tr.cas.ID, b.cfg.Template))
	}
	tr.commit()
	return false, time.Time{}, tr.err
}
