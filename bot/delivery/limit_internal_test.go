package delivery

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A BSP meets new numbers all day: the limiters of clients whose bucket has
// refilled are forgotten, those still limited or told to slow down are not.
func TestLimitersOfIdleClientsAreForgotten(t *testing.T) {
	r := &Runner{cfg: RunnerConfig{Rate: rate.Every(time.Minute), Burst: 3}}
	t0 := time.Now()
	busy := r.limiter("busy", t0)
	busy.lim.AllowN(t0, 3)
	warned := r.limiter("warned", t0)
	warned.warned.Store(true)
	for i := range 20_000 {
		r.limiter(fmt.Sprintf("client-%d", i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := r.limiterCount(); n > 2*minSweep+2 {
		t.Errorf("%d limiters kept after 20,000 clients who each wrote once: idle ones are not forgotten", n)
	}
	later := t0.Add(20 * time.Second)
	if got := r.limiter("busy", later); got != busy {
		t.Error("a client still over its limit got a fresh limiter: the limit was forgotten")
	}
	if got := r.limiter("warned", later); got != warned {
		t.Error("a client told to slow down got a fresh limiter: it would be told again")
	}
}

// limiterCount returns how many clients' limiters are kept.
func (r *Runner) limiterCount() int {
	r.limMu.Lock()
	defer r.limMu.Unlock()
	return len(r.limiters)
}
