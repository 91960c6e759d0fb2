package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"

	"portabot/storage"
	"portabot/storage/postgres"
)

// runStore is `portabot store copy`: moving a deployment from its bbolt file
// to PostgreSQL, serve stopped (the file's lock makes sure of it).
func runStore(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "copy" {
		return fmt.Errorf("%w: portabot store copy --from FILE --to postgres://…", errUsage)
	}
	fs := newFlags("store copy", env.stderr)
	from := fs.String("from", dbPath(env.getenv), "the bbolt file to copy")
	to := fs.String("to", "", "the postgres:// URL of an empty database")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if !isPostgres(*to) || isPostgres(*from) {
		return fmt.Errorf("%w: portabot store copy --from FILE --to postgres://…", errUsage)
	}
	key, err := copyKey(env.getenv, *from)
	if err != nil {
		return err
	}
	src, err := storage.Open(*from, storage.WithSealKey(key))
	if err != nil {
		if errors.Is(err, storage.ErrLocked) {
			return fmt.Errorf("%w (stop serve before copying its store)", err)
		}
		return err
	}
	defer src.Close()
	dump, err := src.Dump(ctx)
	if err != nil {
		return err
	}
	dst, err := postgres.Open(ctx, *to, postgres.WithSealKey(key))
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := dst.Import(ctx, dump); err != nil {
		return err
	}
	copied, err := dst.Dump(ctx)
	if err != nil {
		return fmt.Errorf("verify the copy: %w", err)
	}
	want, got := dump.Sums(), copied.Sums()
	sections := make([]string, 0, len(want))
	for s := range want {
		sections = append(sections, s)
	}
	slices.Sort(sections)
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tCOUNT CHECKSUM\tCOPY")
	bad := 0
	for _, s := range sections {
		verdict := "same"
		if want[s] != got[s] {
			verdict, bad = "DIFFERS: "+got[s], bad+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s, want[s], verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("the copy differs from %s in %d section(s)", *from, bad)
	}
	fmt.Fprintln(env.stdout, "copied and verified; serve with PORTABOT_DB set to the URL and PORTABOT_DB_KEY to the same key")
	return nil
}

// copyKey is the key the bbolt file's inbox is sealed with, which seals the
// copy too: PORTABOT_DB_KEY, or the sandbox's key file beside the file.
func copyKey(getenv func(string) string, file string) ([]byte, error) {
	if k := getenv("PORTABOT_DB_KEY"); k != "" {
		key, err := storage.ParseKey(k)
		if err != nil {
			return nil, fmt.Errorf("PORTABOT_DB_KEY: %w", err)
		}
		return key, nil
	}
	if _, err := os.Stat(file + ".key"); err == nil {
		return storage.LoadOrCreateKey(file + ".key")
	}
	return nil, errors.New("PORTABOT_DB_KEY is required: the key the file's messages are sealed with")
}
