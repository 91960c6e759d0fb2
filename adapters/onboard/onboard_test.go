package onboard_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/onboard"
	"portabot/bot"
	"portabot/fsm"
)

func TestSignupFinishGoesOnToTheNumberAndKeepsTheTokenSealed(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	if !strings.Contains(texts(w.last), "log in with Facebook") {
		t.Fatalf("the link comes without saying what it is for: %q", texts(w.last))
	}
	status, body, hdr := w.get(link)
	if status != http.StatusOK || shown(body) != "open" || !strings.Contains(body, "Continue with Facebook") ||
		!strings.Contains(body, "2000000000000002") {
		t.Fatalf("page: %d\n%s", status, body)
	}
	for name, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if got := hdr.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "'unsafe-inline'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	mark := len(w.queued())
	waba, st, out := w.finish(link)
	if st != http.StatusOK || out["status"] != "done" {
		t.Fatalf("finish answered %d %v", st, out)
	}
	c := w.cas()
	if c.WABA != waba || !w.sim.Subscribed(waba) {
		t.Fatalf("case WABA %q (want %q), subscribed %v", c.WABA, waba, w.sim.Subscribed(waba))
	}
	w.wantState(fsm.ChooseMethod)
	said := texts(w.queued()[mark:])
	if !strings.Contains(said, "Account is ready") || !strings.Contains(said, "How should it arrive?") {
		t.Fatalf("the client was told %q", said)
	}
	var told bool
	for _, n := range w.notices() {
		told = told || (n.Kind == bot.NoticeSignup && strings.Contains(n.Text, waba))
	}
	if !told {
		t.Error("agents were not told the client shared a WABA")
	}
	// The port goes on to the end against the client's WABA.
	w.last = w.queued()[mark:]
	w.tap("sms")
	w.send(otp)
	w.send("135790")
	w.send("135790")
	w.wantState(fsm.Done)
	// The calls on the client's WABA and number carry their business token.
	for _, e := range []string{metasim.EndpointSubscribedApps, metasim.EndpointAddNumber, metasim.EndpointRequestCode,
		metasim.EndpointVerifyCode, metasim.EndpointRegister} {
		if w.sim.BusinessCalls(e) == 0 {
			t.Errorf("%s was called without the business token", e)
		}
	}

	_, token, err := w.db.BusinessToken(context.Background(), c.ID)
	if err != nil || !strings.HasPrefix(token, "EAASIMBIZ") {
		t.Fatalf("business token %q, %v", token, err)
	}
	w.db.Close()
	raw, err := os.ReadFile(w.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(token)) {
		t.Error("the business token is in the store's bytes in the clear")
	}
	if strings.Contains(w.logs.String(), token) {
		t.Error("the business token is in the logs")
	}
}

func TestSignupPageSpeaksTheCaseLanguage(t *testing.T) {
	for greeting, want := range map[string]string{
		"Olá, bom dia":           "Continuar com o Facebook",
		"Hola, buenos días":      "Continuar con Facebook",
		"Hi there, good morning": "Continue with Facebook",
	} {
		w := newWorld(t)
		link := w.toAwaitWABA(greeting)
		_, body, _ := w.get(link)
		if !strings.Contains(body, want) {
			t.Errorf("%q: page lacks %q", greeting, want)
		}
	}
}

func TestSignupLinkExpires(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	w.clock.Add(bot.DefaultSignupTTL + time.Minute)
	mark := len(w.queued())
	status, body, _ := w.get(link)
	if status != http.StatusOK || shown(body) != "expired" || strings.Contains(body, "FB.login(") {
		t.Fatalf("expired page: %d\n%s", status, body)
	}
	fresh := w.linkIn(w.queued()[mark:])
	if fresh == link {
		t.Fatal("the new link is the old one")
	}
	if st, _ := w.complete(link, map[string]string{"event": "CANCEL"}); st != http.StatusNotFound {
		t.Errorf("the expired link still takes completions: %d", st)
	}
	if _, st, out := w.finish(fresh); st != http.StatusOK || out["status"] != "done" {
		t.Fatalf("the new link: %d %v", st, out)
	}
	w.wantState(fsm.ChooseMethod)
}

func TestSignupExpiredLinkIsReplacedWhenTheClientWrites(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	w.clock.Add(25 * time.Hour)
	fresh := w.linkIn(w.send("hello?"))
	if fresh == link {
		t.Fatal("the client got the expired link again")
	}
}

func TestSignupLinkAgainOnRequestInEachLanguage(t *testing.T) {
	for greeting, ask := range map[string]string{
		"Hi there, good morning": "can you send the link again?",
		"Olá, bom dia":           "me manda o link de novo",
		"Hola, buenos días":      "envíame el enlace otra vez",
	} {
		w := newWorld(t)
		old := w.toAwaitWABA(greeting)
		fresh := w.linkIn(w.send(ask))
		if fresh == old {
			t.Fatalf("%q: same link", ask)
		}
		if st, _, _ := w.get(old); st != http.StatusNotFound {
			t.Errorf("%q: the replaced link still opens (%d)", ask, st)
		}
		if st, _, _ := w.get(fresh); st != http.StatusOK {
			t.Errorf("%q: the new link does not open (%d)", ask, st)
		}
	}
}

