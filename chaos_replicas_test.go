package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/storage/postgres"
)

// Chaos across replicas: three serve subprocesses share one PostgreSQL
// database and one simulated Meta, which lives in the test process and so
// outlives every replica. Between them and Meta (the clients' webhooks and
// the simulator's status webhooks) stands a load balancer that sends each
// POST to a random live replica and, half the time, the same POST again to
// another one, at once or after the first was taken, as Meta's redeliveries
// would reach whatever replica the balancer picks. Every one to three
// seconds a random replica is killed with SIGKILL and started again;
// PORTABOT_CHAOS_CYCLES sets how many times (20 by default). At the end
// every acknowledged message was answered once, no reply reached the client
// twice, and each migration made one request_code and one register call.

// replicaLeaseTTL is the replicas' PORTABOT_LEASE_TTL: a killed replica's
// clients wait that long for another replica to take them over, so it is
// much shorter than production's 30 s, and still three renewals long for a
// replica slowed down by the machine's load.
const replicaLeaseTTL = 6 * time.Second

// replicaGrace is the replicas' PORTABOT_SEND_GRACE. The simulator's
// statuses go through the balancer (sometimes twice) to a replica's
// transaction, and under the load of three replicas on two cores they lag
// behind the sends by seconds: a grace of 5 s, as the one-process
// chaos test has, resends replies whose status was still on its way, and
// so did 20 s in a 200-cycle run on two cores at a load average of 50,
// where up to 1,259 statuses waited at once. Production's is 2 minutes.
const replicaGrace = 60 * time.Second

