package main

import (
	"context"
	"log/slog"
	"time"

	"portabot/bot"
	"portabot/storage"
)

// defaultRetention keeps a closed case's personal data 180 days
// (PORTABOT_RETENTION): long enough for the disputes and support questions
// that follow a port, short enough for LGPD's and GDPR's "no longer than
// necessary".
const defaultRetention = 180 * 24 * time.Hour

// maxRetention is the longest PORTABOT_RETENTION accepted: ten years.
const maxRetention = 3660 * 24 * time.Hour

// processedRetention is how long a processed-message marker is kept: Meta
// redelivers a webhook for up to 7 days, and a marker is what makes a
// redelivery change nothing.
const processedRetention = 8 * 24 * time.Hour

// expireBatch caps the cases, conversations and notices one retention
// transaction changes: each batch is one write among the turns', so a
// backlog of a million closed cases delays no client by more than one
// small batch.
const expireBatch = 100

// retentionEvery is how often the pruner looks for work once it has
// caught up.
const retentionEvery = 10 * time.Minute

// pruneRetention applies retention at start and then every retentionEvery
// until ctx ends, reporting what it removed to report (metrics.Retention).
// retention zero keeps cases for ever; the processed markers are pruned
// regardless.
func pruneRetention(ctx context.Context, st bot.Eraser, retention time.Duration, report func(kind string, n int), log *slog.Logger) {
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		if err := retentionPass(ctx, st, retention, time.Now, report, log); err != nil && ctx.Err() == nil {
			log.Error("retention", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scrubber is a store whose free pages keep deleted bytes until scrubbed
// (bbolt); PostgreSQL leaves that to VACUUM.
type scrubber interface {
	Scrub(ctx context.Context) (storage.ScrubStats, error)
	// ScrubOwed reports pages the last Scrub left (a reader held them):
	// an erasure's, say, which the next pass finishes.
	ScrubOwed() bool
}

// retentionPass expires everything due at now() in batches, prunes the
// processed markers, and scrubs the free pages once if anything went.
func retentionPass(ctx context.Context, st bot.Eraser, retention time.Duration, now func() time.Time, report func(string, int), log *slog.Logger) error {
	expired, markers := 0, 0
	for retention > 0 && ctx.Err() == nil {
		n, err := st.Expire(ctx, now().Add(-retention), expireBatch)
		if err != nil {
			return err
		}
		expired += n
		report("expired", n)
		if n < expireBatch {
			break
		}
	}
	for ctx.Err() == nil {
		n, err := st.PruneProcessed(ctx, now().Add(-processedRetention), pruneBatch)
		if err != nil {
			return err
		}
		markers += n
		report("processed_markers", n)
		if n < pruneBatch {
			break
		}
	}
	if expired+markers > 0 {
		log.Info("retention applied", "expired", expired, "processed_markers", markers)
	}
	if s, ok := st.(scrubber); ok && (expired+markers > 0 || s.ScrubOwed()) {
		st, err := s.Scrub(ctx)
		report("pages_scrubbed", st.Zeroed)
		if err != nil {
			return err
		}
		if st.Held {
			log.Info("free pages still read by a long transaction are left for the next pass")
		}
	}
	return nil
}
