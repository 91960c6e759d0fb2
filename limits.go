package main

import (
	"net/http"
	"strconv"
	"sync"
)

// Unauthenticated bodies are read whole before their signature can be
// checked, so anyone on the Internet can make serve hold them. These bound
// what that costs: a body is at most maxRequestBody, all bodies in flight
// at most inFlightBodyBudget together, and connections at most
// maxConnections, whatever the senders do.
const (
	maxRequestBody     = 1 << 20
	inFlightBodyBudget = 16 << 20
	maxConnections     = 1024
)

// bodyBudget counts the bytes the request bodies being read may hold.
type bodyBudget struct {
	mu        sync.Mutex
	used, max int64
}

func (b *bodyBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *bodyBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// limitBodies refuses a body announced over maxBody before reading it
// (413), and one that would take the in-flight total over the budget with
// 503 and Retry-After, which Meta and Slack both retry. A body of unknown
// length is counted at maxBody, the most it may be.
func limitBodies(b *bodyBudget, maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		n := r.ContentLength
		if n < 0 {
			n = maxBody
		}
		if !b.take(n) {
			w.Header().Set("Retry-After", strconv.Itoa(1))
			w.Header().Set("Connection", "close")
			http.Error(w, "busy, retry shortly", http.StatusServiceUnavailable)
			return
		}
		defer b.give(n)
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}
