package bot

import (
	"context"
	"log/slog"
	"maps"
	"runtime/debug"
	"sync"
	"time"
)

// Panics in background goroutines
//
// An unrecovered panic in any goroutine ends the process, and with it every
// client's turn in flight, for what is usually one bad message or one bug in
// one loop. So each long-lived loop of serve (the runner's workers, the
// reply and notice dispatchers and the sends they start, the pruner, the
// replica listener) runs under GuardLoop: a panic is logged with the loop's
// name and stack, counted (PanicCounts, which /metrics exposes as
// portabot_goroutine_panics_total), and the loop starts again after a
// backoff that doubles from guardBackoff up to guardMaxBackoff. Restarting
// beats stopping serve: the other clients keep being served, a loop that
// keeps panicking shows in the metric and the log, and one that is down
// shows in /readyz (its heartbeat stops). What a panicking turn held is let
// go on the way out (claims are released in defers), and its message stays
// in the inbox, uncommitted, to be tried again.

const (
	guardBackoff    = time.Second
	guardMaxBackoff = time.Minute
	// guardCalm is how long a restarted loop must run without a panic for
	// its backoff to start from guardBackoff again.
	guardCalm = 5 * time.Minute
)

var panicCounts struct {
	mu sync.Mutex
	by map[string]uint64
}

// PanicCounts returns how many panics each named goroutine recovered from
// since the process started.
func PanicCounts() map[string]uint64 {
	panicCounts.mu.Lock()
	defer panicCounts.mu.Unlock()
	return maps.Clone(panicCounts.by)
}

func countPanic(name string) {
	panicCounts.mu.Lock()
	defer panicCounts.mu.Unlock()
	if panicCounts.by == nil {
		panicCounts.by = map[string]uint64{}
	}
	panicCounts.by[name]++
}

// Recovered runs fn and reports whether it panicked; the panic is logged
// with name and the stack, and counted. For a goroutine that does one piece
// of work, such as one send.
func Recovered(name string, log *slog.Logger, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			countPanic(name)
			if log == nil {
				log = slog.Default()
			}
			log.Error("goroutine panicked; recovered", "goroutine", name, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
	return false
}

// GuardLoop runs loop until it returns or ctx ends, starting it again, after
// a backoff, each time it panics (see the comment above).
func GuardLoop(ctx context.Context, name string, log *slog.Logger, loop func(ctx context.Context)) {
	wait := guardBackoff
	for ctx.Err() == nil {
		began := time.Now()
		if !Recovered(name, log, func() { loop(ctx) }) {
			return
		}
		if time.Since(began) > guardCalm {
			wait = guardBackoff
		}
		if log == nil {
			log = slog.Default()
		}
		log.Warn("restarting a goroutine after its panic", "goroutine", name, "in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, guardMaxBackoff)
	}
}
