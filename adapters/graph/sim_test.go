package graph_test

import (
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/bot"
)

// TestAgainstSimulator runs a whole migration, and the failures the bot
// must tell apart, against the simulated Meta.
func TestAgainstSimulator(t *testing.T) {
	var mu sync.Mutex
	codes := map[string]string{}
	sim, err := metasim.New(metasim.Options{Token: token, Deliver: func(phone, method, code string) {
		mu.Lock()
		defer mu.Unlock()
		codes[phone] = code
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond, RetryMaxWait: 2 * time.Second})
	ctx := t.Context()
	code := func(phone string) string {
		mu.Lock()
		defer mu.Unlock()
		return codes[phone]
	}

	migrate := func(national string) (string, error) {
		id, err := c.AddPhoneNumber(ctx, metasim.SandboxWABA, "55", national)
		if err != nil {
			return "", err
		}
		if err := c.RequestCode(ctx, id, "SMS", bot.Portuguese); err != nil {
			return id, err
		}
		if err := c.VerifyCode(ctx, id, code("+55"+national)); err != nil {
			return id, err
		}
		return id, c.Register(ctx, id, "150954")
	}

	t.Run("happy path", func(t *testing.T) {
		id, err := migrate("11987654321")
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.MigrateTemplates(ctx, metasim.SandboxWABA, metasim.SandboxSourceWABA)
		if err != nil || len(res.Migrated) != 5 || len(res.Failed) != 2 {
			t.Errorf("MigrateTemplates = %+v, %v; want 5 migrated, 2 failed", res, err)
		}
		pn, err := c.PhoneNumber(ctx, id)
		if err != nil || pn.Status != "CONNECTED" || pn.PlatformType != "CLOUD_API" {
			t.Errorf("PhoneNumber = %+v, %v; want CONNECTED on CLOUD_API", pn, err)
		}
	})

	t.Run("migration refused for the display name", func(t *testing.T) {
		_, err := migrate("11990000003")
		var ge *bot.GraphError
		if !errors.As(err, &ge) || ge.Subcode != 2388103 || ge.UserMsg != "Registered name should be present and approved" {
			t.Errorf("got %v, want 2388103 about the display name", err)
		}
	})

	t.Run("blocked registration is tried once", func(t *testing.T) {
		_, err := migrate("11990000008")
		var ge *bot.GraphError
		if !errors.As(err, &ge) || ge.Code != 133016 {
			t.Errorf("got %v, want 133016", err)
		}
		if n := sim.Calls(metasim.EndpointRegister, metasim.RegisterBlocked); n != 1 {
			t.Errorf("register was called %d times, want 1", n)
		}
	})

	t.Run("rate limited code request is reported, not repeated", func(t *testing.T) {
		_, err := migrate("11990000006")
		var ge *bot.GraphError
		// Retry-After: 1, and the usage header's estimate of 1 minute: the
		// longer is the wait.
		if !errors.As(err, &ge) || ge.RetryAfter != time.Minute || !errors.Is(err, bot.ErrUnavailable) {
			t.Errorf("got %v, want Meta unavailable with RetryAfter 1m", err)
		}
		if n := sim.Calls(metasim.EndpointRequestCode, metasim.RateLimited); n != 1 {
			t.Errorf("request_code was called %d times, want 1", n)
		}
	})
}
