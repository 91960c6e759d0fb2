package metasim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/bot"
)

const (
	token = "sandbox-token-7c1e"
	waba  = metasim.SandboxWABA
)

// clock is a fake time source tests move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// phone records the codes the simulator delivered.
type phone struct {
	mu    sync.Mutex
	codes map[string][]delivery
}

type delivery struct{ method, code string }

func (p *phone) deliver(number, method, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.codes == nil {
		p.codes = map[string][]delivery{}
	}
	p.codes[number] = append(p.codes[number], delivery{method, code})
}

func (p *phone) received(number string) []delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery(nil), p.codes[number]...)
}

// last returns the latest code number received, failing the test if none.
func (p *phone) last(t testing.TB, number string) string {
	t.Helper()
	got := p.received(number)
	if len(got) == 0 {
		t.Fatalf("no code was delivered to %s", number)
	}
	return got[len(got)-1].code
}

type env struct {
	sim   *metasim.Sim
	g     *graph.Client
	phone *phone
	clock *clock
	url   string
	logs  *logBuffer
}

// logBuffer collects log lines written by the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs a simulator (on statePath, when not empty) behind an httptest
// server and returns a Graph client pointed at it.
func start(t testing.TB, statePath string) *env {
	t.Helper()
	e := &env{phone: &phone{}, clock: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}, logs: &logBuffer{}}
	sim, err := metasim.New(metasim.Options{
		Token:     token,
		Deliver:   e.phone.deliver,
		StatePath: statePath,
		Now:       e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e.sim, e.url = sim, srv.URL
	e.g = graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond, RetryMaxWait: 2 * time.Second})
	return e
}

// add starts the migration of e164 (a +55 number) into the sandbox WABA.
func (e *env) add(t testing.TB, e164 string) string {
	t.Helper()
	id, err := e.g.AddPhoneNumber(t.Context(), waba, "55", strings.TrimPrefix(e164, "+55"))
	if err != nil {
		t.Fatalf("AddPhoneNumber(%s): %v", e164, err)
	}
	return id
}

// verified adds e164 and verifies it with a delivered code.
func (e *env) verified(t testing.TB, e164 string) string {
	t.Helper()
	id := e.add(t, e164)
	if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
		t.Fatalf("RequestCode: %v", err)
	}
	if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, e164)); err != nil {
		t.Fatalf("VerifyCode: %v", err)
	}
	return id
}

// graphErr returns the *bot.GraphError in err, failing the test if none.
func graphErr(t testing.TB, err error) *bot.GraphError {
	t.Helper()
	var ge *bot.GraphError
	if !errors.As(err, &ge) {
		t.Fatalf("got %v, want a *bot.GraphError", err)
	}
	return ge
}

