package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/fsm"
	"portabot/storage"
)

// The history bench answers one question: does serve cost what its active
// work costs, or what the years behind it cost? It measures the same paths
// on an empty store and on one holding N closed cases, in one run, and
// reports the ratios.

// historyConfig is what `portabot bench --history N` was asked for.
type historyConfig struct {
	Closed  int           // closed cases to seed
	Samples int           // measurements of each path per store
	Dir     string        // where the stores go; a temporary folder when empty
	Keep    bool          // leave the stores on disk
	Exe     string        // the portabot binary run as serve
	Timeout time.Duration // longest wait for one answer
	Log     io.Writer     // progress
}

// historyTarget is the acceptance: each path on the full store within this
// factor of the empty store's figure.
const historyTarget = 1.5

// historyReport is the bench's JSON.
type historyReport struct {
	Version     string       `json:"version"`
	ClosedCases int          `json:"closed_cases"`
	Samples     int          `json:"samples"`
	Seed        historySeed  `json:"seed"`
	Empty       historyStore `json:"empty"`
	History     historyStore `json:"history"`
	// Ratios are the full store's figures over the empty store's.
	Ratios map[string]float64 `json:"ratios"`
	Target float64            `json:"target"`
	Pass   bool               `json:"pass"`
	// BytesPerClosedCase is the main file's growth per closed case: (full
	// store - empty store) / closed cases.
	BytesPerClosedCase float64 `json:"bytes_per_closed_case"`
	// BytesPerClosedCaseCompacted and BytesPerClosedCaseAfterRetention
	// are the compacted copies' difference per closed case (see
	// historySpace), before and after the retention pass.
	BytesPerClosedCaseCompacted      float64  `json:"bytes_per_closed_case_compacted"`
	BytesPerClosedCaseAfterRetention *float64 `json:"bytes_per_closed_case_after_retention"`
	// Space is each store's main file before and after retention.
	Space map[string]historySpace `json:"space"`
}

type historySeed struct {
	Seconds        float64 `json:"seconds"`
	CasesPerSecond float64 `json:"cases_per_second"`
}

// historyStore is what one store measured. Times are milliseconds; each
// path's figure is the median of its samples.
type historyStore struct {
	MainFileBytes int64   `json:"main_file_bytes"`
	StartupMS     float64 `json:"startup_ms"`
	TurnMS        float64 `json:"turn_ms"`
	ListMS        float64 `json:"list_ms"`
	ScrapeMS      float64 `json:"scrape_ms"`
	SecurityMS    float64 `json:"security_ms"`
	// Samples are every measurement, for the curious.
	RawMS map[string][]float64 `json:"raw_ms"`
}

// The bench's fixed secrets: serve runs against the simulated Meta and a
// fake Slack, on the loopback, for the length of the run.
const (
	historySecret  = "history-bench-app-secret"
	historySigning = "history-bench-slack-signing"
	historyTeam    = "THISTORY"
)

