// Package eventually waits, in tests, for a fact to hold.
//
// Tests of goroutines, servers and stores must not sleep for a guessed
// while and then look: a sleep is too short on a loaded machine and too
// long everywhere else, and proves nothing about what did not happen. They
// wait for something observable instead (the inbox empty, no reply
// pending, a counter reached) and fail, naming what they waited for, only
// when it never comes. Every test package polls through this one helper so
// that the rule and the failure message are the same everywhere.
//
// Inside a testing/synctest bubble the polling sleeps advance the bubble's
// clock, so the same calls work on fake time.
package eventually

import (
	"fmt"
	"testing"
	"time"
)

// Timeout bounds True: long enough for a machine shared with other builds,
// so that reaching it means the fact is not coming, not that it was late.
const Timeout = 30 * time.Second

// True polls cond until it holds, and fails the test if it has not after
// Timeout. what names the fact, for the failure message.
func True(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	Within(tb, Timeout, what, cond)
}

// Within is True with its own bound, for a fact that may take long to come
// by design (a grace, a backlog draining).
func Within(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	Until(tb, timeout, cond, func() string { return fmt.Sprintf("gave up after %v waiting for %s", timeout, what) })
}

// Until is Within for a failure best told by what was seen instead, which
// failure describes when the bound has passed.
func Until(tb testing.TB, timeout time.Duration, cond func() bool, failure func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	// Start with short pauses, so that a fact that comes at once costs
	// nothing, and lengthen them so that a long wait does not spin.
	pause := 100 * time.Microsecond
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal(failure())
			return // for a TB whose Fatalf returns
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}
