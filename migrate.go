package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"portabot/storage/postgres"
)

// runMigrate shows the PostgreSQL schema migrations this binary carries and
// applies those the database lacks. serve applies them at start too; this
// lets an operator apply them ahead of a rollout, and see where a database
// stands.
func runMigrate(ctx context.Context, env environment, args []string) error {
	fs := newFlags("migrate", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "postgres:// URL (PORTABOT_DB)")
	statusOnly := fs.Bool("status", false, "show the migrations, apply none")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !isPostgres(*db) {
		return fmt.Errorf("%w: migrate needs a postgres:// URL in --db or PORTABOT_DB; a bbolt file migrates itself when opened", errUsage)
	}
	if !*statusOnly {
		applied, err := postgres.Migrate(ctx, *db)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "applied %d migration(s)\n", len(applied))
	}
	ms, err := postgres.Migrations(ctx, *db)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED")
	for _, m := range ms {
		state, at := "pending", ""
		if m.Applied {
			state, at = "applied", m.AppliedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.Version, m.Name, state, at)
	}
	return tw.Flush()
}