func TestHappyPath(t *testing.T) {
	e := start(t, "")
	ctx := t.Context()
	const number = "+5511987654321"

	id, err := e.g.AddPhoneNumber(ctx, waba, "55", "11987654321")
	if err != nil {
		t.Fatalf("AddPhoneNumber: %v", err)
	}
	pn, err := e.g.PhoneNumber(ctx, id)
	if err != nil {
		t.Fatalf("PhoneNumber: %v", err)
	}
	if pn.CodeVerificationStatus != "NOT_VERIFIED" || pn.Status == "CONNECTED" {
		t.Errorf("before verification: %+v", pn)
	}

	if err := e.g.RequestCode(ctx, id, "SMS", bot.Portuguese); err != nil {
		t.Fatalf("RequestCode: %v", err)
	}
	got := e.phone.received(number)
	if len(got) != 1 || got[0].method != "SMS" || len(got[0].code) != 6 {
		t.Fatalf("deliveries to %s = %+v, want one 6-digit SMS code", number, got)
	}
	if err := e.g.VerifyCode(ctx, id, got[0].code); err != nil {
		t.Fatalf("VerifyCode: %v", err)
	}
	if err := e.g.Register(ctx, id, "150954"); err != nil {
		t.Fatalf("Register: %v", err)
	}
	res, err := e.g.MigrateTemplates(ctx, waba, metasim.SandboxSourceWABA)
	if err != nil {
		t.Fatalf("MigrateTemplates: %v", err)
	}
	if len(res.Migrated) != 5 {
		t.Errorf("migrated %d templates, want 5: %v", len(res.Migrated), res.Migrated)
	}
	wantFailed := map[string]string{"1019496902803242": "Incorrect category", "259672276895259": "Formatting error - dangling parameter"}
	if diff := cmp.Diff(wantFailed, res.Failed); diff != "" {
		t.Errorf("failed templates mismatch (-want +got):\n%s", diff)
	}

	pn, err = e.g.PhoneNumber(ctx, id)
	if err != nil {
		t.Fatalf("PhoneNumber: %v", err)
	}
	want := bot.PhoneNumber{ID: id, DisplayPhoneNumber: "+55 11987654321", NameStatus: "APPROVED",
		CodeVerificationStatus: "VERIFIED", Status: "CONNECTED", QualityRating: "GREEN", PlatformType: "CLOUD_API",
		MessagingLimit: "TIER_1K", AccountMode: "LIVE"}
	if diff := cmp.Diff(want, pn, cmpopts.IgnoreFields(bot.PhoneNumber{}, "VerifiedName")); diff != "" {
		t.Errorf("number after migration mismatch (-want +got):\n%s", diff)
	}
	if pn.VerifiedName == "" {
		t.Error("the number has no display name")
	}

	list, err := e.g.PhoneNumbers(ctx, waba)
	list = ported(list)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("PhoneNumbers(%s) = %+v, %v; want the migrated number", waba, list, err)
	}

	wamid, err := e.g.SendText(ctx, id, number, "Your number has moved.")
	if err != nil {
		t.Fatalf("SendText: %v", err)
	}
	sent := e.sim.Sent()
	if len(sent) != 1 || sent[0].ID != wamid || sent[0].To != number || sent[0].Text != "Your number has moved." {
		t.Errorf("Sent() = %+v, want the one message with id %s", sent, wamid)
	}

	for endpoint, want := range map[string]int{
		metasim.EndpointAddNumber: 1, metasim.EndpointRequestCode: 1, metasim.EndpointVerifyCode: 1,
		metasim.EndpointRegister: 1, metasim.EndpointPhoneNumber: 2, metasim.EndpointMessages: 1,
	} {
		if got := e.sim.Calls(endpoint, number); got != want {
			t.Errorf("Calls(%s) = %d, want %d", endpoint, got, want)
		}
	}
	if got := e.sim.Calls(metasim.EndpointTemplates, waba); got != 1 {
		t.Errorf("Calls(templates, dest) = %d, want 1", got)
	}
}

