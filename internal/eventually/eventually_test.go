package eventually_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"portabot/internal/eventually"
)

func TestTrueReturnsOnceTheFactHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 5 {
			n.Add(1)
		}
	}()
	eventually.True(t, "five increments", func() bool { return n.Load() == 5 })
}

// recorder is a testing.TB that keeps the failure instead of failing.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...) }

// A fact that never comes fails the test, naming it, once the bound has
// passed: on the bubble's clock, so the test does not wait a minute.
func TestWithinFailsNamingTheFact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{TB: t}
		start := time.Now()
		eventually.Within(r, time.Minute, "the sky to fall", func() bool { return false })
		if !strings.Contains(r.failed, "the sky to fall") {
			t.Errorf("failure %q does not name the fact", r.failed)
		}
		if waited := time.Since(start); waited < time.Minute {
			t.Errorf("gave up after %v, before the minute it was given", waited)
		}
	})
}
