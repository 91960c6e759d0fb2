package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/storage/postgres"
)

// The replica bench measures serve on PostgreSQL with 1, 2, 3… replicas
// behind a round-robin balancer, one database per count. On a machine with
// few cores throughput cannot grow with replicas (they and PostgreSQL share
// the cores), so each count also reports what a message costs: serve's CPU,
// PostgreSQL's transactions and statements, and PostgreSQL's execution
// time (pg_stat_statements). A pgbench run of one message's statements
// measures how many messages PostgreSQL alone can carry. From these a
// deployment with more machines can be projected (docs/scaling.md).

// ReplicasConfig is one replica bench run.
type ReplicasConfig struct {
	// Config gives the binary, the load (Conns: one level, its first
	// entry), the drain timeout, the children's environment and Progress.
	// Its Warmup webhooks run, unmeasured, before each count.
	Config
	// Server is a postgres:// URL of a server on which the bench may create
	// and drop databases; each replica count gets one of its own.
	Server string
	// Replicas are the counts to measure, in order.
	Replicas []int
	// PGBench is how long pgbench runs the statement mix; 0 skips it.
	PGBench time.Duration
}

// ReplicasReport is the JSON document of a replica bench.
type ReplicasReport struct {
	Version string  `json:"version,omitempty"`
	Machine Machine `json:"machine"`
	Conns   int     `json:"conns"`
	// Requests per count, after Warmup unmeasured ones.
	Requests int `json:"requests"`
	Warmup   int `json:"warmup"`
	Workers  int `json:"workers,omitempty"`
	// Statements says whether pg_stat_statements could be read, and if not
	// why (its columns are then absent).
	Statements string         `json:"pg_stat_statements"`
	Levels     []ReplicaLevel `json:"levels"`
	PGBench    *PGBench       `json:"pgbench,omitempty"`
	Seconds    float64        `json:"seconds"`
}

// ReplicaLevel is one replica count.
type ReplicaLevel struct {
	Replicas int   `json:"replicas"`
	Level    Level `json:"level"`
	// Messages is the count the costs are divided by: the messages of the
	// measured level that were answered.
	Messages int `json:"messages"`
	// ServeCPUMS is the CPU time (user and system) of all replicas
	// together per message, in milliseconds.
	ServeCPUMS float64 `json:"serve_cpu_ms_per_msg"`
	// PGCPUMS is the CPU time of PostgreSQL's processes serving the
	// replicas, per message, when the server runs on this machine: unlike
	// execution time it does not grow while they wait for a core or a lock.
	PGCPUMS *float64 `json:"pg_cpu_ms_per_msg,omitempty"`
	// Transactions PostgreSQL committed or rolled back in the database, per
	// message (pg_stat_database).
	Transactions float64 `json:"pg_transactions_per_msg"`
	// Statements, and their execution time in PostgreSQL, per message;
	// idle polling by the replicas' workers is included, as in production.
	Statements *float64 `json:"pg_statements_per_msg,omitempty"`
	PGExecMS   *float64 `json:"pg_exec_ms_per_msg,omitempty"`
	// Top are the statements that took most of PostgreSQL's time.
	Top []StatementCost `json:"top_statements,omitempty"`
}

// StatementCost is one statement's share of a message.
type StatementCost struct {
	CallsPerMsg float64 `json:"calls_per_msg"`
	MSPerMsg    float64 `json:"ms_per_msg"`
	Query       string  `json:"query"`
}

// PGBench is PostgreSQL's capacity for one message's statements, measured
// by pgbench: every pgbench transaction is the writes and reads of one
// message, as serve issues them.
type PGBench struct {
	Clients int     `json:"clients"`
	Seconds float64 `json:"seconds"`
	// MessagesPerSec is pgbench's tps: messages PostgreSQL could carry per
	// second with no serve in front of it.
	MessagesPerSec float64 `json:"messages_per_s"`
	LatencyMS      float64 `json:"latency_ms"`
	// CPUMS is the CPU time of the server processes pgbench used, per
	// message, when the server runs on this machine.
	CPUMS *float64 `json:"pg_cpu_ms_per_msg,omitempty"`
	// Skipped says why pgbench did not run.
	Skipped string `json:"skipped,omitempty"`
}

