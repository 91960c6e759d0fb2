package bot_test

import (
	"path/filepath"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/faq"
)

// newOfflineHarness is newAgentHarness with no simulated Meta and no Graph
// client: for tests whose Meta is a fake Sender. Nothing of it listens on a
// socket, so it can live in a synctest bubble, whose clock a server's
// accepting goroutine would hold still.
func newOfflineHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		opts:  options{region: "BR"},
		path:  filepath.Join(t.TempDir(), "portabot.db"),
		clock: &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
		logs:  &syncBuffer{},
		glogs: &syncBuffer{},
	}
	h.open()
	h.bot = bot.New(h.db, nil, faq.Default(), bot.Config{
		DestWABA: metasim.SandboxWABA,
		Region:   h.opts.region,
		Now:      h.clock.Now,
		Outbox:   true,
		Notify:   true,
	}, debugLogger(h.logs))
	return h
}
