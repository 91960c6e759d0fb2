package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/adapters/onboard"
	"portabot/bot"
)

// Where a case's destination WABA comes from (PORTABOT_ONBOARDING).
const (
	// onboardSignup: the client creates and shares their own WABA through
	// Meta's Embedded Signup, from a link the bot sends. The default: Meta
	// recommends it to every BSP, and On-Behalf-Of onboarding closed on 29
	// Sep 2025 (Meta: solution-providers/obo-model-deprecation).
	onboardSignup = "embedded_signup"
	// onboardFixed: every case goes to PORTABOT_DEST_WABA_ID (OBO partners).
	onboardFixed = "fixed_waba"
	// onboardAgent: an agent sets each case's WABA with /porta waba.
	onboardAgent = "agent"
)

// onboarding is serve's Embedded Signup wiring.
type onboarding struct {
	Mode      string
	AppID     string
	ConfigID  string
	AppSecret string
	// Public is PORTABOT_PUBLIC_URL; in sandbox mode, when unset, the
	// address serve listens on.
	Public  string
	SDK     string
	Origins []string
	TTL     time.Duration
	Version string

	base atomic.Pointer[string] // the public base links are made from
}

// loadOnboarding reads PORTABOT_ONBOARDING and what its mode needs, and
// leaves cfg.DestWABA set only in fixed_waba mode. With no mode named, a
// configured PORTABOT_DEST_WABA_ID means fixed_waba, else embedded_signup.
// In sandbox mode Embedded Signup runs against the simulator.
func loadOnboarding(getenv func(string) string, cfg *serveConfig, sandbox *sandboxLog) (*onboarding, error) {
	o := &onboarding{Mode: strings.TrimSpace(getenv("PORTABOT_ONBOARDING")), AppID: getenv("PORTABOT_META_APP_ID"),
		ConfigID: getenv("PORTABOT_ES_CONFIG_ID"), Public: strings.TrimRight(getenv("PORTABOT_PUBLIC_URL"), "/"),
		AppSecret: cfg.AppSecret, Version: cfg.GraphVersion, TTL: bot.DefaultSignupTTL}
	explicitWABA := getenv("PORTABOT_DEST_WABA_ID")
	if o.Mode == "" {
		o.Mode = onboardSignup
		if explicitWABA != "" {
			o.Mode = onboardFixed
		}
	}
	switch o.Mode {
	case onboardFixed:
		if cfg.DestWABA == "" {
			return nil, errors.New("PORTABOT_ONBOARDING=fixed_waba needs PORTABOT_DEST_WABA_ID")
		}
		return o, nil
	case onboardAgent:
		cfg.DestWABA = ""
		return o, nil
	case onboardSignup:
		cfg.DestWABA = ""
	default:
		return nil, fmt.Errorf("PORTABOT_ONBOARDING must be embedded_signup, fixed_waba or agent, not %q", o.Mode)
	}
	if v := getenv("PORTABOT_SIGNUP_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 30*24*time.Hour {
			return nil, fmt.Errorf("PORTABOT_SIGNUP_TTL must be a duration from 1m to 720h, such as 24h, not %q", v)
		}
		o.TTL = d
	}
	o.SDK = getenv("PORTABOT_META_SDK_URL")
	if sandbox != nil {
		// The simulator plays Meta: its SDK stand-in, its signup window.
		if o.AppID == "" {
			o.AppID = metasim.SimAppID
		}
		if o.ConfigID == "" {
			o.ConfigID = "2000000000000002"
		}
		if o.SDK == "" {
			o.SDK = sandbox.simURL + "/sdk.js"
			o.Origins = []string{sandbox.simURL}
		}
		sandbox.sim.SetAppSecret(o.AppSecret)
		return o, o.checkPublic(true)
	}
	var missing []string
	for _, v := range []struct{ name, val string }{
		{"PORTABOT_META_APP_ID", o.AppID}, {"PORTABOT_ES_CONFIG_ID", o.ConfigID}, {"PORTABOT_PUBLIC_URL", o.Public},
	} {
		if v.val == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("onboarding is embedded_signup (PORTABOT_ONBOARDING; the default without PORTABOT_DEST_WABA_ID), "+
			"which needs %s; or set PORTABOT_ONBOARDING=fixed_waba or agent", strings.Join(missing, ", "))
	}
	return o, o.checkPublic(false)
}

// checkPublic refuses a public URL Meta would not return data to: Embedded
// Signup answers only pages on HTTPS domains the app allows.
func (o *onboarding) checkPublic(sandbox bool) error {
	if o.Public == "" {
		return nil
	}
	u, err := url.Parse(o.Public)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(sandbox && u.Scheme == "http")) || u.RawQuery != "" {
		return fmt.Errorf("PORTABOT_PUBLIC_URL must be an https:// base URL such as https://bot.example.com, not %q", o.Public)
	}
	o.base.Store(&o.Public)
	return nil
}

// signup is the engine's Embedded Signup configuration; nil in the other
// modes.
func (o *onboarding) signup(gc *graph.Client, st bot.TokenVault) *bot.SignupConfig {
	if o.Mode != onboardSignup {
		return nil
	}
	return &bot.SignupConfig{Link: o.link, TTL: o.TTL, Vault: st,
		Meta: graph.Signup{Client: gc, AppID: o.AppID, AppSecret: o.AppSecret}}
}

func (o *onboarding) link(token string) string {
	base := ""
	if p := o.base.Load(); p != nil {
		base = *p
	}
	return base + "/onboard/" + token
}

// register serves the signup page; changed wakes the senders after a
// completion stored news.
func (o *onboarding) register(mux *http.ServeMux, b *bot.Bot, changed func(), log *slog.Logger) error {
	if o.Mode != onboardSignup {
		log.Info("onboarding", "mode", o.Mode)
		return nil
	}
	// In sandbox mode the simulator's fixed WABA, logged at start, is
	// not used: each client's comes from the simulated signup.
	log.Info("onboarding", "mode", o.Mode, "app_id", o.AppID, "config_id", o.ConfigID, "sdk", o.SDK,
		"link_ttl", o.TTL.String())
	h, err := onboard.New(onboard.Config{AppID: o.AppID, ConfigID: o.ConfigID, GraphVersion: o.Version, SDK: o.SDK,
		Origins: o.Origins, Changed: changed, Logger: log}, b)
	if err != nil {
		return err
	}
	h.Register(mux)
	return nil
}

// listening makes links from the address serve listens on when no public
// URL was configured (sandbox mode).
func (o *onboarding) listening(addr string) {
	if o.base.Load() != nil {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	base := "http://" + net.JoinHostPort(host, port)
	o.base.Store(&base)
}