// RunReplicas measures each replica count in turn. It creates a database per
// count on cfg.Server and drops it before it returns.
func RunReplicas(ctx context.Context, cfg ReplicasConfig) (*ReplicasReport, error) {
	began := time.Now()
	if len(cfg.Replicas) == 0 {
		return nil, errors.New("loadtest: no replica counts")
	}
	for _, n := range cfg.Replicas {
		if n < 1 || n > 16 {
			return nil, fmt.Errorf("loadtest: %d replicas: want 1 to 16", n)
		}
	}
	if !strings.HasPrefix(cfg.Server, "postgres://") && !strings.HasPrefix(cfg.Server, "postgresql://") {
		return nil, errors.New("loadtest: the replica bench needs a postgres:// URL of a server where it may create databases")
	}
	warmup := cfg.Warmup
	cfg.Warmup = 0 // run apart, so that it stays out of the costs
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	cfg.Conns = cfg.Conns[:1]
	dir, err := os.MkdirTemp("", "portabot-bench-replicas-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b := &bench{cfg: cfg.Config, dir: dir, secret: randomHex(16), token: randomHex(24), levelSize: cfg.Requests,
		measured: map[string]map[int]Level{}}
	if cfg.Duration > 0 && cfg.Requests == 0 {
		b.levelSize = DurationCap
	}
	rep := &ReplicasReport{
		Machine:  Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()},
		Conns:    cfg.Conns[0],
		Requests: cfg.Requests, Warmup: warmup, Workers: cfg.Workers,
	}
	for _, n := range cfg.Replicas {
		l, why, err := b.replicas(ctx, cfg.Server, n, warmup)
		if err != nil {
			return nil, fmt.Errorf("%d replicas: %w", n, err)
		}
		rep.Statements = why
		rep.Levels = append(rep.Levels, l)
	}
	if cfg.PGBench > 0 {
		pb, err := runPGBench(ctx, cfg.Server, dir, cfg.Conns[0], cfg.PGBench)
		if err != nil {
			return nil, fmt.Errorf("pgbench: %w", err)
		}
		rep.PGBench = pb
		if pb.Skipped == "" {
			fmt.Fprintf(cfg.Progress, "bench: pgbench clients=%d %.0f messages/s latency=%.2fms", pb.Clients, pb.MessagesPerSec, pb.LatencyMS)
			if pb.CPUMS != nil {
				fmt.Fprintf(cfg.Progress, " pg_cpu=%.2fms/msg", *pb.CPUMS)
			}
			fmt.Fprintln(cfg.Progress)
		}
	}
	rep.Seconds = round(time.Since(began).Seconds())
	return rep, nil
}

