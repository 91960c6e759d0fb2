package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"portabot/loadtest"
)

// replicaFlags are bench's flags for serve on PostgreSQL with several
// replicas (loadtest.RunReplicas).
type replicaFlags struct {
	store    *string
	replicas *string
	server   *string
	pgbench  *time.Duration
}

func addReplicaFlags(fs interface {
	String(name, value, usage string) *string
	Duration(name string, value time.Duration, usage string) *time.Duration
}) *replicaFlags {
	return &replicaFlags{
		store:    fs.String("store", "bbolt", "serve's store: bbolt (against the reference servers) or postgres (replicas and their cost per message)"),
		replicas: fs.String("replicas", "", "with --store postgres: replica counts to measure, comma-separated (default 1,2,3)"),
		server: fs.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"with --store postgres: a server where bench may create and drop databases, one per replica count"),
		pgbench: fs.Duration("pgbench", 20*time.Second, "with --store postgres: how long pgbench runs one message's statements (0 skips it)"),
	}
}

// wanted reports whether the flags ask for the replica bench.
func (f *replicaFlags) wanted() bool { return *f.store != "bbolt" || *f.replicas != "" }

// runBenchReplicas measures serve on PostgreSQL with each replica count
// and prints the report as JSON.
func runBenchReplicas(ctx context.Context, env environment, cfg loadtest.Config, f *replicaFlags) error {
	if *f.store != "postgres" {
		return fmt.Errorf("%w: --store is bbolt or postgres, not %q (--replicas needs postgres)", errUsage, *f.store)
	}
	counts := []int{1, 2, 3}
	if *f.replicas != "" {
		counts = nil
		for _, s := range strings.Split(*f.replicas, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 || n > 16 {
				return fmt.Errorf("%w: --replicas wants counts from 1 to 16 like 1,2,3, not %q", errUsage, *f.replicas)
			}
			counts = append(counts, n)
		}
	}
	rep, err := loadtest.RunReplicas(ctx, loadtest.ReplicasConfig{Config: cfg, Server: *f.server, Replicas: counts, PGBench: *f.pgbench})
	if err != nil {
		return err
	}
	rep.Version = buildVersion()
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