func TestScenarios(t *testing.T) {
	type check func(t *testing.T, e *env, number string)
	addFails := func(code, subcode int, text string) check {
		return func(t *testing.T, e *env, number string) {
			_, err := e.g.AddPhoneNumber(t.Context(), waba, "55", strings.TrimPrefix(number, "+55"))
			ge := graphErr(t, err)
			if ge.HTTPStatus != 400 || ge.Code != code || ge.Subcode != subcode {
				t.Errorf("got HTTP %d code %d/%d, want 400 code %d/%d", ge.HTTPStatus, ge.Code, ge.Subcode, code, subcode)
			}
			if all := ge.Message + " " + ge.UserTitle + " " + ge.UserMsg; !strings.Contains(all, text) {
				t.Errorf("error text %q does not say %q", all, text)
			}
		}
	}
	checks := map[string]check{
		metasim.TwoStepOn: func(t *testing.T, e *env, _ string) {
			for range 2 {
				_, err := e.g.AddPhoneNumber(t.Context(), waba, "55", "11990000001")
				ge := graphErr(t, err)
				if !strings.Contains(ge.Message, "Two-step authentication must be disabled for this phone number") {
					t.Errorf("got %v, want the two-step message", ge)
				}
			}
		},
		metasim.TwoStepOffLater: func(t *testing.T, e *env, _ string) {
			_, err := e.g.AddPhoneNumber(t.Context(), waba, "55", "11990000002")
			if ge := graphErr(t, err); !strings.Contains(ge.UserMsg, "Two-step authentication must be disabled") {
				t.Errorf("first add: got %v, want the two-step message", ge)
			}
			e.add(t, metasim.TwoStepOffLater)
		},
		metasim.NamePending:   addFails(100, 2388103, "Registered name should be present and approved"),
		metasim.AlreadyOnWABA: addFails(100, 2388012, "already in this WhatsApp Business Account"),
		metasim.NoWebhooks:    addFails(100, 2388103, "Cannot migrate phone number"),
		metasim.RateLimited: func(t *testing.T, e *env, _ string) {
			id := e.add(t, metasim.RateLimited)
			err := e.g.RequestCode(t.Context(), id, "SMS", bot.English)
			ge := graphErr(t, err)
			// Retry-After says 1 s, the usage header 1 minute: the longer wins.
			if ge.HTTPStatus != 429 || ge.Code != 80007 || ge.RetryAfter != time.Minute {
				t.Errorf("got %+v, want HTTP 429, code 80007, RetryAfter 1m", ge)
			}
			if !errors.Is(err, bot.ErrUnavailable) {
				t.Errorf("a 429 should read as Meta unavailable: %v", err)
			}
			if got := e.phone.received(metasim.RateLimited); len(got) != 0 {
				t.Errorf("a refused request delivered codes: %v", got)
			}
			if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
				t.Fatalf("second RequestCode: %v", err)
			}
			if got := e.phone.received(metasim.RateLimited); len(got) != 1 {
				t.Errorf("got %d codes, want 1", len(got))
			}
		},
		metasim.Flaky: func(t *testing.T, e *env, _ string) {
			id := e.add(t, metasim.Flaky)
			if _, err := e.g.PhoneNumber(t.Context(), id); err != nil {
				t.Errorf("PhoneNumber should ride over one 500: %v", err)
			}
			if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
				t.Fatal(err)
			}
			if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, metasim.Flaky)); err != nil {
				t.Errorf("VerifyCode should ride over one 500: %v", err)
			}
			for _, ep := range []string{metasim.EndpointPhoneNumber, metasim.EndpointVerifyCode} {
				if got := e.sim.Calls(ep, metasim.Flaky); got != 2 {
					t.Errorf("Calls(%s) = %d, want 2 (one failure, one retry)", ep, got)
				}
			}
		},
		metasim.CodeCutOff: func(t *testing.T, e *env, _ string) {
			id := e.add(t, metasim.CodeCutOff)
			err := e.g.RequestCode(t.Context(), id, "SMS", bot.English)
			if !errors.Is(err, bot.ErrUnavailable) || errors.As(err, new(*bot.GraphError)) {
				t.Fatalf("first RequestCode = %v, want no answer at all (ErrUnavailable, no Meta error)", err)
			}
			// The code went out all the same, and works.
			if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, metasim.CodeCutOff)); err != nil {
				t.Errorf("VerifyCode with the code sent before the reset: %v", err)
			}
			if got := e.sim.Calls(metasim.EndpointRequestCode, metasim.CodeCutOff); got != 1 {
				t.Errorf("Calls(request_code) = %d, want 1", got)
			}
		},
		// Each 2388103 cause reads, through bot's table, as the cause the
		// simulator plays.
		metasim.NoPayment:       migrationRefused(bot.CauseNoPayment),
		metasim.OtherPortfolio:  migrationRefused(bot.CauseOtherPortfolio),
		metasim.DestNotApproved: migrationRefused(bot.CauseWABANotApproved),
		metasim.MessagingFor:    migrationRefused(bot.CauseMessagingFor),
		metasim.AddDirectly:     migrationRefused(bot.CauseAddDirectly),
		metasim.SourceNotSetUp:  migrationRefused(bot.CauseSourceNotSetUp),
		metasim.MigrationTryAgain: func(t *testing.T, e *env, number string) {
			migrationRefused(bot.CauseMigrationFailed)(t, e, number)
			e.add(t, number)
		},
		metasim.CodeRefused: func(t *testing.T, e *env, number string) {
			id := e.add(t, number)
			ge := graphErr(t, e.g.RequestCode(t.Context(), id, "SMS", bot.English))
			if ge.Code != 136024 {
				t.Errorf("got %v, want code 136024", ge)
			}
			if pn, err := e.g.PhoneNumber(t.Context(), id); err != nil || pn.CodeVerificationStatus != "NOT_VERIFIED" {
				t.Errorf("number after 136024: %+v, %v; want NOT_VERIFIED", pn, err)
			}
			if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
				t.Errorf("second RequestCode: %v", err)
			}
		},
		metasim.RegisterBlocked: func(t *testing.T, e *env, _ string) {
			id := e.verified(t, metasim.RegisterBlocked)
			ge := graphErr(t, e.g.Register(t.Context(), id, "150954"))
			if ge.Code != 133016 {
				t.Errorf("got %v, want code 133016", ge)
			}
		},
	}
	for _, sc := range metasim.Scenarios() {
		t.Run(sc.Number, func(t *testing.T) {
			if sc.Name == "" || sc.What == "" {
				t.Errorf("scenario %s is not described", sc.Number)
			}
			c, ok := checks[sc.Number]
			if !ok {
				t.Fatalf("scenario %s (%s) has no test", sc.Number, sc.Name)
			}
			c(t, start(t, ""), sc.Number)
		})
	}
	if len(checks) != len(metasim.Scenarios()) {
		t.Errorf("%d checks for %d scenarios", len(checks), len(metasim.Scenarios()))
	}
}

