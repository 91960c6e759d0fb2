package graph_test

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/bot"
)

// The pre-flight's reads against the simulated Meta: each scenario WABA
// reads the way the pre-flight tells it apart.
func TestPreflightReads(t *testing.T) {
	sim, err := metasim.New(metasim.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond, RetryMaxWait: 2 * time.Millisecond})
	ctx := t.Context()

	w, err := c.WABA(ctx, metasim.SandboxWABA)
	if err != nil || w.ID != metasim.SandboxWABA || w.ReviewStatus != "APPROVED" || w.PaymentID == "" {
		t.Errorf("WABA(sandbox) = %+v, %v; want approved with a payment method", w, err)
	}
	if w, err := c.WABA(ctx, metasim.WABAPending); err != nil || w.ReviewStatus != "PENDING" {
		t.Errorf("WABA(pending) = %+v, %v; want PENDING", w, err)
	}
	if w, err := c.WABA(ctx, metasim.WABANoPayment); err != nil || w.PaymentID != "" || w.ReviewStatus != "APPROVED" {
		t.Errorf("WABA(no payment) = %+v, %v; want approved, no payment method", w, err)
	}
	_, err = c.WABA(ctx, metasim.WABANotShared)
	if m := bot.MeaningOf(err); err == nil || m.Kind.Later() {
		t.Errorf("WABA(not shared) = %v (%s); want a refusal not worth a later try", err, m.Kind)
	}

	// Nobody subscribed at first; subscribing shows, twice is fine.
	if sub, err := c.Subscribed(ctx, metasim.SandboxWABA); err != nil || sub {
		t.Errorf("Subscribed before = %v, %v; want false", sub, err)
	}
	for range 2 {
		if err := c.Subscribe(ctx, metasim.SandboxWABA); err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
	}
	if sub, err := c.Subscribed(ctx, metasim.SandboxWABA); err != nil || !sub {
		t.Errorf("Subscribed after = %v, %v; want true", sub, err)
	}
	if err := c.Subscribe(ctx, metasim.WABASubscribeRefused); err == nil {
		t.Error("Subscribe to a WABA that refuses our app succeeded")
	}
	// With our app id set, another app's subscription does not count.
	other := graph.New(graph.Config{BaseURL: srv.URL, Token: token, AppID: "123456789012345", RetryWait: time.Millisecond})
	if sub, err := other.Subscribed(ctx, metasim.SandboxWABA); err != nil || sub {
		t.Errorf("Subscribed for another app = %v, %v; want false", sub, err)
	}
	mine := graph.New(graph.Config{BaseURL: srv.URL, Token: token, AppID: metasim.SimAppID, RetryWait: time.Millisecond})
	if sub, err := mine.Subscribed(ctx, metasim.SandboxWABA); err != nil || !sub {
		t.Errorf("Subscribed for our app = %v, %v; want true", sub, err)
	}

	eligible, total, err := c.Templates(ctx, metasim.SandboxSourceWABA)
	if err != nil || eligible != 6 || total != 7 {
		t.Errorf("Templates = %d of %d, %v; want 6 of 7", eligible, total, err)
	}
	if _, _, err := c.Templates(ctx, metasim.WABANotShared); err == nil {
		t.Error("Templates of a WABA not shared with us succeeded")
	}
	if got := sim.Calls(metasim.EndpointWABA, metasim.SandboxWABA); got != 1 {
		t.Errorf("GET WABA counted %d, want 1", got)
	}
}

// The number of the AlreadyOnWABA scenario is in every WABA's list, and an
// add of it is refused: the pre-flight finds it there instead.
func TestAlreadyOnWABAIsListed(t *testing.T) {
	sim, err := metasim.New(metasim.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond})
	list, err := c.PhoneNumbers(t.Context(), metasim.SandboxWABA)
	if err != nil || len(list) != 1 || list[0].DisplayPhoneNumber != "+55 11990000004" {
		t.Fatalf("PhoneNumbers = %+v, %v; want the scenario's number", list, err)
	}
	if _, err := c.AddPhoneNumber(t.Context(), metasim.SandboxWABA, "55", "11990000004"); bot.MeaningOf(err).Cause != bot.CauseAlreadyOnWABA {
		t.Errorf("add = %v, want 2388012", err)
	}
	if pn, err := c.PhoneNumber(t.Context(), list[0].ID); err != nil || pn.CodeVerificationStatus != "NOT_VERIFIED" {
		t.Errorf("PhoneNumber = %+v, %v; want it readable, not verified", pn, err)
	}
}

// The destination without webhooks refuses the add until our app is
// subscribed, and the simulator's journal keeps the order of the calls.
func TestNoWebhooksUntilSubscribed(t *testing.T) {
	sim, err := metasim.New(metasim.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond})
	ctx := t.Context()
	if _, err := c.AddPhoneNumber(ctx, metasim.SandboxWABA, "55", "11990000005"); bot.MeaningOf(err).Cause != bot.CauseNoWebhooks {
		t.Fatalf("add before subscribing = %v, want 2388103 for want of webhooks", err)
	}
	if err := c.Subscribe(ctx, metasim.SandboxWABA); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddPhoneNumber(ctx, metasim.SandboxWABA, "55", "11990000005"); err != nil {
		t.Fatalf("add after subscribing = %v", err)
	}
	want := []string{"POST phone_numbers", "POST subscribed_apps", "POST phone_numbers"}
	if got := sim.Journal(); !slices.Equal(got, want) {
		t.Errorf("Journal = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		waba  string
		cause bot.Cause
	}{
		{metasim.WABAPending, bot.CauseWABANotApproved},
		{metasim.WABANoPayment, bot.CauseNoPayment},
		{metasim.WABASubscribeRefused, bot.CauseNoWebhooks},
	} {
		if _, err := c.AddPhoneNumber(ctx, tt.waba, "55", "11987654321"); bot.MeaningOf(err).Cause != tt.cause {
			t.Errorf("add to %s = %v, want %s", tt.waba, err, tt.cause)
		}
	}
}
