package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"portabot/adapters/metasim"
	"portabot/fsm"
)

// chromium returns the browser the signup test drives, or skips the test
// saying why: everything else in `go test ./...` runs without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("skipping the browser test of Embedded Signup: no Chromium on this machine " +
		"(apt-get install chromium; .ci/run installs it)")
	return ""
}

// browser starts headless Chromium with a fresh profile. The machine has no
// internet: background networking, component updates and sync would hang.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 760),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

var onboardLink = regexp.MustCompile(`https?://\S+/onboard/\S+`)

// toSignupLink walks a client through the chat to await_waba and returns
// the link the bot sent.
func toSignupLink(t *testing.T, s *served, c *conversationView, greeting, start, yes string) string {
	t.Helper()
	s.text(t, c.from, greeting)
	m := c.next(t, "offering to start", offers(start))
	s.tap(t, c.from, m, start)
	for i := 1; i <= 4; i++ {
		m = c.next(t, fmt.Sprintf("asking check %d/4", i), offers(yes))
		s.tap(t, c.from, m, yes)
	}
	c.next(t, "asking for the number", func(m metasim.Message) bool { return strings.Contains(m.Text, "+55") || strings.Contains(m.Text, "+") })
	s.text(t, c.from, "+55 11 98765-4321")
	c.next(t, "asking for the origin WABA", func(m metasim.Message) bool { return len(m.Choices) == 1 })
	s.text(t, c.from, metasim.SandboxSourceWABA)
	m = c.next(t, "with the signup link", func(m metasim.Message) bool { return onboardLink.MatchString(m.Text) })
	return onboardLink.FindString(m.Text)
}

// TestOnboardEmbeddedSignupInBrowser runs the whole path in a real browser:
// the chat reaches await_waba, the client opens the link, goes through the
// simulated Meta signup window, and the port goes on to done after the
// code.
func TestOnboardEmbeddedSignupInBrowser(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	const (
		otp    = "482913"
		pin    = "135790"
		client = "5511999990101"
	)
	db := filepath.Join(t.TempDir(), "portabot.db")
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_ONBOARDING": "embedded_signup", "PORTABOT_SANDBOX_OTP": otp}), db)
	c := &conversationView{s: s, from: client}
	link := toSignupLink(t, s, c, "hi", "Start the port", "Yes")

	ctx := browser(t, exe)
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitEnabled(chromedp.ID("start"))); err != nil {
		t.Fatalf("open the link: %v\nlogs:\n%s", err, s.logs)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Your WhatsApp Business Account" {
		t.Fatalf("page heading %q, %v", heading, err)
	}
	popup := chromedp.WaitNewTarget(ctx, func(i *target.Info) bool { return i.Type == "page" && i.OpenerID != "" })
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatalf("click the button: %v", err)
	}
	var id target.ID
	select {
	case id = <-popup:
	case <-ctx.Done():
		t.Fatal("the signup window did not open")
	}
	win, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	defer cancel()
	if err := chromedp.Do(win,
		chromedp.WaitVisible(chromedp.ID("next")),
		chromedp.Click(chromedp.ID("next")),
		chromedp.WaitVisible(chromedp.ID("finish")),
	); err != nil {
		t.Fatalf("the signup window: %v", err)
	}
	// The window closes itself once it has reported: the click may not
	// see its own end.
	if err := chromedp.Do(win, chromedp.Click(chromedp.ID("finish"))); err != nil {
		t.Logf("finish click: %v (the window closed)", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
		t.Fatalf("the page did not show the signup done: %v\nlogs:\n%s", err, s.logs)
	}
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("done")))
	if err != nil || !strings.Contains(done, "Your account is ready") {
		t.Fatalf("done section says %q, %v", done, err)
	}

	c.next(t, "saying the account is ready", says("Account is ready"))
	m := c.next(t, "asking how the code should arrive", offers("SMS"))
	s.tap(t, client, m, "SMS")
	c.next(t, "saying the code was requested", says("6 digits"))
	s.text(t, client, otp)
	c.next(t, "asking for a new PIN", says("PIN"))
	s.text(t, client, pin)
	c.next(t, "asking to confirm the PIN", says("PIN again"))
	s.text(t, client, pin)
	c.next(t, "with the done summary", says("has moved"))
	s.mustStop(t)
	cs := casesOf(t, db)
	if len(cs) != 1 || cs[0].State != fsm.Done || cs[0].WABA == metasim.SandboxWABA || cs[0].WABA == "" {
		t.Fatalf("cases = %+v, want one case done on the WABA the signup created", cs)
	}
	if logs := s.logs.String(); strings.Contains(logs, "EAASIMBIZ") {
		t.Error("a business token is in the logs")
	}
}