func TestChaosReplicas(t *testing.T) {
	// Most of its minute and a half is spent waiting (between kills, for
	// the grace of replies in doubt), so the package's other slow tests,
	// also parallel, run beside it; the one-process chaos test does not,
	// its 5 s grace being meant for a machine without a second chaos.
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary and kills its replicas over and over")
	}
	cycles := chaosCycles(t)
	const replicas, faqClients, migrationSlots = 3, 32, 4
	dbURL := chaosDatabase(t)

	dir := t.TempDir()
	bin := portabotBinary(t)

	lb := &balancer{r: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2)), client: &http.Client{Timeout: 5 * time.Second}}
	lbSrv := httptest.NewServer(lb)
	t.Cleanup(lbSrv.Close)
	c := newChaos(t, lbSrv.URL, metasim.Options{Webhook: &metasim.Webhook{Workers: 16}})
	sim := c.sim
	base := c.serveEnv(map[string]string{
		// A pool of 12 per replica keeps three replicas well inside the
		// server's 100 connections, which other tests share.
		"PORTABOT_DB":         dbURL + "&pool_max_conns=12",
		"PORTABOT_SEND_GRACE": replicaGrace.String(),
		"PORTABOT_LEASE_TTL":  replicaLeaseTTL.String(),
		"PORTABOT_WORKERS":    "8",
	})
	addrs := make([]string, replicas)
	procs := make([][]*serveProcess, replicas) // every process each replica ran, the live one last
	start := func(i, run int) *serveProcess {
		env := append(slices.Clone(base), "PORTABOT_ADDR="+addrs[i])
		p := startReplica(t, bin, env, filepath.Join(dir, fmt.Sprintf("replica%d-%03d.log", i, run)))
		procs[i] = append(procs[i], p)
		p.waitHealthy(t, "http://"+addrs[i])
		lb.set(i, "http://"+addrs[i])
		return p
	}
	for i := range replicas {
		addrs[i] = freePort(t)
		start(i, 0)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var load, clients sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		load.Wait()
		clients.Wait()
	})
	load.Go(func() { c.mail.run(ctx) })
	var statusLag atomic.Int64 // the most statuses seen waiting at once
	load.Go(func() {
		for ctx.Err() == nil {
			if n := int64(sim.PendingStatuses()); n > statusLag.Load() {
				statusLag.Store(n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	c.startClients(ctx, &clients, &load, faqClients, migrationSlots, 11)

	// The chaos: every 1 to 3 s a random replica dies and comes back.
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	began := time.Now()
	for cycle := range cycles {
		time.Sleep(time.Duration(1000+r.IntN(2001)) * time.Millisecond)
		i := r.IntN(replicas)
		p := procs[i][len(procs[i])-1]
		lb.set(i, "") // a balancer's health check notices in time; the kill comes first regardless
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		p.done <- nil
		start(i, cycle+1)
	}
	killed := time.Since(began)

	// The load stops; what is owed drains on the three replicas.
	close(c.stop)
	drained := time.Now()
	// A client's last message counts once a replica took it: the clients
	// stop when their posts in flight have an answer.
	clientsDone := make(chan struct{})
	go func() { clients.Wait(); close(clientsDone) }()
	select {
	case <-clientsDone:
	case <-time.After(60 * time.Second):
		t.Fatal("the FAQ clients' last posts found no replica to take them within 60 s")
	}
	// The backlog a long run leaves (replies in doubt waiting out their
	// grace, statuses queued at the simulator) drains at the pace of a
	// machine shared with other work: the test waits while it moves, and
	// fails when nothing moved for a minute, or after 15 minutes.
	progress := func() int { return len(c.sim.Sent()) - c.sim.PendingStatuses() }
	last, moved := progress(), time.Now()
	giveUp := time.Now().Add(15 * time.Minute)
	for !c.settled() {
		if p := progress(); p != last {
			last, moved = p, time.Now()
		}
		if time.Since(moved) > time.Minute+replicaLeaseTTL+replicaGrace || time.Now().After(giveUp) || ctx.Err() != nil {
			c.report()
			var logs strings.Builder
			for i := range replicas {
				fmt.Fprintf(&logs, "replica %d:\n%s\n", i, tail(procs[i][len(procs[i])-1].logs(), 20))
			}
			t.Fatalf("not settled %v after the last kill:\n%s\nlast logs:\n%s", time.Since(drained), c.pending(), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A reply in doubt sent again after the grace would be the last thing
	// to come: once no reply is pending, nothing more can be sent. The
	// replicas share the store, so any of them tells.
	waitSettledWithin(t, c.client, "http://"+addrs[0], time.Minute+2*replicaGrace)
	cancel()
	load.Wait()
	for i := range replicas {
		p := procs[i][len(procs[i])-1]
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p.done:
			p.done <- err
			if err != nil {
				t.Errorf("replica %d exited with %v on SIGTERM", i, err)
			}
		case <-time.After(25 * time.Second):
			t.Fatalf("replica %d did not exit within 25 s of SIGTERM", i)
		}
	}

	// A killed replica's clients wait a lease's TTL for another replica,
	// and their messages queue meanwhile; when more than the runner's burst
	// come at once, the client is asked to slow down, once, as serve asks
	// anyone who writes faster than it reads. Every message still gets its
	// one answer.
	c.mail.refresh()
	acked, replies, slowDowns := 0, 0, 0
	for _, fc := range c.faq {
		answers := 0
		for _, m := range c.mail.to(fc.id) {
			if strings.HasPrefix(m.Text, "You're sending messages faster than I can read them") {
				slowDowns++
			} else {
				answers++
			}
		}
		acked += int(fc.acked.Load())
		replies += answers
		if answers != int(fc.acked.Load()) {
			t.Errorf("FAQ client %s: %d messages acknowledged, %d answers; want one answer each", bot.MaskPhone(fc.id), fc.acked.Load(), answers)
		}
	}
	st, err := postgres.Open(context.Background(), dbURL, postgres.WithSealKey(c.key))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	end := c.checkSettled(t, st, func(ats []string) string { return fmt.Sprintf("at %v", ats) })
	var inDoubt, resent, lost int
	for _, ps := range procs {
		for _, p := range ps {
			logs := p.logs()
			inDoubt += strings.Count(logs, "reply in doubt: its send was cut off")
			resent += strings.Count(logs, "sending a reply again")
			lost += strings.Count(logs, postgres.ErrLeaseLost.Error())
		}
	}
	t.Logf("chaos replicas: %d cycles of SIGKILL over %d replicas in %v, drained in %v", cycles, replicas, killed.Round(time.Millisecond), time.Since(drained).Round(time.Millisecond))
	t.Logf("chaos replicas: %d webhook POSTs, %d delivered to a second replica (%d of them at once)", lb.posts.Load(), lb.dups.Load(), lb.together.Load())
	t.Logf("chaos replicas: at most %d status webhooks waiting at the simulated Meta at once", statusLag.Load())
	t.Logf("chaos replicas: %d FAQ clients, %d messages acknowledged, %d answers, %d requests to slow down", len(c.faq), acked, replies, slowDowns)
	t.Logf("chaos replicas: %d migrations, %d done; %d request_code and %d register calls", end.migrations, end.done, end.requestCodes, end.registers)
	t.Logf("chaos replicas: %d messages at Meta, %d distinct outbox references, %d sent twice", end.sent, end.refs, end.dups)
	t.Logf("chaos replicas: %d replies found in doubt by a replica before Meta's status came, %d sent again after the grace; %d writes refused for a lease lost",
		inDoubt, resent, lost)
	if t.Failed() {
		c.report()
	}
}

// balancer is the load balancer in front of the replicas: any replica may
// take any POST, and Meta may deliver one POST twice.
type balancer struct {
	client   *http.Client
	mu       sync.Mutex
	r        *rand.Rand
	backends []string // by replica; "" while it is down

	posts, dups, together atomic.Int64
}

func (b *balancer) set(i int, base string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.backends) <= i {
		b.backends = append(b.backends, "")
	}
	b.backends[i] = base
}

// pick returns a live replica other than not, and a number from [0, n).
func (b *balancer) pick(not string, n int) (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var live []string
	for _, u := range b.backends {
		if u != "" && u != not {
			live = append(live, u)
		}
	}
	if len(live) == 0 {
		return "", 0
	}
	return live[b.r.IntN(len(live))], b.r.IntN(n)
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	first, dice := b.pick("", 4)
	if first == "" {
		http.Error(w, "no replica up", http.StatusBadGateway)
		return
	}
	b.posts.Add(1)
	// dice: 0 and 1, no second delivery; 2, a second one after the first
	// was taken; 3, a second one at the same time.
	var again sync.WaitGroup
	if dice == 3 {
		b.together.Add(1)
		again.Go(func() { b.redeliver(r, body, first) })
	}
	code, respBody := b.forward(r, body, first)
	if dice == 2 && code == http.StatusOK {
		go b.redeliver(r, body, first)
	}
	again.Wait()
	w.WriteHeader(code)
	_, _ = w.Write(respBody)
}

// redeliver posts body to a replica other than not until one takes it, a
// few times at most: Meta's redelivery, through the balancer.
func (b *balancer) redeliver(r *http.Request, body []byte, not string) {
	b.dups.Add(1)
	for range 20 {
		to, _ := b.pick(not, 1)
		if to == "" {
			to = not
		}
		if code, _ := b.forward(r, body, to); code == http.StatusOK {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *balancer) forward(r *http.Request, body []byte, to string) (int, []byte) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, to+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return http.StatusBadGateway, nil
	}
	req.Header = r.Header.Clone()
	resp, err := b.client.Do(req)
	if err != nil {
		return http.StatusBadGateway, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, out
}

// startReplica starts `portabot serve` with env (which names the database
// and the address), its output going to logPath.
func startReplica(t *testing.T, bin string, env []string, logPath string) *serveProcess {
	t.Helper()
	return startServeArgs(t, bin, env, logPath)
}

// chaosDatabase creates an empty database for the test on the PostgreSQL
// of PORTABOT_TEST_POSTGRES (by default the one .ci/run starts), dropped
// when the test ends, and returns its URL. Without a server it skips,
// except under CI.
func chaosDatabase(t *testing.T) string {
	t.Helper()
	server := os.Getenv("PORTABOT_TEST_POSTGRES")
	if server == "" {
		server = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable, and CI is set: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (%v): start it (.ci/run does), or point PORTABOT_TEST_POSTGRES at one", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	name := "portabot_chaos_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String()
}
