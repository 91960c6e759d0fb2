package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"portabot/bot"
)

// pruneOnce is one round of pruneOutbox's deletions. A panic in it is
// logged with its stack, counted in /metrics, and an error for this round:
// the pruner goes on at its next tick instead of taking serve down.
func pruneOnce(ctx context.Context, st outboxPruner, before time.Time, log *slog.Logger) (n int, err error) {
	if bot.Recovered("outbox pruner", log, func() { n, err = st.PruneOutbox(ctx, before, pruneBatch) }) {
		return 0, errors.New("pruning the outbox panicked (logged above with its stack); it is tried again at the next round")
	}
	return n, err
}
