package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The schema is embedded, so the binary that runs is the one that knows its
// tables: no file to ship beside it, and no replica on a schema it does not
// know.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the advisory lock under which migrations run: any
// 64-bit number no other tool on the database uses ("portabot" in ASCII).
const migrationLockID = 0x706f727461626f74

// Migration is one schema migration and whether the database has it.
type Migration struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

func provider(pool *pgxpool.Pool) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	// Checked every second for up to five minutes: replicas that start
	// together wait for the one migrating, and a stuck migration fails
	// them rather than leaving them waiting forever.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), fsys,
		goose.WithSessionLocker(locker), goose.WithTableName("portabot_schema"))
}

// migrate applies the migrations the database lacks and returns them.
func migrate(ctx context.Context, pool *pgxpool.Pool) ([]Migration, error) {
	p, err := provider(pool)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	defer p.Close()
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: apply migrations: %w", err)
	}
	out := make([]Migration, len(res))
	for i, r := range res {
		out[i] = Migration{Version: r.Source.Version, Name: r.Source.Path, Applied: true, AppliedAt: time.Now()}
	}
	return out, nil
}

// Migrate connects to url and applies the migrations the database lacks,
// returning those it applied (none when it was up to date).
func Migrate(ctx context.Context, url string) ([]Migration, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	return migrate(ctx, pool)
}

// Migrations connects to url and lists every migration this binary knows,
// saying which the database has; it changes nothing.
func Migrations(ctx context.Context, url string) ([]Migration, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	p, err := provider(pool)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	defer p.Close()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	out := make([]Migration, len(st))
	for i, s := range st {
		out[i] = Migration{Version: s.Source.Version, Name: s.Source.Path,
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt}
	}
	return out, nil
}

func connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return pool, nil
}
