package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// secretVars are never printed, whatever asks: they grant access to Meta,
// to Slack, or to the clients' stored messages.
var secretVars = map[string]bool{
	"PORTABOT_META_ACCESS_TOKEN":    true,
	"PORTABOT_META_APP_SECRET":      true,
	"PORTABOT_META_VERIFY_TOKEN":    true,
	"PORTABOT_DB_KEY":               true,
	"PORTABOT_SLACK_SIGNING_SECRET": true,
	"PORTABOT_SLACK_BOT_TOKEN":      true,
	"PORTABOT_SLACK_APP_TOKEN":      true,
}

// runConfig is `portabot config check`: serve's effective configuration,
// secrets redacted, and every problem serve would refuse to start with.
func runConfig(env environment, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: portabot config check [--sandbox]", errUsage)
	}
	fs := newFlags("config check", env.stderr)
	sandbox := fs.Bool("sandbox", false, "check as serve --sandbox would run")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadServeConfig(withSandboxFlag(env.getenv, *sandbox))
	var ce *configError
	if err != nil && !errors.As(err, &ce) {
		return err
	}
	graphURL := cfg.GraphURL
	if graphURL == "" {
		graphURL = "https://graph.facebook.com"
	}
	mode := "production (Meta at " + graphURL + ")"
	if cfg.Sandbox {
		mode = "sandbox (Meta simulated; secrets left unset are generated at start)"
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "mode\t%s\n", mode)
	rows := [][2]string{
		{"PORTABOT_ADDR", cfg.Addr},
		{"PORTABOT_DB", cfg.DB},
		{"PORTABOT_GRAPH_URL", cfg.GraphURL},
		{"PORTABOT_GRAPH_VERSION", cfg.GraphVersion},
		{"PORTABOT_META_ACCESS_TOKEN", cfg.Token},
		{"PORTABOT_META_APP_SECRET", cfg.AppSecret},
		{"PORTABOT_META_VERIFY_TOKEN", cfg.VerifyToken},
		{"PORTABOT_WA_PHONE_NUMBER_ID", cfg.PhoneNumberID},
		{"PORTABOT_DB_KEY", cfg.DBKey},
		{"PORTABOT_DEST_WABA_ID", cfg.DestWABA},
		{"PORTABOT_DEFAULT_REGION", cfg.Region},
		{"PORTABOT_WORKERS", strconv.Itoa(cfg.Workers)},
		{"PORTABOT_MIN_FREE", strconv.FormatUint(cfg.MinFree, 10) + " bytes"},
		{"PORTABOT_SEND_GRACE", cfg.SendGrace.String()},
		{"PORTABOT_OUTBOX_RETENTION", cfg.OutboxRetention.String()},
		{"PORTABOT_RETENTION", cfg.Retention.String()},
		{"PORTABOT_LEASE_TTL", cfg.LeaseTTL.String()},
		{"PORTABOT_LOG_LEVEL", cfg.LogLevel.String()},
		{"PORTABOT_PPROF_ADDR", cfg.PprofAddr},
		{"PORTABOT_SLACK_SIGNING_SECRET", cfg.Slack.SigningSecret},
		{"PORTABOT_SLACK_BOT_TOKEN", cfg.Slack.BotToken},
		{"PORTABOT_SLACK_APP_TOKEN", cfg.Slack.AppToken},
		{"PORTABOT_SLACK_CHANNEL", cfg.Slack.Channel},
		{"PORTABOT_SLACK_TEAM_ID", cfg.Slack.TeamID},
		{"PORTABOT_SLACK_AGENTS", strings.Join(cfg.Slack.Agents, ",")},
		{"PORTABOT_SLACK_RETRY", cfg.SlackRetry.String()},
	}
	for _, r := range rows {
		v := r[1]
		switch {
		case v == "":
			v = "(unset)"
		case secretVars[r[0]]:
			v = "(set, redacted)"
		}
		fmt.Fprintf(tw, "%s\t%s\n", r[0], v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ce == nil {
		fmt.Fprintln(env.stdout, "no problems found")
		return nil
	}
	fmt.Fprintf(env.stdout, "%d problem(s):\n", len(ce.problems))
	for _, p := range ce.problems {
		fmt.Fprintln(env.stdout, "  - "+p)
	}
	return fmt.Errorf("configuration check found %d problem(s); fix them and run portabot config check again", len(ce.problems))
}
