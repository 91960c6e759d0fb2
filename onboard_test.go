package main

import (
	"strings"
	"testing"

	"portabot/adapters/metasim"
)

func TestOnboardModeRefusesToStartWithoutWhatSignupNeeds(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		missing []string
	}{
		{map[string]string{"PORTABOT_ONBOARDING": "embedded_signup"},
			[]string{"PORTABOT_META_APP_ID", "PORTABOT_ES_CONFIG_ID", "PORTABOT_PUBLIC_URL"}},
		{map[string]string{"PORTABOT_META_APP_ID": "1", "PORTABOT_ES_CONFIG_ID": "2"}, []string{"PORTABOT_PUBLIC_URL"}},
	} {
		cfg := serveConfig{}
		_, err := loadOnboarding(func(k string) string { return tc.env[k] }, &cfg, nil)
		if err == nil {
			t.Fatalf("%v: started without %v", tc.env, tc.missing)
		}
		for _, m := range tc.missing {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%v: the error %q does not name %s", tc.env, err, m)
			}
		}
	}
	env := map[string]string{"PORTABOT_META_APP_ID": "1", "PORTABOT_ES_CONFIG_ID": "2", "PORTABOT_PUBLIC_URL": "http://bot.example.com"}
	if _, err := loadOnboarding(func(k string) string { return env[k] }, &serveConfig{}, nil); err == nil ||
		!strings.Contains(err.Error(), "https://") {
		t.Errorf("a plain-http public URL was accepted (%v): Meta returns signup data only to HTTPS pages", err)
	}
	if _, err := loadOnboarding(func(k string) string { return map[string]string{"PORTABOT_ONBOARDING": "fixed_waba"}[k] },
		&serveConfig{}, nil); err == nil || !strings.Contains(err.Error(), "PORTABOT_DEST_WABA_ID") {
		t.Errorf("fixed_waba without a WABA: %v", err)
	}
}

func TestOnboardModeDefaults(t *testing.T) {
	cfg := serveConfig{DestWABA: "123456789012345"}
	o, err := loadOnboarding(func(k string) string {
		return map[string]string{"PORTABOT_DEST_WABA_ID": "123456789012345"}[k]
	}, &cfg, nil)
	if err != nil || o.Mode != onboardFixed || cfg.DestWABA == "" {
		t.Fatalf("with PORTABOT_DEST_WABA_ID: mode %v, WABA %q, %v", o, cfg.DestWABA, err)
	}
	sim, err := metasim.New(metasim.Options{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	// Sandbox serve: the simulator's WABA is configured by startSandbox,
	// yet the client's own comes from the simulated signup.
	cfg = serveConfig{DestWABA: metasim.SandboxWABA, AppSecret: "s"}
	o, err = loadOnboarding(func(string) string { return "" }, &cfg, &sandboxLog{sim: sim, simURL: "http://127.0.0.1:1"})
	if err != nil || o.Mode != onboardSignup || cfg.DestWABA != "" || o.SDK != "http://127.0.0.1:1/sdk.js" {
		t.Fatalf("sandbox: %+v, WABA %q, %v", o, cfg.DestWABA, err)
	}
	cfg = serveConfig{DestWABA: metasim.SandboxWABA}
	if o, err = loadOnboarding(func(k string) string { return map[string]string{"PORTABOT_ONBOARDING": "agent"}[k] }, &cfg, nil); err != nil ||
		o.Mode != onboardAgent || cfg.DestWABA != "" {
		t.Fatalf("agent: %+v, WABA %q, %v", o, cfg.DestWABA, err)
	}
}
