package main

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
	"portabot/internal/eventually"
	"portabot/storage"
)

// Chaos: serve runs as a subprocess against the simulated Meta, which lives
// in the test process and so outlives every serve: it keeps the messages
// sent, the calls made, and keeps posting status webhooks until a serve
// takes them. Under load from FAQ clients and clients running whole
// migrations, serve is killed with SIGKILL at random moments and started
// again on the same db and port, PORTABOT_CHAOS_CYCLES times (20 by
// default). At the end every acknowledged message was processed once,
// every reply sent once, and no number had two request_code or two register
// calls.

const (
	chaosOTP   = "314159"
	chaosPIN   = "271828"
	chaosToken = "chaos-token"
	// chaosGrace is serve's PORTABOT_SEND_GRACE: far longer than the
	// simulator takes to get a status through to a restarted serve, far
	// shorter than the 2 minutes of production.
	chaosGrace = 5 * time.Second
)

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it over and over")
	}
	cycles := chaosCycles(t)
	// The load per cycle: a busy enough serve to be killed in the middle
	// of things, light enough for the 2-core machine CI runs on.
	const faqClients, migrationSlots = 64, 4

	dir := t.TempDir()
	// The fault build lets the test fill serve's disk (storefaults_inject.go).
	bin := portabotBinary(t, "portabot_faults")
	db := filepath.Join(dir, "portabot.db")
	// While this file exists, every commit of serve's store fails with
	// ENOSPC, as on a full disk.
	diskFull := filepath.Join(dir, "disk-full")
	addr := freePort(t)
	c := newChaos(t, "http://"+addr, metasim.Options{StatePath: filepath.Join(dir, "metasim.json")})
	env := c.serveEnv(map[string]string{
		"PORTABOT_ADDR":            addr,
		"PORTABOT_SEND_GRACE":      chaosGrace.String(),
		"PORTABOT_FAULT_DISK_FULL": diskFull,
	})

	ctx, cancel := context.WithCancel(context.Background())
	var load sync.WaitGroup
	// Registered after the simulator's and before any serve's cleanup, so
	// it runs after every serve was killed and before the simulator stops.
	t.Cleanup(func() {
		cancel()
		load.Wait()
	})
	load.Go(func() { c.mail.run(ctx) })

	c.startClients(ctx, &load, &load, faqClients, migrationSlots, 7)

	// The chaos: serve runs for 50 to 500 ms under load, then is killed.
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var procs []*serveProcess
	inDoubtAtKill := 0
	began := time.Now()
	for cycle := range cycles {
		p := startServeProcess(t, bin, env, db, fmt.Sprintf("serve-%03d.log", cycle))
		procs = append(procs, p)
		p.waitHealthy(t, c.base)
		time.Sleep(time.Duration(50+r.IntN(451)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		p.done <- nil
		inDoubtAtKill += c.inDoubt(t, db, c.key)
	}
	killed := time.Since(began)

	// The last serve lives: the load stops, what is owed drains.
	last := startServeProcess(t, bin, env, db, "serve-last.log")
	procs = append(procs, last)
	last.waitHealthy(t, c.base)

	// Disk full for a while, under the same load: webhooks are refused
	// (Meta delivers again), turns and Graph steps cannot be recorded,
	// replies Meta took cannot be marked sent. Then the disk has room
	// again and serve must catch up without losing or repeating anything.
	fullFor := 3 * time.Second
	if err := os.WriteFile(diskFull, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fullAt := time.Now()
	waitServeReady(t, c.base, false, 30*time.Second, last)
	time.Sleep(max(0, fullFor-time.Since(fullAt))) // the length of the phase, not a proof
	if err := os.Remove(diskFull); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	waitServeReady(t, c.base, true, 60*time.Second, last)
	t.Logf("chaos: disk full for %v (/readyz said so), ready again %v after it had room", freed.Sub(fullAt).Round(time.Millisecond),
		time.Since(freed).Round(time.Millisecond))
	close(c.stop)
	drained := time.Now()
	deadline := time.Now().Add(90*time.Second + 2*chaosGrace)
	for !c.settled() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.report()
			t.Fatalf("not settled %v after the last restart:\n%s\nlast serve's logs:\n%s", time.Since(drained), c.pending(), tail(last.logs(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Whatever could come late is a reply in doubt sent again after the
	// grace: once no reply is pending, nothing more can be sent.
	waitSettledWithin(t, c.client, c.base, 30*time.Second+2*chaosGrace)
	cancel()
	load.Wait()
	if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-last.done:
		last.done <- err
		if err != nil {
			t.Errorf("the last serve exited with %v on SIGTERM", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("the last serve did not exit within 25 s of SIGTERM")
	}

	// Every acknowledged message was processed once: each FAQ message got
	// one reply, no more; every migration reached done.
	c.mail.refresh()
	acked, replies := 0, 0
	for _, fc := range c.faq {
		n := len(c.mail.to(fc.id))
		acked += int(fc.acked.Load())
		replies += n
		if n != int(fc.acked.Load()) {
			t.Errorf("FAQ client %s: %d messages acknowledged, %d replies; want one reply each", bot.MaskPhone(fc.id), fc.acked.Load(), n)
		}
	}
	end := c.checkSettled(t, openStore(t, db, c.key), func(ats []string) string {
		return fmt.Sprintf("at %v (disk full from %s to %s)", ats, fullAt.Format("15:04:05.000"), freed.Format("15:04:05.000"))
	})
	if n := strings.Count(last.logs(), "no space left on device"); n == 0 {
		t.Error("the disk-full phase refused no write: it tested nothing")
	} else {
		t.Logf("chaos: %d log lines of writes refused while the disk was full", n)
	}
	var inDoubt, resent int
	for _, p := range procs {
		logs := p.logs()
		inDoubt += strings.Count(logs, "reply in doubt: its send was cut off")
		resent += strings.Count(logs, "sending a reply again")
	}
	t.Logf("chaos: %d cycles of SIGKILL in %v, drained in %v", cycles, killed.Round(time.Millisecond), time.Since(drained).Round(time.Millisecond))
	t.Logf("chaos: %d FAQ clients, %d messages acknowledged, %d replies", len(c.faq), acked, replies)
	t.Logf("chaos: %d migrations, %d done; %d request_code and %d register calls (at most one per number)", end.migrations, end.done, end.requestCodes, end.registers)
	t.Logf("chaos: %d messages at Meta, %d distinct outbox references, %d sent twice", end.sent, end.refs, end.dups)
	t.Logf("chaos: %d replies in doubt in the db right after a kill; %d found so by a restarted serve before Meta's status came, %d sent again after the grace",
		inDoubtAtKill, inDoubt, resent)
	if t.Failed() {
		c.report()
	}
}

// waitReady waits until GET /readyz answers 200 (ready) or not (not
// ready), failing the test after timeout.
func waitServeReady(t *testing.T, base string, ready bool, timeout time.Duration, p *serveProcess) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	eventually.Until(t, timeout, func() bool {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return (resp.StatusCode == http.StatusOK) == ready
	}, func() string {
		return fmt.Sprintf("/readyz did not turn ready=%v within %v; logs:\n%s", ready, timeout, tail(p.logs(), 40))
	})
}

// chaos is the load side of TestChaos.
// newChaos is what both chaos tests share: clients that post to base, and
// the simulated Meta that answers serve, keeps every message and counts the
// codes it sends. opts adds to the simulator's options (its state file,
// how many status webhooks it sends at once).
func newChaos(t *testing.T, base string, opts metasim.Options) *chaos {
	c := &chaos{t: t, base: base, codes: map[string]int{}, stop: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second}}
	opts.Token, opts.OTP, opts.KeepMessages = chaosToken, chaosOTP, 1<<20
	opts.Deliver = func(phone, method, code string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.codes[phone]++
	}
	workers := 0
	if opts.Webhook != nil {
		workers = opts.Webhook.Workers
	}
	opts.Webhook = &metasim.Webhook{URL: base + "/webhooks/whatsapp", AppSecret: testAppSecret,
		Retry: 20 * time.Millisecond, MaxRetry: 200 * time.Millisecond, Workers: workers}
	sim, err := metasim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c.sim, c.simURL = sim, srv.URL
	c.mail = &mailbox{sim: sim, by: map[string][]metasim.Message{}}
	c.key = make([]byte, 32)
	_, _ = crand.Read(c.key)
	return c
}

// serveEnv is the environment of a serve under chaos: the test's own
// without its PORTABOT_ settings, the simulated Meta, a store key of its
// own for this test (c.key), and extra.
func (c *chaos) serveEnv(extra map[string]string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PORTABOT_") })
	vars := map[string]string{
		"PORTABOT_META_ACCESS_TOKEN":  chaosToken,
		"PORTABOT_GRAPH_URL":          c.simURL,
		"PORTABOT_META_APP_SECRET":    testAppSecret,
		"PORTABOT_META_VERIFY_TOKEN":  "chaos-verify",
		"PORTABOT_WA_PHONE_NUMBER_ID": fakePhoneID,
		"PORTABOT_DB_KEY":             base64.StdEncoding.EncodeToString(c.key),
		"PORTABOT_DEST_WABA_ID":       metasim.SandboxWABA,
		"PORTABOT_LOG_LEVEL":          "info",
	}
	maps.Copy(vars, extra)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// chaosCycles is how many kills a chaos test makes: PORTABOT_CHAOS_CYCLES,
// 20 by default.
func chaosCycles(t *testing.T) int {
	v := os.Getenv("PORTABOT_CHAOS_CYCLES")
	if v == "" {
		return 20
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("PORTABOT_CHAOS_CYCLES=%q: want a number of cycles", v)
	}
	return n
}

// settledStore is what the end of a chaos run reads of serve's store, on
// bbolt or PostgreSQL.
type settledStore interface {
	Cases(ctx context.Context) ([]bot.Case, error)
	OutboxStats(ctx context.Context) (pending, sent, parked, failed int, err error)
	InboxDepth(ctx context.Context) (int, error)
}

// settled is what the end of a chaos run counted.
type settled struct {
	migrations, done, requestCodes, registers int
	sent, refs, dups                          int // messages at Meta, distinct outbox references, references sent twice
}

// checkSettled checks what every chaos run ends with once it has drained:
// each migration done, its case too, after one request_code and one
// register (never more, even for one a kill cut short); every reply sent
// once, with an outbox row sent for each reference; the inbox empty; no
// status webhook left at Meta. when describes a reference sent twice.
func (c *chaos) checkSettled(t *testing.T, st settledStore, when func(ats []string) string) settled {
	t.Helper()
	ctx := context.Background()
	cases, err := st.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]fsm.State{}
	for _, cs := range cases {
		state[cs.Phone] = cs.State
	}
	c.mu.Lock()
	migrations := slices.Clone(c.migrations)
	c.mu.Unlock()
	s := settled{migrations: len(migrations)}
	for _, m := range migrations {
		if m.done {
			s.done++
		} else {
			t.Errorf("migration of %s by %s never reached done", bot.MaskPhone(m.number), bot.MaskPhone(m.client))
		}
		if got := state[m.number]; got != fsm.Done {
			t.Errorf("the case of %s stands at %q, want done", bot.MaskPhone(m.number), got)
		}
		rc, rg := c.sim.Calls(metasim.EndpointRequestCode, m.number), c.sim.Calls(metasim.EndpointRegister, m.number)
		s.requestCodes += rc
		s.registers += rg
		if rc > 1 || rg > 1 {
			t.Errorf("%s: %d request_code and %d register calls, want at most one each", bot.MaskPhone(m.number), rc, rg)
		}
		if m.done && (rc != 1 || rg != 1) {
			t.Errorf("%s is done with %d request_code and %d register calls, want one each", bot.MaskPhone(m.number), rc, rg)
		}
	}
	// Every reply sent once: no outbox reference twice at Meta.
	sent := c.sim.Sent()
	refs, dups := sentTwice(t, sent, when)
	s.sent, s.refs, s.dups = len(sent), len(refs), dups
	pending, sentRows, parked, failed, err := st.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pending != 0 || parked != 0 || failed != 0 || sentRows != len(refs) {
		t.Errorf("outbox: %d pending, %d sent, %d parked, %d failed; want all %d references sent", pending, sentRows, parked, failed, len(refs))
	}
	if depth, err := st.InboxDepth(ctx); err != nil || depth != 0 {
		t.Errorf("inbox depth %d, %v; want 0", depth, err)
	}
	if n := c.sim.PendingStatuses(); n != 0 {
		t.Errorf("%d status webhooks never taken", n)
	}
	return s
}

// startClients starts n FAQ clients, on clients, each drawing its
// questions from its own random stream of seed, and slots migration
// runners on load.
func (c *chaos) startClients(ctx context.Context, clients, load *sync.WaitGroup, n, slots int, seed uint64) {
	questions := faqQuestions(c.t)
	c.faq = make([]*faqClient, n)
	for i := range c.faq {
		fc := &faqClient{id: fmt.Sprintf("55219800%05d", i)}
		c.faq[i] = fc
		clients.Go(func() { c.runFAQ(ctx, fc, questions, rand.New(rand.NewPCG(uint64(i), seed))) })
	}
	for slot := range slots {
		load.Go(func() { c.runMigrations(ctx, slot) })
	}
}

type chaos struct {
	t      *testing.T
	sim    *metasim.Sim
	simURL string
	key    []byte // serve's store key
	mail   *mailbox
	base   string
	client *http.Client
	stop   chan struct{} // closed when clients should stop starting new work
	faq    []*faqClient
	seq    atomic.Int64

	mu         sync.Mutex
	codes      map[string]int // codes the simulator delivered, by number
	migrations []*migration
}

type faqClient struct {
	id    string
	acked atomic.Int64
}

type migration struct {
	client, number string
	done           bool
	moves          []string
}

func (c *chaos) stopping() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// post delivers body as Meta does: again and again until serve answers 200
// (it may be dead, starting, or killed mid-request). Meta's redelivery
// carries the same message id, which serve must answer once.
func (c *chaos) post(ctx context.Context, body []byte) bool {
	sig := whatsapp.SignBody(testAppSecret, body)
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/webhooks/whatsapp", strings.NewReader(string(body)))
		if err != nil {
			c.t.Error(err)
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(whatsapp.SignatureHeader, sig)
		resp, err := c.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

func (c *chaos) messageID() string { return fmt.Sprintf("wamid.chaos.%d", c.seq.Add(1)) }

func (c *chaos) text(ctx context.Context, from, text string) bool {
	return c.post(ctx, whatsapp.BuildTextWebhook(fakePhoneID, from, c.messageID(), text, time.Now()))
}

func (c *chaos) tap(ctx context.Context, from string, ch metasim.Choice) bool {
	return c.post(ctx, whatsapp.BuildChoiceWebhook(fakePhoneID, from, c.messageID(), ch.ID, ch.Title, time.Now()))
}

// runFAQ says hello, then asks a question every 500 to 900 ms: slower than
// the runner's per-client limit refills, so every message gets its answer
// and never a slow-down notice.
func (c *chaos) runFAQ(ctx context.Context, fc *faqClient, questions []string, r *rand.Rand) {
	if !c.text(ctx, fc.id, "hi") {
		return
	}
	fc.acked.Add(1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.stop:
			return
		case <-time.After(time.Duration(500+r.IntN(400)) * time.Millisecond):
		}
		if !c.text(ctx, fc.id, questions[r.IntN(len(questions))]) {
			return
		}
		fc.acked.Add(1)
	}
}

// runMigrations runs one migration after another until the load stops.
func (c *chaos) runMigrations(ctx context.Context, slot int) {
	for n := 0; !c.stopping() && ctx.Err() == nil; n++ {
		m := &migration{
			client: fmt.Sprintf("55219700%03d%02d", slot, n),
			number: fmt.Sprintf("+55119700%02d%03d", slot, n),
		}
		c.mu.Lock()
		c.migrations = append(c.migrations, m)
		c.mu.Unlock()
		c.migrate(ctx, m)
	}
}

// migrate plays a client moving m.number: it answers each prompt once the
// bot's reply has come (and stayed still for a moment, since one turn may
// send several messages), and types the code only when the simulator sent
// one to the number.
func (c *chaos) migrate(ctx context.Context, m *migration) {
	if !c.text(ctx, m.client, "hi") {
		return
	}
	seen, handled := 0, 0
	changed, acted := time.Now(), time.Now()
	for ctx.Err() == nil {
		msgs := c.mail.to(m.client)
		if len(msgs) != seen {
			seen, changed = len(msgs), time.Now()
		}
		if time.Since(changed) < 250*time.Millisecond {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		for _, msg := range msgs[handled:] {
			if strings.Contains(msg.Text, "has moved") {
				c.mu.Lock()
				m.done = true
				c.mu.Unlock()
				return
			}
		}
		from := handled
		if handled == len(msgs) && time.Since(acted) > 20*time.Second && len(msgs) > 0 {
			// Nothing came for long: answer the last prompt again.
			from = 0
		}
		var mv *chaosMove
		for i := len(msgs) - 1; i >= from && mv == nil; i-- {
			mv = c.nextMove(m, msgs[i])
		}
		handled = len(msgs)
		if mv == nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if mv.wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(mv.wait):
			}
		}
		c.mu.Lock()
		m.moves = append(m.moves, mv.String())
		c.mu.Unlock()
		ok := false
		if mv.choice != nil {
			ok = c.tap(ctx, m.client, *mv.choice)
		} else {
			ok = c.text(ctx, m.client, mv.text)
		}
		if !ok {
			return
		}
		acted, changed = time.Now(), time.Now()
	}
}

type chaosMove struct {
	text   string
	choice *metasim.Choice
	wait   time.Duration
}

func (mv *chaosMove) String() string {
	if mv.choice != nil {
		return "tap " + mv.choice.Title
	}
	if mv.text == chaosOTP || mv.text == chaosPIN {
		return "type secret"
	}
	return "type " + mv.text
}

var cooldownPattern = regexp.MustCompile(`ask for a new one in (\d+) seconds`)

// nextMove is what the client answers to msg, or nil when msg asks
// nothing of it.
func (c *chaos) nextMove(m *migration, msg metasim.Message) *chaosMove {
	choice := func(title string) *metasim.Choice {
		for _, ch := range msg.Choices {
			if strings.EqualFold(ch.Title, title) {
				return &ch
			}
		}
		return nil
	}
	codeCame := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.codes[m.number] > 0
	}
	text := msg.Text
	switch {
	case strings.Contains(text, "PIN again"), strings.Contains(text, "6-digit PIN"):
		return &chaosMove{text: chaosPIN}
	case choice("SMS") != nil:
		return &chaosMove{choice: choice("SMS")}
	case cooldownPattern.MatchString(text):
		if codeCame() {
			return &chaosMove{text: chaosOTP}
		}
		secs, _ := strconv.Atoi(cooldownPattern.FindStringSubmatch(text)[1])
		return &chaosMove{text: "resend", wait: time.Duration(secs+1) * time.Second}
	case choice("Resend") != nil, strings.Contains(text, "6 digits"), strings.Contains(text, "type it again"):
		if codeCame() {
			return &chaosMove{text: chaosOTP}
		}
		// The code request never reached Meta: only now may it be asked
		// for again.
		if ch := choice("Resend"); ch != nil {
			return &chaosMove{choice: ch}
		}
		return &chaosMove{text: "resend"}
	case choice("Skip") != nil:
		return &chaosMove{text: metasim.SandboxSourceWABA}
	case strings.Contains(text, "country code"):
		return &chaosMove{text: m.number}
	case choice("Yes") != nil && choice("No") != nil:
		return &chaosMove{choice: choice("Yes")}
	case choice("Continue") != nil:
		return &chaosMove{choice: choice("Continue")}
	case choice("Start the port") != nil:
		return &chaosMove{choice: choice("Start the port")}
	case strings.Contains(text, "*retry*"):
		return &chaosMove{text: "retry"}
	}
	return nil
}

// inDoubt counts the replies whose send the kill cut off: rows still
// pending with their attempt recorded. Serve is dead, so the db is free.
func (c *chaos) inDoubt(t *testing.T, db string, key []byte) int {
	t.Helper()
	st, err := storage.Open(db, storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var clients []string
	for _, fc := range c.faq {
		clients = append(clients, fc.id)
	}
	c.mu.Lock()
	for _, m := range c.migrations {
		clients = append(clients, m.client)
	}
	c.mu.Unlock()
	n := 0
	for _, cl := range clients {
		rows, err := st.OutboundRows(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.InDoubt() {
				n++
			}
		}
	}
	return n
}

// settled reports whether everything the load is owed has come.
func (c *chaos) settled() bool {
	for _, fc := range c.faq {
		if len(c.mail.to(fc.id)) < int(fc.acked.Load()) {
			return false
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.migrations {
		if !m.done {
			return false
		}
	}
	return c.sim.PendingStatuses() == 0
}

// pending describes what has not come yet.
func (c *chaos) pending() string {
	var b strings.Builder
	for _, fc := range c.faq {
		if n := len(c.mail.to(fc.id)); n != int(fc.acked.Load()) {
			fmt.Fprintf(&b, "FAQ client %s: %d acknowledged, %d replies\n", bot.MaskPhone(fc.id), fc.acked.Load(), n)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.migrations {
		if !m.done {
			fmt.Fprintf(&b, "migration of %s: not done after moves %v; the bot said:\n", bot.MaskPhone(m.number), m.moves)
			for _, msg := range c.mail.to(m.client) {
				fmt.Fprintf(&b, "  %.90q %v\n", msg.Text, msg.Choices)
			}
		}
	}
	fmt.Fprintf(&b, "status webhooks pending: %d\n", c.sim.PendingStatuses())
	return b.String()
}

// report logs each migration's moves, for a failed run.
func (c *chaos) report() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.migrations {
		c.t.Logf("migration of %s (done %v): %v", bot.MaskPhone(m.number), m.done, m.moves)
	}
}

// mailbox follows the messages the simulator sent, by recipient, reading
// the simulator once for all clients.
type mailbox struct {
	sim  *metasim.Sim
	mu   sync.Mutex
	seen int
	by   map[string][]metasim.Message
}

func (m *mailbox) run(ctx context.Context) {
	for ctx.Err() == nil {
		m.refresh()
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *mailbox) refresh() {
	all := m.sim.Sent()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range all[m.seen:] {
		m.by[msg.To] = append(m.by[msg.To], msg)
	}
	m.seen = len(all)
}

// to returns the messages sent to client (digits), oldest first, as of the
// last refresh.
func (m *mailbox) to(client string) []metasim.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.by["+"+client])
}

// faqQuestions are questions the FAQ answers, each with one reply.
func faqQuestions(t *testing.T) []string {
	t.Helper()
	var qs []string
	for _, q := range []string{
		"what is a BSP?",
		"how long does the port take?",
		"how much does it cost?",
		"what is two-step verification?",
		"what is a WABA?",
		"will my message templates be copied?",
		"will my chat history move?",
		"what is the display name?",
	} {
		if r := faq.Default().Ask(q, "en"); r.Intent != "" && r.Intent != faq.None {
			qs = append(qs, q)
		}
	}
	if len(qs) < 4 {
		t.Fatalf("the FAQ answers only %d of the chaos questions", len(qs))
	}
	return qs
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// sentTwice counts, by outbox reference, the messages Meta received, and
// fails the test for a message without a reference and for each reference
// sent more than once; when says what the failure adds about the times it
// was sent.
func sentTwice(t *testing.T, sent []metasim.Message, when func(ats []string) string) (refs map[string]int, dups int) {
	t.Helper()
	refs = map[string]int{}
	for _, m := range sent {
		if m.CallbackData == "" {
			t.Errorf("message %s to %s carries no outbox reference", m.ID, bot.MaskPhone(m.To))
			continue
		}
		refs[m.CallbackData]++
	}
	for ref, n := range refs {
		if n <= 1 {
			continue
		}
		dups++
		var ats []string
		for _, m := range sent {
			if m.CallbackData == ref {
				ats = append(ats, m.At.Format("15:04:05.000"))
			}
		}
		t.Errorf("outbox reference %s was sent %d times, %s", ref, n, when(ats))
	}
	return refs, dups
}
