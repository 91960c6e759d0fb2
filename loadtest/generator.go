package loadtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"portabot/adapters/whatsapp"
)

// prebuildMax bounds how many bodies are built before timing starts
// (about 600 bytes each). Beyond it, or in duration mode, workers build
// each body just before posting it, which costs a template fill and an
// HMAC, a few microseconds.
const prebuildMax = 250_000

// requestTimeout bounds one webhook post: Meta gives up after about 10 s,
// and a load run that waits longer measures nothing useful.
const requestTimeout = 30 * time.Second

// Generator posts signed webhooks to one URL over a fixed number of
// keep-alive connections.
type Generator struct {
	url    string
	conns  int
	client *http.Client
	tr     *http.Transport
}

// NewGenerator returns a generator for url with conns connections. The
// connections are opened on first use and kept across Run calls, so a
// warm-up run leaves them open for the measured one.
func NewGenerator(url string, conns int) *Generator {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
		// Bodies are tiny; the default 4 KiB buffers are plenty.
	}
	return &Generator{url: url, conns: conns, tr: tr, client: &http.Client{Transport: tr, Timeout: requestTimeout}}
}

// Close closes the generator's idle connections.
func (g *Generator) Close() { g.tr.CloseIdleConnections() }

// Result is what one run of the generator saw.
type Result struct {
	Conns     int
	Sent      int
	Acks      int
	Non200    int
	Statuses  map[int]int
	Transport int
	// FirstError is the first transport error or non-200 answer, to say
	// what went wrong without a flood of them.
	FirstError string
	// Start is when the first request was about to be sent; Elapsed runs
	// from there until the last answer.
	Start   time.Time
	Elapsed time.Duration
	// Latencies holds the latency of every 200, sorted.
	Latencies []time.Duration
	// Acked lists the message numbers answered 200, in no order.
	Acked []int64
}

// AcksPerSecond is the acknowledgement rate over the whole run.
func (r Result) AcksPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Acks) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Run posts messages 0, 1, 2, ... built by msgs, each connection posting
// the next as soon as its previous one is answered. It stops after
// requests messages, or, when duration is positive, once duration has
// passed (then requests, if positive, still caps the count). ctx ending
// stops it early; Run then returns what was measured and ctx's error.
func (g *Generator) Run(ctx context.Context, msgs *Messages, requests int, duration time.Duration) (Result, error) {
	if requests <= 0 && duration <= 0 {
		return Result{}, errors.New("loadtest: a run needs a request count or a duration")
	}
	type built struct {
		body []byte
		sig  string
	}
	var pre []built
	if duration <= 0 && requests <= prebuildMax {
		// One backing array for all bodies keeps the heap small and the
		// prebuilding fast.
		b := msgs.Builder()
		pre = make([]built, requests)
		var arena, scratch []byte
		for j := range pre {
			var sig string
			scratch, sig = b(int64(j), scratch)
			n := len(arena)
			arena = append(arena, scratch...)
			// Earlier bodies keep pointing into the old array when append
			// moves arena; both stay valid.
			pre[j] = built{body: arena[n:len(arena):len(arena)], sig: sig}
		}
	}

	type workerResult struct {
		lat       []time.Duration
		acked     []int64
		non200    map[int]int
		transport int
		firstErr  string
	}
	results := make([]workerResult, g.conns)
	var next atomic.Int64
	var deadline time.Time
	start := time.Now()
	if duration > 0 {
		deadline = start.Add(duration)
	}
	perWorker := 1024
	if requests > 0 {
		perWorker = requests/g.conns + 1
	}
	var wg sync.WaitGroup
	for w := range g.conns {
		wg.Go(func() {
			res := &results[w]
			res.lat = make([]time.Duration, 0, perWorker)
			res.acked = make([]int64, 0, perWorker)
			res.non200 = map[int]int{}
			build := msgs.Builder()
			var buf []byte
			body := bytes.NewReader(nil)
			for ctx.Err() == nil {
				j := next.Add(1) - 1
				if requests > 0 && j >= int64(requests) {
					return
				}
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				var b []byte
				var sig string
				if pre != nil {
					b, sig = pre[j].body, pre[j].sig
				} else {
					buf, sig = build(j, buf)
					b = buf
				}
				body.Reset(b)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, body)
				if err != nil {
					res.transport++
					res.firstErr = err.Error()
					return
				}
				req.Header["Content-Type"] = []string{"application/json"}
				req.Header[whatsapp.SignatureHeader] = []string{sig}
				t0 := time.Now()
				resp, err := g.client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					res.transport++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
					continue
				}
				// The body is read to the end so the connection is reused.
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					res.non200[resp.StatusCode]++
					if res.firstErr == "" {
						res.firstErr = "HTTP " + resp.Status
					}
					continue
				}
				res.lat = append(res.lat, d)
				res.acked = append(res.acked, j)
			}
		})
	}
	wg.Wait()
	r := Result{Conns: g.conns, Start: start, Elapsed: time.Since(start), Statuses: map[int]int{}}
	for _, w := range results {
		r.Latencies = append(r.Latencies, w.lat...)
		r.Acked = append(r.Acked, w.acked...)
		r.Transport += w.transport
		for code, n := range w.non200 {
			r.Statuses[code] += n
			r.Non200 += n
		}
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	r.Acks = len(r.Acked)
	r.Sent = r.Acks + r.Non200 + r.Transport
	slices.Sort(r.Latencies)
	return r, ctx.Err()
}
