package loadtest

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"portabot/adapters/whatsapp"
)

//go:embed questions.txt
var builtinQuestions string

// DefaultQuestions returns the built-in questions: greetings and FAQ
// questions in English, Portuguese and Spanish, as clients type them.
func DefaultQuestions() []string {
	qs, _ := ReadQuestions(strings.NewReader(builtinQuestions))
	return qs
}

// ReadQuestions reads one question per line: either plain text or a JSON
// object with a "q" field (the format of `portabot faq eval`). Blank lines
// are skipped.
func ReadQuestions(r io.Reader) ([]string, error) {
	var qs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "{") {
			var v struct {
				Q string `json:"q"`
			}
			if err := json.Unmarshal([]byte(line), &v); err != nil || strings.TrimSpace(v.Q) == "" {
				return nil, fmt.Errorf("questions line %d: want text or {\"q\": ...}", n)
			}
			line = strings.TrimSpace(v.Q)
		}
		qs = append(qs, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, errors.New("no questions")
	}
	return qs, nil
}

// Clients' numbers are Brazilian mobiles (+55 11 9xxxx-xxxx), which every
// phone parser takes; the eight free digits number the client.
const (
	phonePrefix = "55119"
	phoneDigits = 8
	maxClient   = 99_999_999
	// idPrefix starts every message id the tool sends; the number after
	// it tells the fake Graph which message a read receipt is for.
	idPrefix = "wamid.PB"
)

// Messages describes the webhooks of one run of the generator: message j
// comes from client ClientOf(j) and has id idPrefix+(IDBase+j).
type Messages struct {
	Secret string
	// ClientBase numbers the first client; levels use disjoint ranges so
	// each starts with clients the bot has never seen.
	ClientBase int64
	// Clients is how many distinct senders take turns; 0 gives every
	// message its own sender.
	Clients int
	IDBase  int64

	tmpl []template
}

// NewMessages prepares the webhook bodies for phoneNumberID, one template
// per question.
func NewMessages(secret, phoneNumberID string, questions []string, clientBase int64, clients int, idBase int64) *Messages {
	m := &Messages{Secret: secret, ClientBase: clientBase, Clients: clients, IDBase: idBase}
	at := time.Now()
	for _, q := range questions {
		m.tmpl = append(m.tmpl, newTemplate(whatsapp.BuildTextWebhook(phoneNumberID, fromMark, idMark, q, at)))
	}
	return m
}

// ClientOf returns the client (0-based, before ClientBase) who sends
// message j.
func (m *Messages) ClientOf(j int64) int64 {
	if m.Clients <= 0 {
		return j
	}
	return j % int64(m.Clients)
}

// Phone returns the WhatsApp id (digits) of client c.
func (m *Messages) Phone(c int64) string {
	return string(appendPhone(nil, m.ClientBase+c))
}

// Builder returns a function that writes message j into buf and returns
// the body and its X-Hub-Signature-256. Each goroutine needs its own
// builder: it keeps a MAC to reuse.
func (m *Messages) Builder() func(j int64, buf []byte) ([]byte, string) {
	mac := hmac.New(sha256.New, []byte(m.Secret))
	var sum [sha256.Size]byte
	var sig [len("sha256=") + 2*sha256.Size]byte
	copy(sig[:], "sha256=")
	var from, id []byte
	return func(j int64, buf []byte) ([]byte, string) {
		from = appendPhone(from[:0], m.ClientBase+m.ClientOf(j))
		id = strconv.AppendInt(append(id[:0], idPrefix...), m.IDBase+j, 10)
		body := m.tmpl[int(j%int64(len(m.tmpl)))].fill(buf[:0], from, id)
		return body, signWith(mac, sum[:0], sig[:], body)
	}
}

func signWith(mac hash.Hash, sum, sig, body []byte) string {
	mac.Reset()
	mac.Write(body)
	hex.Encode(sig[len("sha256="):], mac.Sum(sum))
	return string(sig)
}

// ParseMessageID returns the number in an id the tool sent.
func ParseMessageID(id string) (int64, bool) {
	s, ok := strings.CutPrefix(id, idPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ParsePhone returns the client number in a WhatsApp id the tool sent
// from ("+" allowed).
func ParsePhone(to string) (int64, bool) {
	s, ok := strings.CutPrefix(strings.TrimPrefix(to, "+"), phonePrefix)
	if !ok || len(s) != phoneDigits {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func appendPhone(b []byte, n int64) []byte {
	b = append(b, phonePrefix...)
	var d [phoneDigits]byte
	for i := phoneDigits - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:]...)
}

// The template markers survive JSON encoding unchanged and cannot occur in
// a question that does not contain them.
const (
	fromMark = "PBFROMPBFROM"
	idMark   = "PBIDPBID"
)

// template is a webhook body cut at the places where the sender and the
// message id go, so a body is a few appends instead of a JSON encoding.
type template struct {
	parts [][]byte
	holes []byte // 'f' or 'i', one between each pair of parts
}

func newTemplate(body []byte) template {
	var t template
	for {
		f, i := bytes.Index(body, []byte(fromMark)), bytes.Index(body, []byte(idMark))
		if f < 0 && i < 0 {
			t.parts = append(t.parts, body)
			return t
		}
		if f >= 0 && (i < 0 || f < i) {
			t.parts, t.holes, body = append(t.parts, body[:f]), append(t.holes, 'f'), body[f+len(fromMark):]
		} else {
			t.parts, t.holes, body = append(t.parts, body[:i]), append(t.holes, 'i'), body[i+len(idMark):]
		}
	}
}

func (t template) fill(dst, from, id []byte) []byte {
	for k, p := range t.parts {
		dst = append(dst, p...)
		if k < len(t.holes) {
			if t.holes[k] == 'f' {
				dst = append(dst, from...)
			} else {
				dst = append(dst, id...)
			}
		}
	}
	return dst
}