// TestOnboardSignupPageScreenshots saves the page in each language under
// docs/ when PORTABOT_SCREENSHOTS=1, for the README.
func TestOnboardSignupPageScreenshots(t *testing.T) {
	if os.Getenv("PORTABOT_SCREENSHOTS") != "1" {
		t.Skip("set PORTABOT_SCREENSHOTS=1 to refresh docs/onboard-*.png")
	}
	exe := chromium(t)
	db := filepath.Join(t.TempDir(), "portabot.db")
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_ONBOARDING": "embedded_signup"}), db)
	ctx := browser(t, exe)
	for i, l := range []struct{ lang, greeting, start, yes string }{
		{"en", "hi", "Start the port", "Yes"},
		{"pt", "Olá, bom dia", "Portar meu número", "Sim"},
		{"es", "Hola, buenos días", "Iniciar portabilidad", "Sí"},
	} {
		c := &conversationView{s: s, from: fmt.Sprintf("55119999902%02d", i)}
		link := toSignupLink(t, s, c, l.greeting, l.start, l.yes)
		if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitEnabled(chromedp.ID("start"))); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("docs", "onboard-"+l.lang+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOnboardSignupCancelInBrowserIgnoresOtherOrigins cancels in the
// simulated Meta window after a forged WA_EMBEDDED_SIGNUP event from the
// page's own origin: the page posts only once, so the step the client is
// told is Meta's, proving the forged event was ignored.
func TestOnboardSignupCancelInBrowserIgnoresOtherOrigins(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	const client = "5511999990102"
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_ONBOARDING": "embedded_signup"}),
		filepath.Join(t.TempDir(), "portabot.db"))
	c := &conversationView{s: s, from: client}
	link := toSignupLink(t, s, c, "hi", "Start the port", "Yes")

	ctx := browser(t, exe)
	forge := `window.postMessage(JSON.stringify({type: "WA_EMBEDDED_SIGNUP", event: "CANCEL", data: {current_step: "forged_step"}}), "*")`
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitEnabled(chromedp.ID("start"))); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](forge+"; true")); err != nil {
		t.Fatalf("forge an event: %v", err)
	}
	popup := chromedp.WaitNewTarget(ctx, func(i *target.Info) bool { return i.Type == "page" && i.OpenerID != "" })
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatalf("click the button: %v", err)
	}
	var id target.ID
	select {
	case id = <-popup:
	case <-ctx.Done():
		t.Fatal("the signup window did not open")
	}
	win, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	defer cancel()
	if err := chromedp.Do(win, chromedp.WaitVisible(chromedp.CSS(`[data-cancel="business_portfolio"]`))); err != nil {
		t.Fatalf("the signup window: %v", err)
	}
	if err := chromedp.Do(win, chromedp.Click(chromedp.CSS(`[data-cancel="business_portfolio"]`))); err != nil {
		t.Logf("cancel click: %v (the window closed)", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("retry"))); err != nil {
		t.Fatalf("the page did not offer to try again: %v\nlogs:\n%s", err, s.logs)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("again"), "href"))
	again := href.Value
	if err != nil || !onboardLink.MatchString(again) || again == link {
		t.Fatalf("try-again link %q, %v", again, err)
	}
	m := c.next(t, "saying where the signup stopped", says(`"business_portfolio"`))
	if strings.Contains(m.Text, "forged_step") || !strings.Contains(m.Text, again) {
		t.Fatalf("the client was told %q", m.Text)
	}
}
