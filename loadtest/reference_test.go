package loadtest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"portabot/adapters/whatsapp"
)

const testSecret = "s3cret"

func post(t *testing.T, h http.Handler, body []byte, sig string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(whatsapp.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	referenceMux(h).ServeHTTP(rec, req)
	return rec.Code
}

func webhook(id string) []byte {
	return whatsapp.BuildTextWebhook(benchPhoneID, "5511900000001", id, "olá, como funciona?", time.Unix(1700000000, 0))
}

// refusals are the requests every reference server must refuse, as serve
// does.
func refusals(t *testing.T, h http.Handler) {
	t.Helper()
	body := webhook("wamid.refused")
	for _, c := range []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"no signature", body, "", http.StatusUnauthorized},
		{"wrong secret", body, whatsapp.SignBody("other", body), http.StatusUnauthorized},
		{"body changed", append(bytes.Clone(body), ' '), whatsapp.SignBody(testSecret, body), http.StatusUnauthorized},
		{"not hex", body, "sha256=zz", http.StatusUnauthorized},
		{"signed but not JSON", []byte("nope"), whatsapp.SignBody(testSecret, []byte("nope")), http.StatusBadRequest},
	} {
		if got := post(t, h, c.body, c.sig); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
}

func TestCeilingChecksSignature(t *testing.T) {
	h := NewCeiling(testSecret)
	body := webhook("wamid.1")
	if got := post(t, h, body, whatsapp.SignBody(testSecret, body)); got != http.StatusOK {
		t.Fatalf("signed webhook: status %d, want 200", got)
	}
	refusals(t, h)
}

func TestProbeStoresOneKeyPerMessageID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "probe.db")
	p, err := OpenProbe(path, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	refusals(t, p)
	for _, id := range []string{"wamid.a", "wamid.b", "wamid.c", "wamid.b"} {
		body := webhook(id)
		if got := post(t, p, body, whatsapp.SignBody(testSecret, body)); got != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", id, got)
		}
	}
	if n, err := p.Keys(); err != nil || n != 3 {
		t.Errorf("keys = %d, %v; want 3 (a, b, c; b twice is one key; refused ones none)", n, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := ProbeKeys(path); err != nil || n != 3 {
		t.Errorf("ProbeKeys after close = %d, %v; want 3", n, err)
	}
}

func TestProbeBatchesConcurrentPuts(t *testing.T) {
	if testing.Short() {
		t.Skip("fsyncs a real file")
	}
	p, err := OpenProbe(filepath.Join(t.TempDir(), "probe.db"), testSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := httptest.NewServer(referenceMux(p))
	defer srv.Close()
	const n = 200
	g := NewGenerator(srv.URL+"/webhooks/whatsapp", 16)
	defer g.Close()
	r, err := g.Run(t.Context(), NewMessages(testSecret, benchPhoneID, []string{"hi"}, 0, 0, 0), n, 0)
	if err != nil || r.Acks != n {
		t.Fatalf("acks = %d, %v; want %d (%s)", r.Acks, err, n, r.FirstError)
	}
	if k, err := p.Keys(); err != nil || k != n {
		t.Errorf("keys = %d, %v; want %d", k, err, n)
	}
}