// runHistoryBench seeds the full store, then measures both stores and
// prints the report.
func runHistoryBench(ctx context.Context, env environment, cfg historyConfig) error {
	rep, err := historyBench(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Version = buildVersion()
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func historyBench(ctx context.Context, cfg historyConfig) (*historyReport, error) {
	if cfg.Samples < 1 {
		cfg.Samples = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Exe == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this binary to run serve: %w", err)
		}
		cfg.Exe = self
	}
	dir := cfg.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "portabot-history-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	rep := &historyReport{ClosedCases: cfg.Closed, Samples: cfg.Samples, Target: historyTarget}

	emptyDB, fullDB := filepath.Join(dir, "empty.db"), filepath.Join(dir, "history.db")
	if err := seedHistoryStore(ctx, emptyDB, key, 0, cfg); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := seedHistoryStore(ctx, fullDB, key, cfg.Closed, cfg); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	rep.Seed = historySeed{Seconds: roundMS(secs), CasesPerSecond: roundMS(float64(cfg.Closed) / max(secs, 1e-9))}

	var err error
	if rep.Empty, err = measureStore(ctx, emptyDB, key, cfg); err != nil {
		return nil, fmt.Errorf("empty store: %w", err)
	}
	if rep.History, err = measureStore(ctx, fullDB, key, cfg); err != nil {
		return nil, fmt.Errorf("store with %d closed cases: %w", cfg.Closed, err)
	}
	rep.Ratios = map[string]float64{
		"startup":  ratio(rep.History.StartupMS, rep.Empty.StartupMS),
		"turn":     ratio(rep.History.TurnMS, rep.Empty.TurnMS),
		"list":     ratio(rep.History.ListMS, rep.Empty.ListMS),
		"scrape":   ratio(rep.History.ScrapeMS, rep.Empty.ScrapeMS),
		"security": ratio(rep.History.SecurityMS, rep.Empty.SecurityMS),
	}
	rep.Pass = true
	for _, r := range rep.Ratios {
		rep.Pass = rep.Pass && r <= historyTarget
	}
	if cfg.Closed > 0 {
		rep.BytesPerClosedCase = roundMS(float64(rep.History.MainFileBytes-rep.Empty.MainFileBytes) / float64(cfg.Closed))
	}
	if err := historyRetention(ctx, rep, emptyDB, fullDB, key, cfg); err != nil {
		return nil, err
	}
	return rep, nil
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return roundMS(a / b)
}

func roundMS(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// The fixture both stores share: the clients whose cases are blocked on
// two-step verification, one per security sample, and the new clients of
// the measured turns.
func blockedClient(i int) string { return fmt.Sprintf("5521988%06d", i) }
func blockedNumber(i int) string { return fmt.Sprintf("5511977%06d", i) }
func turnClient(i int) string    { return fmt.Sprintf("5531966%06d", i) }

// seedHistoryStore creates the store at path with the shared fixture and
// closed closed cases, in batches of one transaction each.
func seedHistoryStore(ctx context.Context, path string, key []byte, closed int, cfg historyConfig) error {
	st, err := storage.Open(path, storage.WithSealKey(key))
	if err != nil {
		return err
	}
	defer st.Close()
	const batch = 5000
	next := 1
	var hs []storage.History
	now := time.Now().UTC().Truncate(time.Microsecond)
	// The closed cases span three years up to yesterday, oldest first, as
	// their ids and closing times would.
	span := 3 * 365 * 24 * time.Hour
	for i := range closed {
		closedAt := now.Add(-24*time.Hour - span + time.Duration(int64(span)/int64(closed)*int64(i)))
		hs = append(hs, closedHistory(next, closedAt))
		next++
		if len(hs) == batch {
			if err := st.LoadHistory(ctx, hs); err != nil {
				return err
			}
			hs = hs[:0]
			fmt.Fprintf(cfg.Log, "seeded %d of %d closed cases\n", i+1, closed)
		}
	}
	for i := range cfg.Samples + 1 {
		hs = append(hs, blockedHistory(next, i, now))
		next++
	}
	return st.LoadHistory(ctx, hs)
}

// closedHistory is case id's port done at closed, shaped as a real one is
// stored: the record, the conversation, its 31 audit events and the
// markers of the client's 12 messages.
func closedHistory(id int, closed time.Time) storage.History {
	client := fmt.Sprintf("5512%09d", id)
	ported := fmt.Sprintf("5541%09d", id)
	cid := strconv.Itoa(id)
	created := closed.Add(-7 * time.Minute)
	c := bot.Case{ID: cid, Client: client, ClientPhone: client, Lang: bot.Portuguese, State: fsm.Done,
		Phone: "+" + ported, CC: "55", National: ported[2:], WABA: "100200300400500", SourceWABA: "500400300200100",
		PhoneNumberID: "7850499" + fmt.Sprintf("%08d", id),
		Confirmed:     []bot.Check{bot.CheckBM, bot.Check2FA, bot.CheckReception, bot.CheckDisplayName},
		Method:        "SMS", CodeRequests: 1, CodeRequestedAt: created.Add(4 * time.Minute), RegisterCalls: 1,
		Kept: &bot.Kept{DisplayName: "Clínica Sorriso", QualityRating: "GREEN", MessagingLimit: "TIER_1K"},
		Templates: &bot.TemplateResult{Migrated: []string{"1473688840035974", "6162904357082268", "2247311108790815",
			"3390475216884702", "8841023375519046"}, Failed: map[string]string{"1019496902803242": "Incorrect category"}},
		Created: created, Updated: closed, Closed: closed}
	conv := bot.Conversation{Key: client, Lang: bot.Portuguese, State: fsm.Done, CaseID: cid,
		Created: created.Add(-time.Minute), Updated: closed, LastSeen: closed, Delivered: 12}
	var audit []bot.AuditEvent
	for i, e := range doneTrail {
		e.CaseID, e.At = cid, created.Add(time.Duration(i)*10*time.Second)
		if e.Kind == "phone_set" {
			e.Detail = bot.MaskPhone("+" + ported)
		}
		audit = append(audit, e)
	}
	var processed []string
	for m := range 12 {
		processed = append(processed, fmt.Sprintf("wamid.HBgN%sFQIAEhgg%012d%02d", client, id, m))
	}
	return storage.History{Conversation: conv, Case: c, Audit: audit, Processed: processed}
}

// doneTrail is the audit trail of a port that went straight through, as
// `portabot chat` leaves it.
var doneTrail = func() []bot.AuditEvent {
	ev := func(actor, kind string, from, to fsm.State, detail string) bot.AuditEvent {
		return bot.AuditEvent{Actor: actor, Kind: kind, From: from, To: to, Detail: detail}
	}
	msg := ev("client", "client_message", "", "", "")
	return []bot.AuditEvent{
		ev("client", "case_opened", "", "", ""),
		ev("bot", "transition", fsm.Menu, fsm.CheckBMAccess, "start"),
		msg, ev("bot", "transition", fsm.CheckBMAccess, fsm.Check2FA, "confirm"),
		msg, ev("bot", "transition", fsm.Check2FA, fsm.CheckReception, "confirm"),
		msg, ev("bot", "transition", fsm.CheckReception, fsm.CheckDisplayName, "confirm"),
		msg, ev("bot", "transition", fsm.CheckDisplayName, fsm.AskPhone, "confirm"),
		msg, ev("bot", "phone_set", "", "", ""),
		msg, ev("bot", "transition", fsm.AskPhone, fsm.AddingNumber, "add_number"),
		ev("graph", "add_number", "", "", "ok"),
		ev("bot", "transition", fsm.AddingNumber, fsm.ChooseMethod, "number_added"),
		msg, ev("bot", "transition", fsm.ChooseMethod, fsm.RequestingCode, "request_code"),
		ev("graph", "request_code", "", "", "ok"),
		ev("bot", "transition", fsm.RequestingCode, fsm.AwaitCode, "code_sent"),
		msg, ev("bot", "transition", fsm.AwaitCode, fsm.Verifying, "verify"),
		ev("graph", "verify_code", "", "", "ok"),
		ev("graph", "migrate_templates", "", "", "ok"),
		ev("bot", "transition", fsm.Verifying, fsm.AskPin, "verified"),
		msg, msg, ev("bot", "transition", fsm.AskPin, fsm.Registering, "register"),
		ev("graph", "register", "", "", "ok"),
		ev("bot", "transition", fsm.Registering, fsm.MigratingTemplates, "registered"),
		ev("bot", "transition", fsm.MigratingTemplates, fsm.Done, "templates_migrated"),
	}
}()

// blockedHistory is case id of blocked client i: every prerequisite
// confirmed but two-step verification, which Meta reported on when the
// number was added, so a security webhook for the number sends the port on.
func blockedHistory(id, i int, now time.Time) storage.History {
	client, ported := blockedClient(i), blockedNumber(i)
	cid := strconv.Itoa(id)
	c := bot.Case{ID: cid, Client: client, ClientPhone: client, Lang: bot.English, State: fsm.Blocked,
		Phone: "+" + ported, CC: "55", National: ported[2:], WABA: "100200300400500",
		Confirmed: []bot.Check{bot.CheckBM, bot.CheckReception, bot.CheckDisplayName}, Blocked: bot.Check2FA,
		Created: now.Add(-time.Hour), Updated: now.Add(-30 * time.Minute)}
	conv := bot.Conversation{Key: client, Lang: bot.English, LangChosen: true, State: fsm.Blocked, Back: fsm.Check2FA,
		CaseID: cid, Created: now.Add(-time.Hour), Updated: now.Add(-30 * time.Minute), LastSeen: now.Add(-30 * time.Minute)}
	return storage.History{Conversation: conv, Case: c,
		Audit: []bot.AuditEvent{{CaseID: cid, At: now.Add(-time.Hour), Actor: "client", Kind: "case_opened"}}}
}

// measureStore runs serve on the store at path and measures every path
// cfg.Samples times.
func measureStore(ctx context.Context, path string, key []byte, cfg historyConfig) (historyStore, error) {
	var m historyStore
	fi, err := os.Stat(path)
	if err != nil {
		return m, err
	}
	m.MainFileBytes = fi.Size()
	m.RawMS = map[string][]float64{}

	slackAPI := fakeSlackAPI()
	defer slackAPI.Close()
	addr, err := loopbackAddr()
	if err != nil {
		return m, err
	}
	base := "http://" + addr
	cmd := exec.CommandContext(ctx, cfg.Exe, "serve", "--sandbox", "--db", path, "--addr", addr)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PORTABOT_SANDBOX=1", "PORTABOT_META_APP_SECRET=" + historySecret,
		"PORTABOT_DB_KEY=" + base64.StdEncoding.EncodeToString(key),
		"PORTABOT_SLACK_SIGNING_SECRET=" + historySigning, "PORTABOT_SLACK_BOT_TOKEN=xoxb-history-bench",
		"PORTABOT_SLACK_CHANNEL=CHISTORY", "PORTABOT_SLACK_TEAM_ID=" + historyTeam, "PORTABOT_SLACK_AGENTS=*",
		"PORTABOT_SLACK_API_URL=" + slackAPI.URL + "/api/", "PORTABOT_LOG_LEVEL=error",
		// Retention off while measuring: the paths are measured against
		// the history itself, not beside a pruner working through it;
		// the bench applies retention once serve is done (historyRetention).
		"PORTABOT_RETENTION=0",
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := &http.Client{Timeout: cfg.Timeout}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return m, fmt.Errorf("start serve: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	if err := waitReady(ctx, client, base, cfg.Timeout); err != nil {
		return m, fmt.Errorf("%w; serve said: %s", err, strings.TrimSpace(stderr.String()))
	}
	m.StartupMS = msSince(start)

	h := &historyClient{base: base, http: client, timeout: cfg.Timeout}
	// The blocked clients write once, as they would have while blocked:
	// the simulated Meta then has their 24-hour window open for what the
	// security webhook makes the bot say. One new client warms serve up.
	for i := range cfg.Samples + 1 {
		if _, err := h.turn(ctx, blockedClient(i), "is it done?"); err != nil {
			return m, fmt.Errorf("blocked client %d: %w", i, err)
		}
	}
	if _, err := h.turn(ctx, turnClient(cfg.Samples), "hi"); err != nil {
		return m, fmt.Errorf("warm-up turn: %w", err)
	}
	lastScrape := time.Time{}
	for i := range cfg.Samples {
		d, err := h.turn(ctx, turnClient(i), "hi")
		if err != nil {
			return m, fmt.Errorf("turn: %w", err)
		}
		m.RawMS["turn"] = append(m.RawMS["turn"], d)
		if d, err = h.list(ctx); err != nil {
			return m, fmt.Errorf("/porta list: %w", err)
		}
		m.RawMS["list"] = append(m.RawMS["list"], d)
		if d, err = h.security(ctx, i); err != nil {
			return m, fmt.Errorf("security webhook: %w", err)
		}
		m.RawMS["security"] = append(m.RawMS["security"], d)
		// serve reuses its count of cases for 5 s: each measured scrape
		// comes after that, so that it reads the store.
		if wait := time.Until(lastScrape.Add(5200 * time.Millisecond)); !lastScrape.IsZero() && wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return m, ctx.Err()
			}
		}
		lastScrape = time.Now()
		if d, err = h.scrape(ctx); err != nil {
			return m, fmt.Errorf("/metrics: %w", err)
		}
		m.RawMS["scrape"] = append(m.RawMS["scrape"], d)
	}
	m.TurnMS = median(m.RawMS["turn"])
	m.ListMS = median(m.RawMS["list"])
	m.SecurityMS = median(m.RawMS["security"])
	m.ScrapeMS = median(m.RawMS["scrape"])
	fmt.Fprintf(cfg.Log, "%s: start-up %.1f ms, turn %.1f ms, list %.1f ms, scrape %.1f ms, security %.1f ms\n",
		filepath.Base(path), m.StartupMS, m.TurnMS, m.ListMS, m.ScrapeMS, m.SecurityMS)
	return m, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return roundMS(s[len(s)/2])
}