// replicas measures n replicas on a database of their own. why is "on"
// when pg_stat_statements was read, or the reason it was not.
func (b *bench) replicas(ctx context.Context, server string, n, warmup int) (ReplicaLevel, string, error) {
	l := ReplicaLevel{Replicas: n}
	dbURL, drop, err := createDatabase(ctx, server, "portabot_bench_")
	if err != nil {
		return l, "", err
	}
	defer drop()
	stats, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return l, "", fmt.Errorf("connect: %w", err)
	}
	defer stats.Close(context.Background())
	why := enableStatements(ctx, stats)

	closeGraph, err := b.startGraph()
	if err != nil {
		return l, "", err
	}
	defer closeGraph()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// Each replica's pool stays well inside the server's connections.
	pool := "pool_max_conns=" + strconv.Itoa(max(8, 60/n))
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	var procs []*process
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	var backends []*url.URL
	for i := range n {
		addr, err := freeAddr()
		if err != nil {
			return l, "", err
		}
		env := b.serveEnv(addr, dbURL+sep+pool, key)
		p, err := startProcess(ctx, b.cfg.Exe, []string{"serve"}, env, b.dir,
			filepath.Join(b.dir, fmt.Sprintf("serve-%d-%d.log", n, i)), "http://"+addr)
		if err != nil {
			return l, "", err
		}
		procs = append(procs, p)
		backends = append(backends, &url.URL{Scheme: "http", Host: addr})
	}
	lb, err := startBalancer(backends)
	if err != nil {
		return l, "", err
	}
	defer lb.Close()
	b.addr = lb.Addr().String()

	if warmup > 0 {
		b.levelSize, warmup = warmup, b.levelSize
		_, _, err := b.level(ctx, fmt.Sprintf("warm-%d", n), b.cfg.Conns[0], true)
		b.levelSize = warmup
		if err != nil {
			return l, "", fmt.Errorf("warm-up: %w", err)
		}
	}
	before, err := snapshot(ctx, stats, procs, why == "on")
	if err != nil {
		return l, "", err
	}
	lv, _, err := b.level(ctx, fmt.Sprintf("%d-repl", n), b.cfg.Conns[0], true)
	if err != nil {
		return l, "", err
	}
	for i, p := range procs {
		if !p.Alive() {
			return l, "", fmt.Errorf("replica %d exited during the run; its log ends:\n%s", i, p.logTail())
		}
	}
	after, err := snapshot(ctx, stats, procs, why == "on")
	if err != nil {
		return l, "", err
	}
	l.Level = lv
	if lv.E2E != nil {
		l.Messages = lv.E2E.Answered
	}
	if l.Messages == 0 {
		return l, why, errors.New("no message was answered")
	}
	per := func(v float64) float64 { return round(v / float64(l.Messages)) }
	l.ServeCPUMS = per(float64(after.cpuTicks-before.cpuTicks) * 1000 / clockTicks)
	l.Transactions = per(float64(after.xacts - before.xacts))
	if len(after.pgTicks) > 0 {
		v := per(float64(pgTicksBetween(before.pgTicks, after.pgTicks)) * 1000 / clockTicks)
		l.PGCPUMS = &v
	}
	if why == "on" {
		var calls int64
		var ms float64
		var top []StatementCost
		for id, s := range after.statements {
			prev := before.statements[id]
			c, t := s.calls-prev.calls, s.ms-prev.ms
			if c == 0 {
				continue
			}
			calls += c
			ms += t
			top = append(top, StatementCost{CallsPerMsg: per(float64(c)), MSPerMsg: per(t), Query: oneLine(s.query, 160)})
		}
		st, ex := per(float64(calls)), per(ms)
		l.Statements, l.PGExecMS = &st, &ex
		slices.SortFunc(top, func(a, b StatementCost) int {
			switch {
			case a.MSPerMsg > b.MSPerMsg:
				return -1
			case a.MSPerMsg < b.MSPerMsg:
				return 1
			}
			return strings.Compare(a.Query, b.Query)
		})
		l.Top = top[:min(len(top), 12)]
	}
	fmt.Fprintf(b.cfg.Progress, "bench: replicas=%d serve_cpu=%.2fms/msg pg_transactions=%.1f/msg", n, l.ServeCPUMS, l.Transactions)
	if l.PGCPUMS != nil {
		fmt.Fprintf(b.cfg.Progress, " pg_cpu=%.2fms/msg", *l.PGCPUMS)
	}
	if l.Statements != nil {
		fmt.Fprintf(b.cfg.Progress, " pg_statements=%.1f/msg pg_exec=%.3fms/msg", *l.Statements, *l.PGExecMS)
	}
	fmt.Fprintln(b.cfg.Progress)
	return l, why, nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

type statSnapshot struct {
	cpuTicks   int64
	pgTicks    map[int]int64 // CPU time of the database's backends, by pid
	xacts      int64
	statements map[int64]statementStat
}

type statementStat struct {
	calls int64
	ms    float64
	query string
}

// snapshot reads the replicas' CPU time and the database's counters. The
// server publishes a backend's counters when its transaction ends, or about
// once a second when idle, so the level's last transactions are waited for.
func snapshot(ctx context.Context, conn *pgx.Conn, procs []*process, statements bool) (statSnapshot, error) {
	var s statSnapshot
	for _, p := range procs {
		t, err := cpuTicks(p.cmd.Process.Pid)
		if err != nil {
			return s, err
		}
		s.cpuTicks += t
	}
	select {
	case <-ctx.Done():
		return s, ctx.Err()
	case <-time.After(1500 * time.Millisecond):
	}
	if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return s, err
	}
	var err error
	if s.pgTicks, err = backendTicks(ctx, conn); err != nil {
		return s, err
	}
	err = conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&s.xacts)
	if err != nil {
		return s, fmt.Errorf("pg_stat_database: %w", err)
	}
	if !statements {
		return s, nil
	}
	rows, err := conn.Query(ctx, `SELECT queryid, sum(calls)::bigint, sum(total_exec_time), min(query) FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY queryid`)
	if err != nil {
		return s, fmt.Errorf("pg_stat_statements: %w", err)
	}
	s.statements = map[int64]statementStat{}
	for rows.Next() {
		var id int64
		var st statementStat
		if err := rows.Scan(&id, &st.calls, &st.ms, &st.query); err != nil {
			return s, err
		}
		s.statements[id] = st
	}
	return s, rows.Err()
}

