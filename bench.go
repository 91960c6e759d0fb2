package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"portabot/loadtest"
)

// runBench measures serve against the reference servers and prints the
// report as JSON. With --reference it is one of those reference
// servers instead: bench starts them as child processes of this binary, so
// that they run apart from the load generator exactly as serve does.
func runBench(ctx context.Context, env environment, args []string) error {
	fs := newFlags("bench", env.stderr)
	conns := fs.String("conns", "8,128", "concurrency levels: keep-alive connections, comma-separated")
	requests := fs.Int("requests", 20000, "webhooks per level (with --duration: at most this many; 0 for no cap)")
	duration := fs.Duration("duration", 0, "run each level this long instead of for --requests webhooks")
	clients := fs.Int("clients", 0, "distinct senders per level, taking turns (0: every webhook from a new client, which makes the reply count exact)")
	warmup := fs.Int("warmup", 1000, "unmeasured webhooks before each level")
	questions := fs.String("questions", "", "file of texts to send: plain lines or JSON lines with \"q\" (faq/testdata/eval.jsonl); default: a built-in list")
	servers := fs.String("servers", "ceiling,probe,relay,portabot", "what to measure, in order")
	refs := fs.String("refs", "process", "run the reference servers as a child process (like serve) or inproc")
	workers := fs.Int("workers", 0, "PORTABOT_WORKERS for serve (0: serve's default)")
	drain := fs.Duration("drain-timeout", 2*time.Minute, "longest wait for serve to answer a level's messages")
	check := fs.Bool("check", false, "fail when a target is missed")
	exe := fs.String("exe", "", "the portabot binary to measure (default: this one)")
	reference := fs.String("reference", "", "internal: serve reference server `KIND` (ceiling, probe or relay) instead of measuring")
	addr := fs.String("addr", "127.0.0.1:8090", "internal: with --reference, the listen address")
	db := fs.String("db", "", "internal: with --reference probe, the bbolt file")
	history := fs.Int("history", 0, "instead: serve on an empty store and on one with `N` closed cases, the same paths measured on both (docs/performance.md)")
	historyDir := fs.String("history-dir", "", "with --history: where the two stores go (default: a temporary folder, removed after)")
	historySamples := fs.Int("samples", 7, "with --history: measurements of each path per store")
	scale := addReplicaFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Help was asked for and printed: a bench run is minutes of
			// load nobody wanted.
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, fs.Args())
	}
	if *history > 0 {
		return runHistoryBench(ctx, env, historyConfig{Closed: *history, Samples: *historySamples, Dir: *historyDir,
			Keep: *historyDir != "", Exe: *exe, Log: env.stderr})
	}
	if *reference != "" {
		// The relay sends where serve would, from serve's variables.
		return loadtest.ServeReference(ctx, loadtest.ReferenceConfig{Kind: *reference, Addr: *addr,
			Secret: env.getenv("PORTABOT_META_APP_SECRET"), DB: *db,
			GraphURL: env.getenv("PORTABOT_GRAPH_URL"), GraphVersion: env.getenv("PORTABOT_GRAPH_VERSION"),
			Token: env.getenv("PORTABOT_META_ACCESS_TOKEN"), PhoneNumberID: env.getenv("PORTABOT_WA_PHONE_NUMBER_ID"),
			Log: slog.New(slog.NewTextHandler(env.stderr, nil))}, nil)
	}

	if *duration > 0 && !flagSet(fs, "requests") {
		// The default count would end a timed level early on a fast server.
		*requests = 0
	}
	cfg := loadtest.Config{Exe: *exe, Requests: *requests, Duration: *duration, Clients: *clients, Warmup: *warmup,
		Workers: *workers, DrainTimeout: *drain, Progress: env.stderr}
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return fmt.Errorf("%w: --conns wants numbers like 8,128, not %q", errUsage, *conns)
		}
		cfg.Conns = append(cfg.Conns, n)
	}
	for _, s := range strings.Split(*servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Servers = append(cfg.Servers, s)
		}
	}
	switch *refs {
	case "process":
	case "inproc":
		cfg.InProcessRefs = true
	default:
		return fmt.Errorf("%w: --refs is process or inproc, not %q", errUsage, *refs)
	}
	if *questions != "" {
		f, err := os.Open(*questions)
		if err != nil {
			return err
		}
		cfg.Questions, err = loadtest.ReadQuestions(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *questions, err)
		}
	}
	if cfg.Exe == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary to run serve: %w", err)
		}
		cfg.Exe = self
	}
	// The children get a clean environment, so a PORTABOT_SLACK_* or
	// PORTABOT_DB in this shell cannot change what is measured; only the
	// Go runtime's knobs, the log level and the profiler's address (serve
	// only, to profile it under load) pass through.
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG", "PORTABOT_LOG_LEVEL", "PORTABOT_PPROF_ADDR"} {
		if v := env.getenv(k); v != "" {
			cfg.Env = append(cfg.Env, k+"="+v)
		}
	}

	if scale.wanted() {
		return runBenchReplicas(ctx, env, cfg, scale)
	}
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Version = buildVersion()
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	// The targets read ">= 0.65", not "\u003e= 0.65".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if *check && !rep.Pass {
		return errors.New("bench: a target was missed")
	}
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
