package loadtest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portabot/adapters/whatsapp"
)

func TestPercentileNearestRank(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	ten := hundred[:10]
	for _, c := range []struct {
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 100, 100 * time.Millisecond},
		{hundred, 1, time.Millisecond},
		{hundred, 0.1, time.Millisecond},
		{ten, 50, 5 * time.Millisecond},
		{ten, 90, 9 * time.Millisecond},
		{ten, 99, 10 * time.Millisecond},
		{ten, 91, 10 * time.Millisecond},
		{[]time.Duration{7}, 50, 7},
		{nil, 50, 0},
	} {
		if got := Percentile(c.data, c.p); got != c.want {
			t.Errorf("p%v of %d values = %v, want %v", c.p, len(c.data), got, c.want)
		}
	}
}

// counter is a tiny webhook server that records what it was sent and
// refuses every message whose number ends in 7.
type counter struct {
	mu     sync.Mutex
	ids    map[string]int
	froms  map[string]int
	active atomic.Int32
	peak   atomic.Int32
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.active.Add(1)
	defer c.active.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	time.Sleep(time.Millisecond) // long enough for the connections to overlap
	var body [4096]byte
	k, _ := r.Body.Read(body[:])
	d, err := whatsapp.Decode(body[:k])
	if err != nil || len(d.Messages) != 1 || !validSignature([]byte(testSecret), r.Header.Get(whatsapp.SignatureHeader), body[:k]) {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	m := d.Messages[0]
	c.mu.Lock()
	c.ids[m.ID]++
	c.froms[m.From]++
	c.mu.Unlock()
	if strings.HasSuffix(m.ID, "7") {
		http.Error(w, "no", http.StatusServiceUnavailable)
		return
	}
}

func TestGeneratorCountsRequests(t *testing.T) {
	c := &counter{ids: map[string]int{}, froms: map[string]int{}}
	srv := httptest.NewServer(c)
	defer srv.Close()
	const n, conns, clients = 250, 5, 40
	g := NewGenerator(srv.URL, conns)
	defer g.Close()
	m := NewMessages(testSecret, benchPhoneID, []string{"hi", "como funciona?"}, 1000, clients, 500)
	r, err := g.Run(t.Context(), m, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	refused := 25 // ids 500..749 ending in 7
	if r.Sent != n || r.Acks != n-refused || r.Non200 != refused || r.Statuses[503] != refused || r.Transport != 0 {
		t.Errorf("sent %d acks %d non200 %d (%v) transport %d; want %d, %d, %d",
			r.Sent, r.Acks, r.Non200, r.Statuses, r.Transport, n, n-refused, refused)
	}
	if len(c.ids) != n {
		t.Errorf("server saw %d distinct ids, want %d", len(c.ids), n)
	}
	for id, k := range c.ids {
		if k != 1 {
			t.Errorf("id %s posted %d times", id, k)
		}
	}
	if len(c.froms) != clients {
		t.Errorf("server saw %d senders, want %d", len(c.froms), clients)
	}
	if len(r.Latencies) != r.Acks || !slices.IsSorted(r.Latencies) || r.Latencies[0] < time.Millisecond {
		t.Errorf("%d latencies (sorted %v, least %v) for %d acks", len(r.Latencies), slices.IsSorted(r.Latencies), r.Latencies[0], r.Acks)
	}
	acked := slices.Clone(r.Acked)
	slices.Sort(acked)
	if len(slices.Compact(acked)) != r.Acks {
		t.Errorf("acked numbers repeat: %d distinct of %d", len(acked), r.Acks)
	}
	if p := c.peak.Load(); p > conns || p < 2 {
		t.Errorf("peak concurrency %d, want 2..%d", p, conns)
	}
	if r.AcksPerSecond() <= 0 {
		t.Error("no rate")
	}
}

func TestGeneratorDuration(t *testing.T) {
	c := &counter{ids: map[string]int{}, froms: map[string]int{}}
	srv := httptest.NewServer(c)
	defer srv.Close()
	g := NewGenerator(srv.URL, 3)
	defer g.Close()
	r, err := g.Run(t.Context(), NewMessages(testSecret, benchPhoneID, []string{"hi"}, 0, 0, 0), 0, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent == 0 || r.Sent != len(c.ids) || r.Elapsed < 100*time.Millisecond {
		t.Errorf("sent %d (server saw %d) in %v", r.Sent, len(c.ids), r.Elapsed)
	}
}

func TestGeneratorTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	g := NewGenerator(url, 2)
	defer g.Close()
	r, err := g.Run(t.Context(), NewMessages(testSecret, benchPhoneID, []string{"hi"}, 0, 0, 0), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Transport != 10 || r.Acks != 0 || r.FirstError == "" {
		t.Errorf("transport %d acks %d first %q; want 10 refused connections", r.Transport, r.Acks, r.FirstError)
	}
}