// migrationRefused checks that adding a scenario's number fails with
// 2388103 and details that mean cause.
func migrationRefused(cause bot.Cause) func(t *testing.T, e *env, number string) {
	return func(t *testing.T, e *env, number string) {
		_, err := e.g.AddPhoneNumber(t.Context(), waba, "55", strings.TrimPrefix(number, "+55"))
		ge := graphErr(t, err)
		if ge.Subcode != 2388103 || ge.Details == "" {
			t.Errorf("got %+v, want 2388103 with details", ge)
		}
		if got := ge.Meaning().Cause; got != cause {
			t.Errorf("details %q mean %s, want %s", ge.Details, got, cause)
		}
	}
}

func TestCodeExpires(t *testing.T) {
	e := start(t, "")
	const number = "+5521912345678"
	id := e.add(t, number)
	if err := e.g.RequestCode(t.Context(), id, "VOICE", bot.Spanish); err != nil {
		t.Fatal(err)
	}
	code := e.phone.last(t, number)
	e.clock.Advance(metasim.CodeTTL + time.Second)

	ge := graphErr(t, e.g.VerifyCode(t.Context(), id, code))
	if ge.HTTPStatus != 400 || ge.Code != 136025 || ge.UserTitle != "Code expired" {
		t.Errorf("expired code: got %+v, want 400, 136025, Code expired", ge)
	}
	if err := e.g.RequestCode(t.Context(), id, "SMS", bot.Spanish); err != nil {
		t.Fatal(err)
	}
	if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, number)); err != nil {
		t.Errorf("fresh code: %v", err)
	}
}

func TestWrongCodesLockVerification(t *testing.T) {
	e := start(t, "")
	const number = "+5531998765432"
	id := e.add(t, number)
	if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
		t.Fatal(err)
	}
	right := e.phone.last(t, number)
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := 1; i < metasim.MaxWrongCodes; i++ {
		ge := graphErr(t, e.g.VerifyCode(t.Context(), id, wrong))
		if ge.Code != 136025 || ge.UserTitle != "Wrong code" {
			t.Fatalf("wrong code %d: got %+v, want 136025 Wrong code", i, ge)
		}
	}
	ge := graphErr(t, e.g.VerifyCode(t.Context(), id, wrong))
	if ge.Code != 136025 || ge.UserTitle != "Too many attempts" || !strings.Contains(ge.UserMsg, "60 minutes") {
		t.Fatalf("wrong code %d: got %+v, want the lock", metasim.MaxWrongCodes, ge)
	}
	if ge := graphErr(t, e.g.VerifyCode(t.Context(), id, right)); ge.UserTitle != "Too many attempts" {
		t.Errorf("right code while locked: got %+v, want the lock", ge)
	}
	if ge := graphErr(t, e.g.RequestCode(t.Context(), id, "SMS", bot.English)); ge.UserTitle != "Too many attempts" {
		t.Errorf("new code while locked: got %+v, want the lock", ge)
	}
	if n := len(e.phone.received(number)); n != 1 {
		t.Errorf("%d codes delivered, want 1: no code while locked", n)
	}

	e.clock.Advance(metasim.LockDuration)
	if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
		t.Fatalf("RequestCode after the lock: %v", err)
	}
	if err := e.g.VerifyCode(t.Context(), id, e.phone.last(t, number)); err != nil {
		t.Errorf("VerifyCode after the lock: %v", err)
	}
}

