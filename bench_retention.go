package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"portabot/storage"
)

// historySpace is what one store's main file takes before and after
// retention. bbolt never shrinks its file, so three figures each time:
// the file's size, the bytes bbolt has not put on its freelist, and the
// size of a compacted copy (bbolt's Compact into a new file), which is
// what the data needs with every page full. The bench's per-case figures
// use the compacted sizes: the in-use count still carries the half-empty
// pages that a seed in batches and a pass of deletions leave.
type historySpace struct {
	Before spaceFigures `json:"before_retention"`
	After  spaceFigures `json:"after_retention"`
	// Expired counts what the retention pass changed, by kind, as
	// /metrics would: cases and conversations expired, notices
	// dropped, processed markers pruned, free pages zeroed.
	Expired map[string]int `json:"retention_pass"`
	Seconds float64        `json:"retention_seconds"`
}

type spaceFigures struct {
	FileBytes      int64 `json:"file_bytes"`
	InUseBytes     int64 `json:"in_use_bytes"`
	CompactedBytes int64 `json:"compacted_bytes"`
}

// applyRetention measures the store at path, runs on it the retention
// pass serve runs, as serve would find the store 188 days after the bench
// (every seeded case then closed more than PORTABOT_RETENTION's default
// ago, every processed marker older than its eight days), and measures it
// again. serve must not be running on it.
func applyRetention(ctx context.Context, path string, key []byte) (historySpace, error) {
	out := historySpace{Expired: map[string]int{}}
	st, err := storage.Open(path, storage.WithSealKey(key))
	if err != nil {
		return out, err
	}
	defer st.Close()
	measure := func(tag string) (spaceFigures, error) {
		sp, err := st.Space(ctx)
		if err != nil {
			return spaceFigures{}, err
		}
		n, err := st.CompactTo(ctx, strings.TrimSuffix(path, ".db")+"."+tag+".compact")
		return spaceFigures{FileBytes: sp.FileBytes, InUseBytes: sp.InUseBytes, CompactedBytes: n}, err
	}
	if out.Before, err = measure("before"); err != nil {
		return out, err
	}
	later := time.Now().Add(defaultRetention + processedRetention)
	start := time.Now()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	err = retentionPass(ctx, st, defaultRetention, func() time.Time { return later },
		func(kind string, n int) { out.Expired[kind] += n }, log)
	out.Seconds = roundMS(time.Since(start).Seconds())
	if err != nil {
		return out, fmt.Errorf("retention on %s: %w", filepath.Base(path), err)
	}
	out.After, err = measure("after")
	return out, err
}

// historyRetention applies retention to both stores once serve is done
// with them and reports the bytes per closed case it leaves.
func historyRetention(ctx context.Context, rep *historyReport, emptyDB, fullDB string, key []byte, cfg historyConfig) error {
	rep.Space = map[string]historySpace{}
	for name, path := range map[string]string{"empty": emptyDB, "history": fullDB} {
		sp, err := applyRetention(ctx, path, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.Log, "%s: retention took %.1f s; compacted %d bytes before, %d after\n",
			filepath.Base(path), sp.Seconds, sp.Before.CompactedBytes, sp.After.CompactedBytes)
		rep.Space[name] = sp
	}
	if cfg.Closed > 0 {
		e, h, n := rep.Space["empty"], rep.Space["history"], float64(cfg.Closed)
		rep.BytesPerClosedCaseCompacted = roundMS(float64(h.Before.CompactedBytes-e.Before.CompactedBytes) / n)
		after := roundMS(float64(h.After.CompactedBytes-e.After.CompactedBytes) / n)
		rep.BytesPerClosedCaseAfterRetention = &after
	}
	return nil
}