func TestSignupUsedLinkShowsDone(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	w.finish(link)
	status, body, _ := w.get(link)
	if status != http.StatusOK || shown(body) != "done" || strings.Contains(body, "FB.login(") {
		t.Fatalf("used link: %d\n%s", status, body)
	}
}

func TestSignupReplayedCompletionChangesNothing(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	waba, code := w.sim.Signup()
	body := map[string]string{"event": "FINISH", "code": code, "waba_id": waba}
	if _, out := w.complete(link, body); out["status"] != "done" {
		t.Fatalf("first completion: %v", out)
	}
	queued, state := len(w.queued()), w.conv().State
	w.notices()
	other, _ := w.sim.Signup()
	for _, b := range []map[string]string{body, {"event": "FINISH", "code": code, "waba_id": other}, {"event": "CANCEL"}} {
		if st, out := w.complete(link, b); st != http.StatusOK || out["status"] != "done" {
			t.Fatalf("replay %v: %d %v", b, st, out)
		}
	}
	if n := w.sim.SignupCalls(metasim.EndpointExchange); n != 1 {
		t.Errorf("code exchanged %d times", n)
	}
	if got := w.cas().WABA; got != waba {
		t.Errorf("WABA %q after replays, want %q", got, waba)
	}
	if len(w.queued()) != queued || w.conv().State != state || len(w.notices()) != 0 {
		t.Error("a replayed completion told the client or agents something, or moved the case")
	}
}

func TestSignupTokenOfAnotherCaseIsRefused(t *testing.T) {
	w := newWorld(t)
	linkA := w.toAwaitWABA("Hi there, good morning")
	caseA := w.cas().ID
	w.from = "5511912345678"
	linkB := w.toAwaitWABA("Hi there, good morning")
	caseB := w.cas().ID
	// B's secret under A's case id, and A's under B's.
	secretA := linkA[strings.LastIndex(linkA, ".")+1:]
	secretB := linkB[strings.LastIndex(linkB, ".")+1:]
	base := linkA[:strings.Index(linkA, "/onboard/")+len("/onboard/")]
	for _, forged := range []string{base + caseA + "." + secretB, base + caseB + "." + secretA, base + "999." + secretA} {
		if st, body, _ := w.get(forged); st != http.StatusNotFound || shown(body) != "invalid" {
			t.Errorf("GET %s: %d showing %q, want 404 showing invalid", forged, st, shown(body))
		}
		waba, code := w.sim.Signup()
		if st, _ := w.complete(forged, map[string]string{"event": "FINISH", "code": code, "waba_id": waba}); st != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", forged, st)
		}
	}
	if n := w.sim.SignupCalls(metasim.EndpointExchange); n != 0 {
		t.Errorf("a forged link reached the code exchange %d times", n)
	}
}

func TestSignupCancelTellsWhereItStoppedWithANewLink(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Olá, bom dia")
	mark := len(w.queued())
	st, out := w.complete(link, map[string]string{"event": "CANCEL", "current_step": "waba_creation"})
	if st != http.StatusOK || out["status"] != "retry" || out["next"] == "" {
		t.Fatalf("cancel answered %d %v", st, out)
	}
	said := texts(w.queued()[mark:])
	if !strings.Contains(said, `"waba_creation"`) || !strings.Contains(said, out["next"]) || !strings.Contains(said, "tente de novo") {
		t.Fatalf("the client was told %q", said)
	}
	var told bool
	for _, n := range w.notices() {
		told = told || (n.Kind == bot.NoticeSignup && strings.Contains(n.Text, "waba_creation"))
	}
	if !told {
		t.Error("agents were not told where the client stopped")
	}
	w.wantState(fsm.AwaitWABA)
	if _, st, out := w.finish(out["next"]); st != http.StatusOK || out["status"] != "done" {
		t.Fatalf("the new link after a cancel: %d %v", st, out)
	}
}

func TestSignupErrorTellsClientAndAgents(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hola, buenos días")
	mark := len(w.queued())
	_, out := w.complete(link, map[string]string{"event": "ERROR", "error_message": "Something went wrong"})
	if out["status"] != "retry" || out["next"] == "" {
		t.Fatalf("error answered %v", out)
	}
	if said := texts(w.queued()[mark:]); !strings.Contains(said, "informó un error") || !strings.Contains(said, out["next"]) {
		t.Fatalf("the client was told %q", said)
	}
	var told bool
	for _, n := range w.notices() {
		told = told || (n.Kind == bot.NoticeSignup && strings.Contains(n.Text, "Something went wrong"))
	}
	if !told {
		t.Error("agents were not told of Meta's error")
	}
	w.wantState(fsm.AwaitWABA)
}