func TestRegisterLimit(t *testing.T) {
	e := start(t, "")
	const number = "+5541987650000"
	id := e.verified(t, number)
	for i := range metasim.RegisterLimit {
		if err := e.g.Register(t.Context(), id, "150954"); err != nil {
			t.Fatalf("register %d: %v", i+1, err)
		}
		e.clock.Advance(time.Hour)
	}
	ge := graphErr(t, e.g.Register(t.Context(), id, "150954"))
	if ge.Code != 133016 || !strings.Contains(ge.Details, "72 more hours") {
		t.Fatalf("register %d: got %+v, want 133016 blocked for 72 hours", metasim.RegisterLimit+1, ge)
	}
	// The block runs from the refused call, even though the first calls
	// have left the window since.
	e.clock.Advance(metasim.RegisterWindow - time.Minute)
	if ge := graphErr(t, e.g.Register(t.Context(), id, "150954")); ge.Code != 133016 {
		t.Errorf("still blocked: got %+v, want 133016", ge)
	}
	e.clock.Advance(time.Minute)
	if err := e.g.Register(t.Context(), id, "150954"); err != nil {
		t.Errorf("after the block: %v", err)
	}
	if got := e.sim.Calls(metasim.EndpointRegister, number); got != metasim.RegisterLimit+3 {
		t.Errorf("Calls(register) = %d, want %d", got, metasim.RegisterLimit+3)
	}
}

func TestVerifiedNumber(t *testing.T) {
	e := start(t, "")
	const number = "+5511976543210"
	id := e.verified(t, number)

	ge := graphErr(t, e.g.RequestCode(t.Context(), id, "SMS", bot.English))
	if ge.HTTPStatus != 400 || ge.Code != 136024 {
		t.Errorf("RequestCode on a verified number: got %+v, want HTTP 400, code 136024", ge)
	}
	if n := len(e.phone.received(number)); n != 1 {
		t.Errorf("%d codes delivered, want 1", n)
	}
	if err := e.g.VerifyCode(t.Context(), id, "123123"); err != nil {
		t.Errorf("VerifyCode on a verified number: %v", err)
	}
}

func TestRegisterNeedsVerification(t *testing.T) {
	e := start(t, "")
	id := e.add(t, "+5511965432109")
	ge := graphErr(t, e.g.Register(t.Context(), id, "150954"))
	if ge.Code != 133006 {
		t.Errorf("got %+v, want code 133006", ge)
	}
}

