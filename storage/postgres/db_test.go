package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL these tests run against: PORTABOT_TEST_POSTGRES, else the
// one .ci/run starts on this machine. Each test gets a database of its own,
// copied from a template migrated once per run, and dropped when it ends.
func serverURL() string {
	if u := os.Getenv("PORTABOT_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	createMu     sync.Mutex // CREATE DATABASE … TEMPLATE wants the template to itself
)

// testKey seals the inbox in tests: random per run, so no test passes by
// reading a value stored in the clear.
var testKey = func() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}()

// admin connects to the server's maintenance database, or skips the test
// saying how to run it; under CI, where PostgreSQL must be there, it fails.
func admin(tb testing.TB) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL())
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL unreachable at %s, and CI is set: %v", redact(serverURL()), err)
		}
		tb.Skipf("PostgreSQL unreachable at %s (%v): start it (.ci/run does), or point PORTABOT_TEST_POSTGRES at one",
			redact(serverURL()), err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// databaseURL is the server's URL naming database name instead.
func databaseURL(name string) string {
	u, err := url.Parse(serverURL())
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// emptyDatabase creates a database with no tables, dropped when tb ends,
// and returns its URL.
func emptyDatabase(tb testing.TB) string {
	tb.Helper()
	conn := admin(tb)
	name := randomName("portabot_test_")
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() { dropDatabase(tb, name) })
	return databaseURL(name)
}

func dropDatabase(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL())
	if err != nil {
		tb.Errorf("drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		tb.Errorf("drop database %s: %v", name, err)
	}
}

// freshDatabase creates a migrated database, dropped when tb ends, and
// returns its URL.
func freshDatabase(tb testing.TB) string {
	tb.Helper()
	conn := admin(tb)
	ctx := context.Background()
	templateOnce.Do(func() {
		templateName = randomName("portabot_template_")
		if _, templateErr = conn.Exec(ctx, "CREATE DATABASE "+templateName); templateErr != nil {
			return
		}
		_, templateErr = Migrate(ctx, databaseURL(templateName))
	})
	if templateErr != nil {
		tb.Fatalf("template database: %v", templateErr)
	}
	name := randomName("portabot_test_")
	createMu.Lock()
	_, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName)
	createMu.Unlock()
	if err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() { dropDatabase(tb, name) })
	return databaseURL(name)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if templateName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if conn, err := pgx.Connect(ctx, serverURL()); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+templateName+" WITH (FORCE)")
			_ = conn.Close(ctx)
		}
		cancel()
	}
	os.Exit(code)
}

// mustOpen opens a replica on the database at url, closed when tb ends.
func mustOpen(tb testing.TB, url string, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(context.Background(), url, append([]Option{WithSealKey(testKey)}, opts...)...)
	if err != nil {
		tb.Fatalf("Open() error = %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close() error = %v", err)
		}
	})
	return db
}

// crash stops db as a replica killed would: its leases are neither renewed
// nor given up, and its connections go.
func (db *DB) crash() {
	db.closed.Do(func() {
		db.stopBeat()
		<-db.beatDone
		db.pool.Close()
	})
}

// expireLeases makes the leases of db run out now, as they would once its
// TTL passed without a renewal.
func expireLeases(tb testing.TB, url string, db *DB) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE leases SET expires = clock_timestamp() - interval '1 second' WHERE holder = $1`, db.holder); err != nil {
		tb.Fatal(err)
	}
}

func TestRedactHidesPassword(t *testing.T) {
	if got := redact("postgres://u:secret@h/db"); got != "postgres://u:xxxxx@h/db" {
		t.Errorf("redact() = %q", got)
	}
}
