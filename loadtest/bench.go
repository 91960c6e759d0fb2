package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Portabot names serve in a Config's Servers and in the report.
const Portabot = "portabot"

// Targets: portabot against the references
// measured in the same run.
const (
	TargetAcksVsCeiling      = 0.65 // acks/s at high concurrency, at least
	TargetP50VsProbe         = 0.2  // ack p50 at low concurrency, at most
	TargetProcessedVsCeiling = 0.3  // processed/s at high concurrency, at least
	TargetRSSMiB             = 100  // peak resident set, at most
	TargetStartupMS          = 200  // exec to ready, at most
)

// Identities the tool gives serve. Nothing checks them but serve and the
// fake Graph, which must agree.
const (
	benchPhoneID = "100000000000001"
	benchWABA    = "100000000000002"
)

// Config is one bench run.
type Config struct {
	// Exe is the portabot binary: serve runs as `Exe serve`, and the
	// reference servers, unless InProcessRefs, as
	// `Exe bench --reference KIND --addr ADDR --db FILE`.
	Exe string
	// Conns are the concurrency levels, each measured on every server.
	Conns []int
	// Requests is the number of webhooks per level. With Duration it only
	// caps the count (0: DurationCap).
	Requests int
	// Duration, when positive, makes each level last this long instead.
	Duration time.Duration
	// Clients is the number of distinct senders per level; 0 gives each
	// message its own sender, which makes the reply count exact.
	Clients int
	// Warmup webhooks are posted before each level and not measured;
	// serve answers all of them before the level starts.
	Warmup int
	// Questions are the texts sent, in turn; DefaultQuestions when empty.
	Questions []string
	// Servers lists what to measure, in order: Ceiling, Probe, Relay,
	// Portabot. All four, in that order, when empty.
	Servers []string
	// InProcessRefs runs the reference servers inside this process
	// instead of as a child process like serve.
	InProcessRefs bool
	// Workers sets serve's PORTABOT_WORKERS; 0 keeps serve's default.
	Workers int
	// DrainTimeout bounds the wait for serve to answer a level's messages
	// after the last acknowledgement.
	DrainTimeout time.Duration
	// Env is added to the children's otherwise empty environment (GOGC,
	// GOMAXPROCS, PORTABOT_LOG_LEVEL...).
	Env []string
	// Progress receives a line per level; nothing when nil.
	Progress io.Writer
}

// DurationCap bounds the webhooks of one level in duration mode when
// Requests is 0.
const DurationCap = 1_000_000