func TestNumberAddedTwice(t *testing.T) {
	e := start(t, "")
	const number = "+5511954321098"
	id := e.add(t, number)
	_, err := e.g.AddPhoneNumber(t.Context(), waba, "55", "11954321098")
	if ge := graphErr(t, err); ge.Subcode != 2388012 {
		t.Errorf("second add: got %+v, want 2388012", ge)
	}
	list, err := e.g.PhoneNumbers(t.Context(), waba)
	list = ported(list)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("PhoneNumbers = %+v, %v; want the number added first, once", list, err)
	}
	other, err := e.g.AddPhoneNumber(t.Context(), "100200300400501", "55", "11954321098")
	if err != nil || other == id {
		t.Errorf("add to another WABA = %q, %v; want a new migration", other, err)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.json")
	const number = "+5511943210987"

	first := start(t, path)
	id := first.add(t, number)
	if err := first.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
		t.Fatal(err)
	}
	code := first.phone.last(t, number)
	if _, err := first.g.SendText(t.Context(), id, number, "Code sent."); err != nil {
		t.Fatal(err)
	}

	second := start(t, path)
	if err := second.g.VerifyCode(t.Context(), id, code); err != nil {
		t.Fatalf("VerifyCode after a restart, with the code from before: %v", err)
	}
	for range 3 {
		if err := second.g.Register(t.Context(), id, "150954"); err != nil {
			t.Fatal(err)
		}
	}

	third := start(t, path)
	pn, err := third.g.PhoneNumber(t.Context(), id)
	if err != nil || pn.Status != "CONNECTED" || pn.CodeVerificationStatus != "VERIFIED" {
		t.Errorf("after two restarts: %+v, %v; want CONNECTED and VERIFIED", pn, err)
	}
	for endpoint, want := range map[string]int{
		metasim.EndpointRequestCode: 1, metasim.EndpointRegister: 3, metasim.EndpointMessages: 1,
	} {
		if got := third.sim.Calls(endpoint, number); got != want {
			t.Errorf("Calls(%s) after restarts = %d, want %d", endpoint, got, want)
		}
	}
	if sent := third.sim.Sent(); len(sent) != 1 || sent[0].Text != "Code sent." {
		t.Errorf("Sent() after restarts = %+v", sent)
	}
	for range metasim.RegisterLimit - 3 {
		if err := third.g.Register(t.Context(), id, "150954"); err != nil {
			t.Fatal(err)
		}
	}
	if ge := graphErr(t, third.g.Register(t.Context(), id, "150954")); ge.Code != 133016 {
		t.Errorf("the register limit forgot calls made before the restarts: %+v", ge)
	}
}

func TestCorruptStateIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := metasim.New(metasim.Options{Token: token, StatePath: path}); err == nil {
		t.Error("New accepted a corrupt state file; a restart would silently forget every migration")
	}
}

func TestBadToken(t *testing.T) {
	e := start(t, "")
	id := e.add(t, "+5511932109876")
	for name, tok := range map[string]string{"wrong token": "not-the-token", "no token": ""} {
		t.Run(name, func(t *testing.T) {
			g := graph.New(graph.Config{BaseURL: e.url, Token: tok, RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond})
			_, err := g.PhoneNumber(t.Context(), id)
			ge := graphErr(t, err)
			if ge.HTTPStatus != 401 || ge.Code != 190 {
				t.Errorf("got %+v, want HTTP 401 code 190", ge)
			}
			if errors.Is(err, bot.ErrUnavailable) {
				t.Errorf("a refused token is not Meta being unavailable: %v", err)
			}
			if err := g.RequestCode(t.Context(), id, "SMS", bot.English); err == nil {
				t.Error("RequestCode with a bad token succeeded")
			}
		})
	}
	if n := len(e.phone.received("+5511932109876")); n != 0 {
		t.Errorf("requests with a bad token delivered %d codes", n)
	}
}