// backendTicks reads the CPU time of the server processes serving the
// database (but this connection), by pid. It needs the server on this
// machine; elsewhere it returns nothing.
func backendTicks(ctx context.Context, conn *pgx.Conn) (map[int]int64, error) {
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return nil, fmt.Errorf("pg_stat_activity: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("pg_stat_activity: %w", err)
	}
	ticks := map[int]int64{}
	for _, pid := range pids {
		if t, err := cpuTicks(int(pid)); err == nil {
			ticks[int(pid)] = t
		}
	}
	return ticks, nil
}

// pgTicksBetween is the CPU the database's backends used between two
// snapshots: a backend that connected meanwhile counts whole, one that
// disconnected is lost (the replicas' pools keep theirs).
func pgTicksBetween(before, after map[int]int64) int64 {
	var n int64
	for pid, t := range after {
		n += t - before[pid]
	}
	return n
}

// cpuTicks reads a process's user and system time from /proc/PID/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("serve's CPU time: %w", err)
	}
	// The command name may hold spaces; the fields after it are fixed.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("serve's CPU time: /proc stat too short")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("serve's CPU time: /proc stat unreadable")
	}
	return u + k, nil
}

// enableStatements creates pg_stat_statements in the database and checks it
// can be read, which needs the server started with it in
// shared_preload_libraries. It returns "on", or why not.
func enableStatements(ctx context.Context, conn *pgx.Conn) string {
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return "off: the extension cannot be created (" + err.Error() + "); install PostgreSQL's contrib modules"
	}
	if _, err := conn.Exec(ctx, `SELECT 1 FROM pg_stat_statements LIMIT 1`); err != nil {
		return "off: the server was not started with pg_stat_statements in shared_preload_libraries (.ci/run sets it)"
	}
	return "on"
}

// createDatabase creates an empty database on the server and returns its
// URL and the func that drops it.
func createDatabase(ctx context.Context, server, prefix string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer admin.Close(context.Background())
	name := prefix + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, server); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = conn.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

// balancer is the round-robin load balancer in front of the replicas.
type balancer struct {
	net.Listener
	srv *http.Server
}

func (l *balancer) Close() error { return l.srv.Close() }

func startBalancer(backends []*url.URL) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var next atomic.Uint64
	tr := &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(backends[next.Add(1)%uint64(len(backends))])
		},
		Transport: tr,
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &balancer{Listener: ln, srv: srv}, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// runPGBench runs pgbench with the statements of one message (pgbench.sql)
// on a fresh database with portabot's schema, clients at once, for d.
func runPGBench(ctx context.Context, server, dir string, clients int, d time.Duration) (*PGBench, error) {
	pb := &PGBench{Clients: clients, Seconds: d.Seconds()}
	exe, err := exec.LookPath("pgbench")
	if err != nil {
		pb.Skipped = "pgbench is not on PATH (it comes with PostgreSQL's client package)"
		return pb, nil
	}
	dbURL, drop, err := createDatabase(ctx, server, "portabot_pgbench_")
	if err != nil {
		return nil, err
	}
	defer drop()
	if _, err := postgres.Migrate(ctx, dbURL); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "message.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.NumCPU())),
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), "-f", script, dbURL)
	// pgbench's backends are read just before it ends, while they are
	// still connected.
	watch, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer watch.Close(context.Background())
	type sample struct {
		ticks map[int]int64
		err   error
	}
	last := make(chan sample, 1)
	go func() {
		select {
		case <-ctx.Done():
			last <- sample{err: ctx.Err()}
			return
		case <-time.After(max(time.Second, d) - 500*time.Millisecond):
		}
		t, err := backendTicks(ctx, watch)
		last <- sample{t, err}
	}()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var cpu int64
	if smp := <-last; smp.err == nil {
		for _, t := range smp.ticks {
			cpu += t
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if m := tpsLine.FindStringSubmatch(line); m != nil {
			pb.MessagesPerSec, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := latencyLine.FindStringSubmatch(line); m != nil {
			pb.LatencyMS, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	if pb.MessagesPerSec == 0 {
		return nil, fmt.Errorf("no tps in pgbench's output:\n%s", out)
	}
	if cpu > 0 {
		// Nearly all of the run: the sample is taken half a second
		// before its end.
		msgs := pb.MessagesPerSec * (max(1, d.Seconds()) - 0.5)
		v := round(float64(cpu) * 1000 / clockTicks / msgs)
		pb.CPUMS = &v
	}
	pb.MessagesPerSec = round(pb.MessagesPerSec)
	return pb, nil
}

var (
	tpsLine     = regexp.MustCompile(`^tps = ([0-9.]+)`)
	latencyLine = regexp.MustCompile(`^latency average = ([0-9.]+) ms`)
)
