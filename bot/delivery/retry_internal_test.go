package delivery

import (
	"fmt"
	"testing"
	"time"

	"portabot/bot"
)

// The outbox retries exactly what the table calls worth a later try, and
// waits as long as Meta asked.
func TestOutboxRetriesByTheTable(t *testing.T) {
	d := &Dispatcher{cfg: DispatcherConfig{Backoff: time.Second, MaxBackoff: time.Minute}}
	tests := []struct {
		err   error
		wait  time.Duration
		retry bool
	}{
		{&bot.GraphError{HTTPStatus: 429, Code: 130429, RetryAfter: 3 * time.Minute}, 3 * time.Minute, true},
		{&bot.GraphError{HTTPStatus: 400, Code: 131056}, time.Second, true},
		{&bot.GraphError{HTTPStatus: 400, Code: 17}, time.Second, true},
		{&bot.GraphError{HTTPStatus: 400, Code: 131000}, time.Second, true},
		{&bot.GraphError{HTTPStatus: 503, Code: 2, Transient: true}, time.Second, true},
		{fmt.Errorf("send: %w", bot.ErrUnavailable), time.Second, true},
		{&bot.GraphError{HTTPStatus: 400, Code: 131047, Subcode: 2494010}, 0, false},
		{&bot.GraphError{HTTPStatus: 400, Code: 131009}, 0, false},
		{&bot.GraphError{HTTPStatus: 401, Code: 190}, 0, false},
	}
	for _, tt := range tests {
		wait, retry := d.retryAfter(tt.err, 1)
		if wait != tt.wait || retry != tt.retry {
			t.Errorf("retryAfter(%v) = %v, %v; want %v, %v", tt.err, wait, retry, tt.wait, tt.retry)
		}
	}
}