// raw sends one request straight to the simulator.
func raw(t testing.TB, e *env, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRequestsMetaWouldRefuse(t *testing.T) {
	e := start(t, "")
	id := e.verified(t, "+5511921098765")
	const form, jsonCT = "application/x-www-form-urlencoded", "application/json"
	tests := []struct {
		name, method, path, ct, body string
		status                       int
		want                         string // part of the answer
	}{
		{"no version", "GET", "/" + id, "", "", 400, `"code":2500`},
		{"malformed version", "GET", "/v25/" + id, "", "", 400, `"code":2500`},
		{"unknown id", "GET", "/v25.0/999", "", "", 400, `"error_subcode":33`},
		{"unknown edge", "POST", "/v25.0/" + id + "/deregister_everything", form, "", 400, `"code":100`},
		{"unknown field", "GET", "/v25.0/" + id + "?fields=id,pin", "", "", 400, "nonexisting field (pin)"},
		// Deprecated by Meta (whatsapp/messaging-limits): naming it fails.
		{"deprecated tier field", "GET", "/v25.0/" + id + "?fields=id,messaging_limit_tier", "", "", 400, `"code":100`},
		{"deprecated tier field in a list", "GET", "/v25.0/" + waba + "/phone_numbers?fields=id,messaging_limit_tier", "", "", 400, "whatsapp_business_manager_messaging_limit"},
		{"messaging limit", "GET", "/v25.0/" + id + "?fields=whatsapp_business_manager_messaging_limit", "", "", 200, `"whatsapp_business_manager_messaging_limit":"TIER_1K"`},
		{"PIN too short", "POST", "/v25.0/" + id + "/register", jsonCT, `{"messaging_product":"whatsapp","pin":"1234"}`, 400, "pin must be 6 digits"},
		{"PIN with letters", "POST", "/v25.0/" + id + "/register", jsonCT, `{"messaging_product":"whatsapp","pin":"12345a"}`, 400, `"code":100`},
		{"no messaging product", "POST", "/v25.0/" + id + "/register", jsonCT, `{"pin":"123456"}`, 400, `"code":100`},
		{"code by fax", "POST", "/v25.0/" + id + "/request_code", form, "code_method=FAX&language=en_US", 400, "code_method"},
		{"add without migrate flag", "POST", "/v25.0/" + waba + "/phone_numbers", form, "cc=55&phone_number=11910987654", 400, "migrate_phone_number"},
		{"add with a plus", "POST", "/v25.0/" + waba + "/phone_numbers", form, "cc=%2B55&phone_number=11910987654&migrate_phone_number=true", 400, `"code":100`},
		{"add as JSON", "POST", "/v25.0/" + waba + "/phone_numbers", jsonCT, `{"cc":"55","phone_number":"11910987654","migrate_phone_number":true}`, 200, `"id":"`},
		{"templates from itself", "POST", "/v25.0/" + waba + "/migrate_message_templates", jsonCT, `{"source_waba_id":"` + waba + `"}`, 400, "source_waba_id"},
		{"templates, count too big", "POST", "/v25.0/" + waba + "/migrate_message_templates", jsonCT, `{"source_waba_id":"1","count":501}`, 400, "count"},
		{"templates by id, query parameters", "POST", "/v25.0/" + waba + "/migrate_message_templates?source_waba_id=1&template_ids=%5B%221019496902803242%22%5D", "", "", 200,
			`{"failed_templates":{"1019496902803242":"Incorrect category"},"migrated_templates":[],"paging":{"cursors":`},
		{"empty text", "POST", "/v25.0/" + id + "/messages", jsonCT, `{"messaging_product":"whatsapp","to":"+5511921098765","type":"text","text":{"body":""}}`, 400, "131009"},
		{"interactive", "POST", "/v25.0/" + id + "/messages", jsonCT, `{"messaging_product":"whatsapp","to":"+5511921098765","type":"interactive","interactive":{"type":"button","body":{"text":"Ready?"}}}`, 200, `"wamid.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := raw(t, e, tt.method, tt.path, tt.ct, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("got %d %s, want %d with %q", status, body, tt.status, tt.want)
			}
		})
	}
	if strings.Contains(e.logs.String(), "5511921098765") {
		t.Errorf("the log shows a whole phone number:\n%s", e.logs)
	}
}

func TestSecretsStayOutOfLogsAndState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.json")
	e := start(t, path)
	const number = "+5511909876543"
	id := e.verified(t, number)
	if err := e.g.Register(t.Context(), id, "736151"); err != nil {
		t.Fatal(err)
	}
	code := e.phone.last(t, number)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	state := string(b)
	for what, text := range map[string]string{"log": e.logs.String(), "state file": state} {
		for _, secret := range []string{token, code, "736151"} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contains a secret %q:\n%s", what, secret, text)
			}
		}
	}
	if !strings.Contains(e.logs.String(), "+55*******6543") {
		t.Errorf("the log should name numbers masked:\n%s", e.logs)
	}
}

func TestFixedAndRandomCodes(t *testing.T) {
	var out bytes.Buffer
	sim, err := metasim.New(metasim.Options{Token: token, OTP: "424242", Deliver: metasim.PrintTo(&out)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	g := graph.New(graph.Config{BaseURL: srv.URL, Token: token})
	id, err := g.AddPhoneNumber(t.Context(), waba, "55", "11987651234")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
		t.Fatal(err)
	}
	if err := g.RequestCode(t.Context(), id, "VOICE", bot.English); err != nil {
		t.Fatal(err)
	}
	want := "SMS to +5511987651234: 424242\nVoice call to +5511987651234: 424242\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}

	e := start(t, "")
	id = e.add(t, "+5511987651235")
	seen := map[string]bool{}
	for range 4 {
		if err := e.g.RequestCode(t.Context(), id, "SMS", bot.English); err != nil {
			t.Fatal(err)
		}
		code := e.phone.last(t, "+5511987651235")
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Errorf("code %q is not 6 digits", code)
		}
		seen[code] = true
	}
	if len(seen) == 1 {
		t.Error("four requests got the same random code")
	}
	// Only the latest code is valid.
	codes := e.phone.received("+5511987651235")
	if codes[0].code != codes[3].code {
		if err := e.g.VerifyCode(t.Context(), id, codes[0].code); err == nil {
			t.Error("an earlier code still verified after a new one was sent")
		}
	}
	if err := e.g.VerifyCode(t.Context(), id, codes[3].code); err != nil {
		t.Errorf("latest code: %v", err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, opts := range map[string]metasim.Options{
		"no token":       {},
		"short code":     {Token: token, OTP: "1234"},
		"code with text": {Token: token, OTP: "12345a"},
	} {
		if _, err := metasim.New(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestConcurrentMigrations(t *testing.T) {
	e := start(t, filepath.Join(t.TempDir(), "meta.json"))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			national := fmt.Sprintf("119%08d", 55500000+i)
			number := "+55" + national
			ctx := context.Background()
			id, err := e.g.AddPhoneNumber(ctx, waba, "55", national)
			if err != nil {
				errs <- err
				return
			}
			if err := e.g.RequestCode(ctx, id, "SMS", bot.English); err != nil {
				errs <- err
				return
			}
			codes := e.phone.received(number)
			if err := e.g.VerifyCode(ctx, id, codes[len(codes)-1].code); err != nil {
				errs <- err
				return
			}
			if err := e.g.Register(ctx, id, "150954"); err != nil {
				errs <- err
				return
			}
			if _, err := e.g.SendText(ctx, id, number, "done"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(e.sim.Sent()); got != n {
		t.Errorf("Sent() has %d messages, want %d", got, n)
	}
	list, err := e.g.PhoneNumbers(t.Context(), waba)
	list = ported(list)
	if err != nil || len(list) != n {
		t.Fatalf("PhoneNumbers: %d numbers, %v; want %d", len(list), err, n)
	}
	for _, pn := range list {
		if pn.Status != "CONNECTED" {
			t.Errorf("%s is %s, want CONNECTED", pn.ID, pn.Status)
		}
	}
}

func TestReadReceiptAccepted(t *testing.T) {
	sim, err := metasim.New(metasim.Options{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	for body, want := range map[string]int{
		`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}`: 200,
		`{"messaging_product":"whatsapp","status":"read"}`:                        400,
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/v25.0/109876543210/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("read receipt %s: status %d, want %d", body, resp.StatusCode, want)
		}
	}
	if n := len(sim.Sent()); n != 0 {
		t.Errorf("a read receipt was recorded as a sent message (%d)", n)
	}
}

// ported drops from a WABA's list the AlreadyOnWABA scenario's number,
// which every WABA holds from the start.
func ported(list []bot.PhoneNumber) []bot.PhoneNumber {
	var out []bot.PhoneNumber
	for _, pn := range list {
		if strings.ReplaceAll(pn.DisplayPhoneNumber, " ", "") != metasim.AlreadyOnWABA {
			out = append(out, pn)
		}
	}
	return out
}