func TestSignupFailedCodeExchangeIsRetriedThenExplained(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	w.sim.Inject(metasim.Fault{Kind: metasim.FaultServerError, Endpoint: metasim.EndpointExchange})
	mark := len(w.queued())
	_, st, out := w.finish(link)
	if st != http.StatusOK || out["status"] != "failed" {
		t.Fatalf("finish answered %d %v", st, out)
	}
	// One call and the Graph client's three retries on 5xx.
	if n := w.sim.SignupCalls(metasim.EndpointExchange); n != 4 {
		t.Errorf("the code exchange was tried %d times, want 4", n)
	}
	said := texts(w.queued()[mark:])
	if !strings.Contains(said, "could not confirm the account with Meta") || !strings.Contains(said, "/onboard/") {
		t.Fatalf("the client was told %q", said)
	}
	w.wantState(fsm.AwaitWABA)
	if w.cas().WABA != "" {
		t.Error("a WABA was set without a business token")
	}
	w.sim.ClearFaults()
	if _, st, out := w.finish(w.linkIn(w.queued()[mark:])); st != http.StatusOK || out["status"] != "done" {
		t.Fatalf("after Meta recovered: %d %v", st, out)
	}
}

func TestSignupFailedSubscriptionWaitsForAnAgent(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	w.sim.Inject(metasim.Fault{Kind: metasim.FaultServerError, Endpoint: metasim.EndpointSubscribedApps})
	mark := len(w.queued())
	waba, _, out := w.finish(link)
	if out["status"] != "failed" {
		t.Fatalf("finish answered %v", out)
	}
	if said := texts(w.queued()[mark:]); !strings.Contains(said, "refused to connect it") {
		t.Fatalf("the client was told %q", said)
	}
	c := w.cas()
	if c.WABA != "" || !strings.Contains(c.Problem, "subscribed") {
		t.Fatalf("case WABA %q, problem %q", c.WABA, c.Problem)
	}
	var hint string
	for _, n := range w.notices() {
		if n.Kind == bot.NoticeSignup {
			hint = n.Text
		}
	}
	if !strings.Contains(hint, "/porta waba "+c.ID+" "+waba) {
		t.Fatalf("agents were told %q", hint)
	}
	w.wantState(fsm.AwaitWABA)
	if st, body, _ := w.get(link); st != http.StatusOK || shown(body) != "failed" {
		t.Errorf("the link after a failed subscription: %d\n%s", st, body)
	}
	w.sim.ClearFaults()
	if err := w.bot.SetWABA(context.Background(), c.ID, waba, "U123"); err != nil {
		t.Fatal(err)
	}
	w.wantState(fsm.ChooseMethod)
}

func TestSignupRequestLimits(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	big := strings.Repeat("x", 20<<10)
	resp, err := http.Post(link+"/complete", "application/json", strings.NewReader(`{"event":"ERROR","error_message":"`+big+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
	resp, err = http.Post(link+"/complete", "text/plain", strings.NewReader(`{"event":"CANCEL"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d", resp.StatusCode)
	}
	if st, _, _ := w.get(w.page.URL + "/onboard/" + strings.Repeat("1", 300)); st != http.StatusNotFound {
		t.Errorf("oversized token: %d", st)
	}
	if st, _ := w.complete(link, map[string]string{"event": "DELETE"}); st != http.StatusBadRequest {
		t.Errorf("unknown event: %d", st)
	}
	w.wantState(fsm.AwaitWABA)
}

func TestSignupPageCSPForMetasSDK(t *testing.T) {
	h, err := onboard.New(onboard.Config{AppID: "1", ConfigID: "2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	// A malformed token never reaches the bot: the page says the link is
	// not valid, under the same policy.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/onboard/"+strings.Repeat("x", 200), nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if rec.Code != http.StatusNotFound || shown(rec.Body.String()) != "invalid" {
		t.Fatalf("malformed token: %d showing %q", rec.Code, shown(rec.Body.String()))
	}
	for _, want := range []string{"script-src 'self' https://connect.facebook.net", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, " * ") {
		t.Errorf("Content-Security-Policy %q is too wide", csp)
	}
}

func TestSignupFinishedFromTheMenuGoesOnWhenTheClientContinues(t *testing.T) {
	w := newWorld(t)
	link := w.toAwaitWABA("Hi there, good morning")
	w.send("menu")
	w.wantState(fsm.Menu)
	if _, _, out := w.finish(link); out["status"] != "done" {
		t.Fatalf("finish from the menu: %v", out)
	}
	w.wantState(fsm.Menu)
	w.tap("continue")
	w.wantState(fsm.ChooseMethod)
}
