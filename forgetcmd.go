package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"portabot/bot"
	"portabot/storage"
	"portabot/storage/postgres"
)

// runForget erases a client: portabot forget [--db FILE] [--by NAME] --yes
// +NUMBER|CASE. bbolt lets one process hold the store, so on a bbolt file
// it runs with serve stopped; while serve runs, agents use /porta forget,
// which goes through serve itself. On PostgreSQL it runs beside serve.
func runForget(ctx context.Context, env environment, args []string) error {
	fs := newFlags("forget", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "bbolt file or postgres:// URL (PORTABOT_DB)")
	by := fs.String("by", "", "who asks, for the tombstone (default: $USER)")
	yes := fs.Bool("yes", false, "erase: without it, forget only says what it would do")
	// Flags may come after the target too.
	var targets []string
	for rest := args; ; {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		targets = append(targets, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(targets) != 1 {
		fmt.Fprintln(env.stderr, "Usage: portabot forget [--db FILE] [--by NAME] --yes +NUMBER|CASE")
		return fmt.Errorf("%w: forget takes one client's number (+5511987654321) or a case id", errUsage)
	}
	r, err := bot.ParseForgetTarget(targets[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	what := "case #" + r.CaseID + ", its client and all their cases"
	if r.Number != "" {
		what = "the client " + bot.MaskPhone(r.Number) + " (their WhatsApp number or the number they port) and all their cases"
	}
	if !*yes {
		fmt.Fprintf(env.stdout, "This erases every trace of %s: conversations, cases (a tombstone stays), audit, waiting messages, replies, notices and business tokens. It cannot be undone.\nRun again with --yes to erase.\n", what)
		return fmt.Errorf("%w: --yes not given, nothing erased", errUsage)
	}
	r.Actor = *by
	if r.Actor == "" {
		r.Actor = "cli:" + env.getenv("USER")
	}
	st, closeStore, err := openForget(ctx, env, *db)
	if err != nil {
		return err
	}
	defer closeStore()
	out, err := st.Forget(ctx, r)
	switch {
	case errors.Is(err, bot.ErrInFlight):
		return fmt.Errorf("nothing erased: %w", err)
	case err != nil:
		return err
	case out.Empty():
		fmt.Fprintf(env.stdout, "Nothing to erase: no conversation or case for %s.\n", what)
		return nil
	}
	fmt.Fprintf(env.stdout, "Erased %s.\n", out)
	if len(out.Cases) > 0 {
		fmt.Fprintln(env.stdout, "Each case's Slack thread is rewritten when serve next runs with Slack configured.")
	}
	return nil
}

// openForget opens the store for forget: PostgreSQL alongside serve, or
// the bbolt file, which must not be held by a running serve.
func openForget(ctx context.Context, env environment, db string) (bot.Eraser, func(), error) {
	var opts []storage.Option
	var key []byte
	if v := env.getenv("PORTABOT_DB_KEY"); v != "" {
		k, err := storage.ParseKey(v)
		if err != nil {
			return nil, nil, fmt.Errorf("PORTABOT_DB_KEY: %w", err)
		}
		key = k
	} else if _, err := os.Stat(db + ".key"); err == nil && !isPostgres(db) {
		k, err := storage.LoadOrCreateKey(db + ".key")
		if err != nil {
			return nil, nil, err
		}
		key = k
	}
	if isPostgres(db) {
		var popts []postgres.Option
		if key != nil {
			popts = append(popts, postgres.WithSealKey(key))
		}
		st, err := postgres.Open(ctx, db, popts...)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { _ = st.Close() }, nil
	}
	if _, err := os.Stat(db); err != nil {
		return nil, nil, fmt.Errorf("no store at %s (%v); give its path with --db or PORTABOT_DB", db, err)
	}
	if key != nil {
		opts = append(opts, storage.WithSealKey(key))
	}
	st, err := storage.Open(db, opts...)
	if errors.Is(err, storage.ErrLocked) {
		return nil, nil, fmt.Errorf("%s is held by a running portabot (serve or chat): bbolt lets one process open it. "+
			"Stop serve and run forget again, or, while serve runs, erase from Slack with /porta forget %s", db,
			strings.TrimSpace("<case | +number>"))
	}
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil
}