func msSince(t time.Time) float64 { return roundMS(float64(time.Since(t)) / float64(time.Millisecond)) }

func loopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls /readyz until serve says it is ready.
func waitReady(ctx context.Context, client *http.Client, base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("serve was not ready within %v", timeout)
}

// fakeSlackAPI answers every Web API call Slack's way, so notices about the
// cases post and serve stays healthy.
func fakeSlackAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"CHISTORY","ts":"1700000000.000100","user_id":"UBOT","team_id":"`+historyTeam+`"}`)
	}))
}

// historyClient plays Meta and an agent against one serve.
type historyClient struct {
	base    string
	http    *http.Client
	timeout time.Duration
	seen    int // messages of the simulated Meta already looked at
	seq     int
}

// turn sends text from client and returns the milliseconds until the first
// reply reached the simulated Meta.
func (h *historyClient) turn(ctx context.Context, client, text string) (float64, error) {
	h.seq++
	body := whatsapp.BuildTextWebhook(sandboxPhoneNumberID, client, fmt.Sprintf("wamid.history.%d.%s", h.seq, randomHex(4)), text, time.Now())
	start := time.Now()
	if err := h.post(ctx, body); err != nil {
		return 0, err
	}
	if err := h.waitFor(ctx, "+"+client); err != nil {
		return 0, err
	}
	return msSince(start), nil
}

// security posts Meta's PIN_CHANGED event for blocked number i and returns
// the milliseconds until the bot told the client the port goes on.
func (h *historyClient) security(ctx context.Context, i int) (float64, error) {
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "100200300400500", "time": time.Now().Unix(),
		"changes": []any{map[string]any{"field": "security", "value": map[string]any{
			"display_phone_number": blockedNumber(i), "event": "PIN_CHANGED", "requester": "2553166738377434"}}},
	}}})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := h.post(ctx, body); err != nil {
		return 0, err
	}
	if err := h.waitFor(ctx, "+"+blockedClient(i)); err != nil {
		return 0, err
	}
	return msSince(start), nil
}

func (h *historyClient) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapp.SignBody(historySecret, body))
	resp, err := h.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// waitFor polls what the simulated Meta received until a new message to
// `to` is among it.
func (h *historyClient) waitFor(ctx context.Context, to string) error {
	deadline := time.Now().Add(h.timeout)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/sandbox/messages", nil)
		resp, err := h.http.Do(req)
		if err != nil {
			return err
		}
		var feed struct {
			Messages []metasim.Message `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&feed)
		resp.Body.Close()
		if err != nil {
			return err
		}
		found := false
		for _, msg := range feed.Messages[min(h.seen, len(feed.Messages)):] {
			found = found || msg.To == to
		}
		h.seen = len(feed.Messages)
		if found {
			return nil
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("no reply to %s within %v", bot.MaskPhone(to), h.timeout)
}

// list runs `/porta list` as an agent and returns the milliseconds to its
// answer, which lists the open cases.
func (h *historyClient) list(ctx context.Context) (float64, error) {
	h.seq++
	form := url.Values{"team_id": {historyTeam}, "user_id": {"UAGENT"}, "command": {"/porta"}, "text": {"list"},
		"response_url": {"http://127.0.0.1:1/unused"}, "trigger_id": {fmt.Sprintf("%d.history", h.seq)}}
	body := form.Encode()
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(historySigning))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/slack/commands", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	start := time.Now()
	resp, err := h.http.Do(req)
	if err != nil {
		return 0, err
	}
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	d := msSince(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte("Cases in flight")) {
		return 0, fmt.Errorf("/porta list answered %s: %.200s", resp.Status, out)
	}
	return d, nil
}

// scrape reads /metrics once and returns the milliseconds it took.
func (h *historyClient) scrape(ctx context.Context) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/metrics", nil)
	start := time.Now()
	resp, err := h.http.Do(req)
	if err != nil {
		return 0, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := msSince(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`portabot_cases{state="done"}`)) {
		return 0, errors.New("/metrics answered " + resp.Status + " without the cases by state")
	}
	return d, nil
}