// Report is the JSON document the tool prints.
type Report struct {
	Version  string     `json:"version,omitempty"`
	Machine  Machine    `json:"machine"`
	Config   ConfigView `json:"config"`
	Ceiling  *Server    `json:"ceiling,omitempty"`
	Probe    *Server    `json:"probe,omitempty"`
	Relay    *Server    `json:"relay,omitempty"`
	Portabot *Server    `json:"portabot,omitempty"`
	Targets  Targets    `json:"targets"`
	// Ratios say how much of the ceiling is left once the replies alone
	// are sent; they are not targets and change nothing in Pass.
	Ratios Ratios `json:"ratios"`
	// Pass is set when every target was measured and met.
	Pass    bool    `json:"pass"`
	Seconds float64 `json:"seconds"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Arch string `json:"arch"`
	Go   string `json:"go"`
}

// ConfigView is the run's configuration as reported.
type ConfigView struct {
	Conns     []int   `json:"conns"`
	Requests  int     `json:"requests"`
	Duration  string  `json:"duration,omitempty"`
	Clients   int     `json:"clients"`
	Warmup    int     `json:"warmup"`
	Questions int     `json:"questions"`
	Refs      string  `json:"refs"`
	Workers   int     `json:"workers,omitempty"`
	Addr      string  `json:"addr"`
	DrainMax  float64 `json:"drain_timeout_s"`
}

// Server is one server's results.
type Server struct {
	// Mode is "process" (a child process) or "inproc".
	Mode       string   `json:"mode"`
	StartupMS  *float64 `json:"startup_ms,omitempty"`
	PeakRSSMiB *float64 `json:"peak_rss_mib,omitempty"`
	// PeakAnonMiB and PeakFileMiB split the resident set: heap and
	// stacks, and file pages (mostly the memory-mapped database).
	PeakAnonMiB *float64 `json:"peak_rss_anon_mib,omitempty"`
	PeakFileMiB *float64 `json:"peak_rss_file_mib,omitempty"`
	// DBMiB is the size of the database file at the end.
	DBMiB *float64 `json:"db_mib,omitempty"`
	// Webhooks counts every post, warm-up included.
	Webhooks int `json:"webhooks"`
	// Keys is how many message ids the probe stored: one per webhook it
	// acknowledged.
	Keys   *int    `json:"keys,omitempty"`
	Levels []Level `json:"levels"`
	// GraphStray counts fake Graph calls that matched no level (serve and
	// the relay).
	GraphStray *GraphCounts `json:"graph_stray,omitempty"`
}

// Level is one concurrency level on one server.
type Level struct {
	Conns      int     `json:"conns"`
	Requests   int     `json:"requests"`
	Acks       int     `json:"acks"`
	Seconds    float64 `json:"seconds"`
	AcksPerSec float64 `json:"acks_per_s"`
	AckP50MS   float64 `json:"ack_p50_ms"`
	AckP90MS   float64 `json:"ack_p90_ms"`
	AckP99MS   float64 `json:"ack_p99_ms"`
	AckMaxMS   float64 `json:"ack_max_ms"`
	Errors     Errors  `json:"errors"`
	E2E        *E2E    `json:"e2e,omitempty"`
}

// Errors counts requests that were not acknowledged.
type Errors struct {
	Non200    int            `json:"non_200"`
	Transport int            `json:"transport"`
	Statuses  map[string]int `json:"statuses,omitempty"`
	First     string         `json:"first,omitempty"`
}

// E2E is the end-to-end result of serve or the relay for a level: from
// the first post until every acknowledged message has its reply at the
// fake Graph.
type E2E struct {
	Clients         int     `json:"clients"`
	Messages        int     `json:"messages"`
	Answered        int     `json:"answered"`
	Complete        bool    `json:"complete"`
	Seconds         float64 `json:"seconds"`
	ProcessedPerSec float64 `json:"processed_per_s"`
	Replies         int     `json:"replies"`
	ReadReceipts    int     `json:"read_receipts"`
	// Duplicates counts clients that got the same reply twice.
	Duplicates int `json:"duplicates"`
	// ClientsWithExtraReplies counts clients with more replies than
	// messages; a long answer sent as two messages counts here, so it is
	// information, not a failure.
	ClientsWithExtraReplies int `json:"clients_with_extra_replies"`
}

// Targets holds the checks against the performance targets.
type Targets struct {
	AcksVsCeiling      *Check `json:"acks_vs_ceiling,omitempty"`
	P50VsProbe         *Check `json:"ack_p50_vs_probe,omitempty"`
	ProcessedVsCeiling *Check `json:"processed_vs_ceiling,omitempty"`
	PeakRSSMiB         *Check `json:"peak_rss_mib,omitempty"`
	StartupMS          *Check `json:"startup_ms,omitempty"`
}

// Check is one measured value against its target.
type Check struct {
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
	What   string  `json:"what"`
}

// Ratios compare end-to-end rates for information.
type Ratios struct {
	RelayProcessedVsCeilingAcks       *Ratio `json:"relay_processed_vs_ceiling_acks,omitempty"`
	PortabotProcessedVsRelayProcessed *Ratio `json:"portabot_processed_vs_relay_processed,omitempty"`
}

// Ratio is one informational ratio. Complete is false when a level it
// divides left messages unanswered, which makes its rate meaningless.
type Ratio struct {
	Value    float64 `json:"value"`
	Complete bool    `json:"complete"`
	What     string  `json:"what"`
}

func (t Targets) all() []*Check {
	return []*Check{t.AcksVsCeiling, t.P50VsProbe, t.ProcessedVsCeiling, t.PeakRSSMiB, t.StartupMS}
}

// bench is one run in progress.
type bench struct {
	cfg       Config
	dir       string
	addr      string
	secret    string
	token     string
	graph     *FakeGraph
	nextBase  int64 // first client number of the next batch of messages
	nextID    int64
	levelSize int
	// measured holds the levels done so far, by server and connections,
	// for the ratios in the progress lines.
	measured map[string]map[int]Level
}

// Run measures the configured servers one after another and returns the
// report. It stops everything it started, and removes its files, before it
// returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	began := time.Now()
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "portabot-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, dir: dir, addr: addr, secret: randomHex(16), token: randomHex(24), levelSize: cfg.Requests,
		measured: map[string]map[int]Level{}}
	if cfg.Duration > 0 && cfg.Requests == 0 {
		b.levelSize = DurationCap
	}
	if b.batchClients(b.levelSize)*int64(len(cfg.Conns)*2*len(cfg.Servers)) > maxClient {
		return nil, errors.New("loadtest: more clients than the tool can number; lower --requests or --clients")
	}
	rep := &Report{
		Machine: Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()},
		Config: ConfigView{Conns: cfg.Conns, Requests: cfg.Requests, Clients: cfg.Clients, Warmup: cfg.Warmup,
			Questions: len(cfg.Questions), Refs: "process", Workers: cfg.Workers, Addr: addr,
			DrainMax: cfg.DrainTimeout.Seconds()},
	}
	if cfg.Duration > 0 {
		rep.Config.Duration = cfg.Duration.String()
	}
	if cfg.InProcessRefs {
		rep.Config.Refs = "inproc"
	}
	for _, name := range cfg.Servers {
		var s *Server
		var err error
		if name == Portabot {
			s, err = b.portabot(ctx)
		} else {
			s, err = b.reference(ctx, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		switch name {
		case Ceiling:
			rep.Ceiling = s
		case Probe:
			rep.Probe = s
		case Relay:
			rep.Relay = s
		case Portabot:
			rep.Portabot = s
		}
	}
	rep.Targets = targets(rep, slices.Min(cfg.Conns), slices.Max(cfg.Conns))
	rep.Ratios = ratios(rep, slices.Max(cfg.Conns))
	rep.Pass = true
	for _, c := range rep.Targets.all() {
		rep.Pass = rep.Pass && c != nil && c.Pass
	}
	rep.Seconds = round(time.Since(began).Seconds())
	return rep, nil
}

func (cfg *Config) normalize() error {
	if cfg.Exe == "" {
		return errors.New("loadtest: no portabot binary")
	}
	if len(cfg.Conns) == 0 {
		cfg.Conns = []int{8, 128}
	}
	for _, c := range cfg.Conns {
		if c < 1 || c > 4096 {
			return fmt.Errorf("loadtest: %d connections: want 1 to 4096", c)
		}
	}
	if cfg.Requests < 0 || cfg.Warmup < 0 || cfg.Clients < 0 || cfg.Duration < 0 {
		return errors.New("loadtest: negative count or duration")
	}
	if cfg.Requests == 0 && cfg.Duration == 0 {
		return errors.New("loadtest: a level needs a request count or a duration")
	}
	if cfg.Requests > 0 && cfg.Requests < slices.Max(cfg.Conns) {
		return fmt.Errorf("loadtest: %d requests cannot keep %d connections busy", cfg.Requests, slices.Max(cfg.Conns))
	}
	if len(cfg.Questions) == 0 {
		cfg.Questions = DefaultQuestions()
	}
	if len(cfg.Servers) == 0 {
		cfg.Servers = []string{Ceiling, Probe, Relay, Portabot}
	}
	seen := map[string]bool{}
	for _, s := range cfg.Servers {
		if s != Ceiling && s != Probe && s != Relay && s != Portabot {
			return fmt.Errorf("loadtest: unknown server %q (want %s, %s, %s or %s)", s, Ceiling, Probe, Relay, Portabot)
		}
		if seen[s] {
			return fmt.Errorf("loadtest: server %q listed twice", s)
		}
		seen[s] = true
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 2 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	return nil
}

// batchClients is how many client numbers a batch of n messages uses.
func (b *bench) batchClients(n int) int64 {
	if b.cfg.Clients > 0 {
		return int64(b.cfg.Clients)
	}
	return int64(n)
}

// messages returns the next batch of n messages, from clients and with ids
// no earlier batch used.
func (b *bench) messages(n int) *Messages {
	m := NewMessages(b.secret, benchPhoneID, b.cfg.Questions, b.nextBase, b.cfg.Clients, b.nextID)
	b.nextBase += b.batchClients(n)
	b.nextID += int64(n)
	return m
}

// reference measures the ceiling, the probe or the relay. The relay's
// levels are tracked as serve's are, on a fresh fake Graph.
func (b *bench) reference(ctx context.Context, kind string) (*Server, error) {
	db := filepath.Join(b.dir, kind+".db")
	s := &Server{Mode: "process"}
	tracked := kind == Relay
	if tracked {
		closeGraph, err := b.startGraph()
		if err != nil {
			return nil, err
		}
		defer closeGraph()
	}
	var stop func()
	var p *process
	if b.cfg.InProcessRefs {
		s.Mode = "inproc"
		rc := ReferenceConfig{Kind: kind, Addr: b.addr, Secret: b.secret, DB: db}
		if tracked {
			rc.GraphURL, rc.Token, rc.PhoneNumberID = b.graph.URL, b.token, benchPhoneID
			rc.Log = slog.New(slog.NewTextHandler(b.cfg.Progress, nil))
		}
		rctx, cancel := context.WithCancel(ctx)
		ready := make(chan string, 1)
		errc := make(chan error, 1)
		go func() { errc <- ServeReference(rctx, rc, func(a string) { ready <- a }) }()
		select {
		case <-ready:
		case err := <-errc:
			cancel()
			return nil, err
		}
		stop = sync.OnceFunc(func() { cancel(); <-errc })
	} else {
		env := append([]string{"PORTABOT_META_APP_SECRET=" + b.secret}, b.cfg.Env...)
		if tracked {
			// What serve gets, so the relay sends where serve does.
			env = append(env, "PORTABOT_GRAPH_URL="+b.graph.URL, "PORTABOT_META_ACCESS_TOKEN="+b.token,
				"PORTABOT_WA_PHONE_NUMBER_ID="+benchPhoneID)
		}
		var err error
		p, err = startProcess(ctx, b.cfg.Exe, []string{"bench", "--reference", kind, "--addr", b.addr, "--db", db},
			env, b.dir, filepath.Join(b.dir, kind+".log"), "http://"+b.addr)
		if err != nil {
			return nil, err
		}
		stop = p.Stop
		startup := ms(p.Startup)
		s.StartupMS = &startup
	}
	defer stop()
	for _, conns := range b.cfg.Conns {
		l, posted, err := b.level(ctx, kind, conns, tracked)
		s.Webhooks += posted
		if err != nil {
			if p != nil {
				err = fmt.Errorf("%w; its log ends:\n%s", err, p.logTail())
			}
			return nil, err
		}
		s.Levels = append(s.Levels, l)
	}
	stop()
	if tracked {
		stray := b.graph.Stray()
		s.GraphStray = &stray
	}
	if p != nil {
		s.memory(p.Peak())
	}
	if kind == Probe {
		s.dbSize(db)
		n, err := ProbeKeys(db)
		if err != nil {
			return nil, fmt.Errorf("count the probe's keys: %w", err)
		}
		s.Keys = &n
	}
	return s, nil
}

// serveEnv is the environment of a serve the bench starts: listening on
// addr, its store at db sealed with key, Meta mode against the fake Graph,
// then the bench's own settings.
func (b *bench) serveEnv(addr, db string, key []byte) []string {
	env := append([]string{
		"PORTABOT_ADDR=" + addr,
		"PORTABOT_DB=" + db,
		"PORTABOT_META_ACCESS_TOKEN=" + b.token,
		"PORTABOT_GRAPH_URL=" + b.graph.URL,
		"PORTABOT_META_APP_SECRET=" + b.secret,
		"PORTABOT_META_VERIFY_TOKEN=" + randomHex(8),
		"PORTABOT_WA_PHONE_NUMBER_ID=" + benchPhoneID,
		"PORTABOT_DB_KEY=" + base64.StdEncoding.EncodeToString(key),
		"PORTABOT_DEST_WABA_ID=" + benchWABA,
	}, b.cfg.Env...)
	if b.cfg.Workers > 0 {
		env = append(env, "PORTABOT_WORKERS="+strconv.Itoa(b.cfg.Workers))
	}
	return env
}

// portabot measures serve, started as a child process on a fresh
// database, in Meta mode against the fake Graph.
func (b *bench) portabot(ctx context.Context) (*Server, error) {
	closeGraph, err := b.startGraph()
	if err != nil {
		return nil, err
	}
	defer closeGraph()
	g := b.graph
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	dbPath := filepath.Join(b.dir, "portabot.db")
	env := b.serveEnv(b.addr, dbPath, key)
	p, err := startProcess(ctx, b.cfg.Exe, []string{"serve"}, env, b.dir, filepath.Join(b.dir, "serve.log"), "http://"+b.addr)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	startup := ms(p.Startup)
	s := &Server{Mode: "process", StartupMS: &startup}
	for _, conns := range b.cfg.Conns {
		l, posted, err := b.level(ctx, Portabot, conns, true)
		s.Webhooks += posted
		if err == nil && !p.Alive() {
			err = errors.New("serve exited during the run")
		}
		if err != nil {
			return nil, fmt.Errorf("%w; its log ends:\n%s", err, p.logTail())
		}
		s.Levels = append(s.Levels, l)
	}
	p.Stop()
	s.memory(p.Peak())
	s.dbSize(dbPath)
	stray := g.Stray()
	s.GraphStray = &stray
	return s, nil
}

// startGraph starts the fake Graph the levels are tracked at; the
// returned func stops it.
func (b *bench) startGraph() (func(), error) {
	g, err := StartFakeGraph(b.token, benchPhoneID)
	if err != nil {
		return nil, err
	}
	b.graph = g
	return func() {
		b.graph = nil
		g.Close()
	}, nil
}

func (s *Server) memory(m memPeak) {
	rss, anon, file := mib(m.RSS), mib(m.Anon), mib(m.File)
	s.PeakRSSMiB, s.PeakAnonMiB, s.PeakFileMiB = &rss, &anon, &file
}

func (s *Server) dbSize(path string) {
	if fi, err := os.Stat(path); err == nil {
		size := mib(fi.Size())
		s.DBMiB = &size
	}
}

// level runs the warm-up and then one measured level at conns. With
// tracked (serve, the relay), it also waits until every acknowledged message is
// answered, after the warm-up and after the level. It returns how many
// webhooks it posted in all.
func (b *bench) level(ctx context.Context, server string, conns int, tracked bool) (Level, int, error) {
	gen := NewGenerator("http://"+b.addr+"/webhooks/whatsapp", conns)
	defer gen.Close()
	posted := 0
	if b.cfg.Warmup > 0 {
		m := b.messages(b.cfg.Warmup)
		t := b.track(m, b.cfg.Warmup, tracked)
		r, err := gen.Run(ctx, m, b.cfg.Warmup, 0)
		posted += r.Sent
		if err != nil {
			return Level{}, posted, err
		}
		if r.Acks == 0 {
			return Level{}, posted, fmt.Errorf("warm-up at %d connections: nothing acknowledged (%s)", conns, r.FirstError)
		}
		if t != nil {
			if _, err := b.drain(ctx, t, r); err != nil {
				return Level{}, posted, fmt.Errorf("warm-up at %d connections: %w", conns, err)
			}
		}
	}
	m := b.messages(b.levelSize)
	t := b.track(m, b.levelSize, tracked)
	r, err := gen.Run(ctx, m, b.levelSize, b.cfg.Duration)
	posted += r.Sent
	if err != nil {
		return Level{}, posted, err
	}
	l := Level{
		Conns: conns, Requests: r.Sent, Acks: r.Acks, Seconds: round(r.Elapsed.Seconds()),
		AcksPerSec: round(r.AcksPerSecond()),
		AckP50MS:   ms(Percentile(r.Latencies, 50)), AckP90MS: ms(Percentile(r.Latencies, 90)),
		AckP99MS: ms(Percentile(r.Latencies, 99)), AckMaxMS: ms(Percentile(r.Latencies, 100)),
		Errors: Errors{Non200: r.Non200, Transport: r.Transport, First: r.FirstError},
	}
	for code, n := range r.Statuses {
		if l.Errors.Statuses == nil {
			l.Errors.Statuses = map[string]int{}
		}
		l.Errors.Statuses[strconv.Itoa(code)] = n
	}
	if t != nil {
		e, err := b.drain(ctx, t, r)
		if err != nil && !errors.Is(err, errDrain) {
			return Level{}, posted, err
		}
		e.Clients = int(min(b.batchClients(r.Sent), int64(r.Sent)))
		l.E2E = &e
	}
	fmt.Fprintf(b.cfg.Progress, "bench: %-8s conns=%-4d acks=%d/%d %.0f acks/s p50=%.2fms p99=%.2fms errors=%d",
		server, conns, l.Acks, l.Requests, l.AcksPerSec, l.AckP50MS, l.AckP99MS, l.Errors.Non200+l.Errors.Transport)
	if l.E2E != nil {
		fmt.Fprintf(b.cfg.Progress, " answered=%d/%d in %.2fs (%.0f/s) duplicates=%d",
			l.E2E.Answered, l.E2E.Messages, l.E2E.Seconds, l.E2E.ProcessedPerSec, l.E2E.Duplicates)
		if c, ok := b.measured[Ceiling][conns]; ok && c.AcksPerSec > 0 {
			fmt.Fprintf(b.cfg.Progress, " processed_vs_ceiling_acks=%.2f", l.E2E.ProcessedPerSec/c.AcksPerSec)
		}
		if r, ok := b.measured[Relay][conns]; ok && server != Relay && r.E2E != nil && r.E2E.ProcessedPerSec > 0 {
			fmt.Fprintf(b.cfg.Progress, " processed_vs_relay=%.2f", l.E2E.ProcessedPerSec/r.E2E.ProcessedPerSec)
		}
	}
	fmt.Fprintln(b.cfg.Progress)
	if b.measured[server] == nil {
		b.measured[server] = map[int]Level{}
	}
	b.measured[server][conns] = l
	return l, posted, nil
}

func (b *bench) track(m *Messages, n int, tracked bool) *Tracker {
	if !tracked {
		return nil
	}
	t := NewTracker(m, n)
	b.graph.Track(t)
	return t
}

var errDrain = errors.New("not every acknowledged message was answered in time")

// drain waits until every message r acknowledged is answered, or the
// drain timeout passes, and returns the end-to-end result.
func (b *bench) drain(ctx context.Context, t *Tracker, r Result) (E2E, error) {
	b.graph.Expect(t, r.Acked)
	timer := time.NewTimer(b.cfg.DrainTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-t.Done():
	case <-timer.C:
		err = errDrain
	case <-ctx.Done():
		err = ctx.Err()
	}
	o := b.graph.Outcome(t)
	b.graph.Track(nil)
	e := E2E{Messages: o.Expected, Answered: o.Answered, Complete: o.Answered == o.Expected && err == nil,
		Replies: o.Replies, ReadReceipts: o.ReadReceipts, Duplicates: o.Duplicates, ClientsWithExtraReplies: o.ExtraReplies}
	end := o.DoneAt
	if end.IsZero() {
		end = time.Now()
	}
	if el := end.Sub(r.Start); el > 0 {
		e.Seconds = round(el.Seconds())
		e.ProcessedPerSec = round(float64(o.Answered) / el.Seconds())
	}
	return e, err
}

// at returns s's level at conns, or nil.
func at(s *Server, conns int) *Level {
	if s == nil {
		return nil
	}
	for i := range s.Levels {
		if s.Levels[i].Conns == conns {
			return &s.Levels[i]
		}
	}
	return nil
}

// targets compares portabot with the references: throughput at the
// highest concurrency, latency at the lowest.
func targets(rep *Report, low, high int) Targets {
	var t Targets
	ceil, pbHigh := at(rep.Ceiling, high), at(rep.Portabot, high)
	probeLow, pbLow := at(rep.Probe, low), at(rep.Portabot, low)
	if ceil != nil && pbHigh != nil && ceil.AcksPerSec > 0 {
		v := round(pbHigh.AcksPerSec / ceil.AcksPerSec)
		t.AcksVsCeiling = &Check{Value: v, Target: ">= " + ftoa(TargetAcksVsCeiling), Pass: v >= TargetAcksVsCeiling,
			What: fmt.Sprintf("portabot acks/s / ceiling acks/s, at %d connections", high)}
	}
	if probeLow != nil && pbLow != nil && probeLow.AckP50MS > 0 {
		v := round(pbLow.AckP50MS / probeLow.AckP50MS)
		t.P50VsProbe = &Check{Value: v, Target: "<= " + ftoa(TargetP50VsProbe), Pass: v <= TargetP50VsProbe,
			What: fmt.Sprintf("portabot ack p50 / durable probe ack p50, at %d connections", low)}
	}
	if ceil != nil && pbHigh != nil && pbHigh.E2E != nil && ceil.AcksPerSec > 0 {
		v := round(pbHigh.E2E.ProcessedPerSec / ceil.AcksPerSec)
		t.ProcessedVsCeiling = &Check{Value: v, Target: ">= " + ftoa(TargetProcessedVsCeiling),
			Pass: v >= TargetProcessedVsCeiling && pbHigh.E2E.Complete && pbHigh.E2E.Duplicates == 0,
			What: fmt.Sprintf("portabot processed/s / ceiling acks/s, at %d connections; every message answered, no duplicates", high)}
	}
	if p := rep.Portabot; p != nil {
		if p.PeakRSSMiB != nil {
			t.PeakRSSMiB = &Check{Value: *p.PeakRSSMiB, Target: "<= " + ftoa(TargetRSSMiB), Pass: *p.PeakRSSMiB <= TargetRSSMiB,
				What: fmt.Sprintf("serve's peak resident set over %d webhooks, MiB", p.Webhooks)}
		}
		if p.StartupMS != nil {
			t.StartupMS = &Check{Value: *p.StartupMS, Target: "<= " + ftoa(TargetStartupMS), Pass: *p.StartupMS <= TargetStartupMS,
				What: "serve's exec to first 200 from /readyz, ms"}
		}
	}
	return t
}

// ratios set the relay between the ceiling and portabot at the highest
// concurrency: how much of the ceiling's rate the HTTP work of answering
// leaves, and how much of that portabot reaches.
func ratios(rep *Report, high int) Ratios {
	var r Ratios
	ceil, relay, pb := at(rep.Ceiling, high), at(rep.Relay, high), at(rep.Portabot, high)
	if ceil != nil && relay != nil && relay.E2E != nil && ceil.AcksPerSec > 0 {
		r.RelayProcessedVsCeilingAcks = &Ratio{Value: round(relay.E2E.ProcessedPerSec / ceil.AcksPerSec),
			Complete: relay.E2E.Complete,
			What:     fmt.Sprintf("relay processed/s / ceiling acks/s, at %d connections", high)}
	}
	if relay != nil && pb != nil && relay.E2E != nil && pb.E2E != nil && relay.E2E.ProcessedPerSec > 0 {
		r.PortabotProcessedVsRelayProcessed = &Ratio{Value: round(pb.E2E.ProcessedPerSec / relay.E2E.ProcessedPerSec),
			Complete: relay.E2E.Complete && pb.E2E.Complete,
			What:     fmt.Sprintf("portabot processed/s / relay processed/s, at %d connections", high)}
	}
	return r
}

// freeAddr picks a loopback port for the servers. It is released at once
// and reused by each server in turn: every server sits at the same
// address.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// round keeps three decimals: enough for milliseconds and ratios.
func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func mib(bytes int64) float64 { return round(float64(bytes) / (1 << 20)) }

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
