// Command portabot moves WhatsApp Business numbers between BSPs: clients
// chat with it on WhatsApp, agents steer it from Slack. This file owns the
// command line: it reads the configuration, opens the store and wires the
// adapters to the engine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
	"time"

	"portabot/bot"
	"portabot/fsm"
	"portabot/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := environment{args: os.Args[1:], getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		env.interactive = true
	}
	if err := run(ctx, env); err != nil {
		fmt.Fprintln(os.Stderr, "portabot:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// environment is everything the process gets from outside, so tests can run
// the whole command in-process.
type environment struct {
	args   []string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// interactive is set when stdin is a terminal (prompts are shown).
	interactive bool
	// listening, when set, is told serve's address once it accepts
	// connections (tests listen on port 0).
	listening func(addr string)
}

var errUsage = errors.New("usage")

const usage = `portabot moves a WhatsApp Business number from another BSP to us.

Usage:
  portabot chat [--db FILE] [--lang en|pt|es] [--phone +NUMBER | --username @NAME]
                                                                  the whole bot in a terminal (simulated Meta)
  portabot serve [--addr :8080] [--db FILE] [--sandbox]           the HTTP server (--sandbox: Meta simulated)
  portabot config check [--sandbox]                               serve's effective configuration (secrets redacted) and its problems
  portabot check [--db FILE]                                      bbolt's consistency check of the store files
  portabot faq ask [--json] [--lang en|pt|es] QUESTION            answer one question
  portabot faq eval FILE                                          accuracy over JSON lines {"q":..,"intent":..}
  portabot cases [--json] [--db FILE]                             list cases
  portabot forget [--db FILE] [--by NAME] --yes +NUMBER|CASE      erase a client and their cases (bbolt: with serve stopped)
  portabot migrate [--status] [--db postgres://…]                 show and apply PostgreSQL schema migrations
  portabot store copy --from FILE --to postgres://…               copy a stopped deployment's bbolt file to PostgreSQL, verified
  portabot backup [--db FILE] FILE                                a consistent backup of both store files (serve running or not; not the key)
  portabot restore [--db FILE] [--force] FILE                     with serve stopped: replace the store with a backup, checked first
  portabot export [--db FILE] [--unmasked] CASE                   a case's history as JSON (states, timeline, Graph outcomes, agents)
  portabot flow                                                   the conversation as a Mermaid diagram
  portabot templates [--name NAME]                                the message templates to submit to Meta (JSON lines)
  portabot bench [--conns 8,128] [--requests N] [--clients N]     measure serve against reference servers (JSON)
  portabot version

Configuration comes from PORTABOT_* environment variables (see README.md).
`

func run(ctx context.Context, env environment) error {
	if err := dispatch(ctx, env); !errors.Is(err, errHelp) {
		return err
	}
	return nil
}

// wantsHelp reports whether args ask for help, for the commands that take
// no flags of their own.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

func dispatch(ctx context.Context, env environment) error {
	if len(env.args) == 0 {
		fmt.Fprint(env.stderr, usage)
		return errUsage
	}
	cmd, args := env.args[0], env.args[1:]
	if (cmd == "flow" || cmd == "version" || cmd == "faq" || cmd == "config") && wantsHelp(args) {
		fmt.Fprint(env.stdout, usage)
		return nil
	}
	switch cmd {
	case "chat":
		return runChat(ctx, env, args)
	case "serve":
		return runServe(ctx, env, args)
	case "faq":
		return runFAQ(env, args)
	case "config":
		return runConfig(env, args)
	case "check":
		return runCheck(env, args)
	case "cases":
		return runCases(ctx, env, args)
	case "forget":
		return runForget(ctx, env, args)
	case "migrate":
		return runMigrate(ctx, env, args)
	case "store":
		return runStore(ctx, env, args)
	case "backup":
		return runBackup(ctx, env, args)
	case "restore":
		return runRestore(env, args)
	case "export":
		return runExport(ctx, env, args)
	case "bench":
		return runBench(ctx, env, args)
	case "flow":
		fmt.Fprint(env.stdout, fsm.Mermaid())
		return nil
	case "templates":
		return runTemplates(env, args)
	case "version":
		fmt.Fprintln(env.stdout, "portabot", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(env.stdout, usage)
		return nil
	}
	fmt.Fprint(env.stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// newFlags returns a flag set that reports errors as usage errors rather
// than exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// errHelp is returned by parseFlags when help was asked for and printed:
// the command must stop there, touching nothing, and run reports success.
var errHelp = errors.New("help printed")

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// caseView is a case as `portabot cases` shows it: the phone masked,
// nothing a client typed.
type caseView struct {
	ID    string    `json:"id"`
	State fsm.State `json:"state"`
	// Client is who asked for the port: username, or number masked.
	Client   string    `json:"client"`
	Phone    string    `json:"phone"`
	WABA     string    `json:"waba"`
	Blocked  string    `json:"blocked,omitempty"`
	Problem  string    `json:"problem,omitempty"`
	TraceID  string    `json:"fbtrace_id,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	Closed   time.Time `json:"closed,omitzero"`
	Language bot.Lang  `json:"lang"`
}

func runCases(ctx context.Context, env environment, args []string) error {
	fs := newFlags("cases", env.stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	db := fs.String("db", dbPath(env.getenv), "bbolt file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := storage.Open(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	cases, err := readCases(ctx, st)
	if err != nil {
		return err
	}
	views := make([]caseView, 0, len(cases))
	for _, c := range cases {
		phone := ""
		if c.Phone != "" {
			phone = bot.MaskPhone(c.Phone)
		}
		views = append(views, caseView{ID: c.ID, State: c.State, Client: c.Who(), Phone: phone, WABA: c.WABA, Blocked: string(c.Blocked),
			Problem: c.Problem, TraceID: c.TraceID, Created: c.Created, Updated: c.Updated, Closed: c.Closed, Language: c.Lang})
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	}
	if len(views) == 0 {
		fmt.Fprintln(env.stdout, "no cases")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCLIENT\tPHONE\tWABA\tCREATED\tUPDATED")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.State, v.Client, v.Phone, v.WABA,
			v.Created.Local().Format(time.DateTime), v.Updated.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// readCases reads every case; bbolt panics on a damaged page, which is
// here an error naming the file and the way out, not a crash.
func readCases(ctx context.Context, st *storage.DB) (cases []bot.Case, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s is damaged (%v); run portabot check, and restore the store from a backup", st.Path(), v)
		}
	}()
	return st.Cases(ctx)
}

func dbPath(getenv func(string) string) string {
	if p := getenv("PORTABOT_DB"); p != "" {
		return p
	}
	return "portabot.db"
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// logLevel reads PORTABOT_LOG_LEVEL.
func logLevel(getenv func(string) string, def slog.Level) (slog.Level, error) {
	v := getenv("PORTABOT_LOG_LEVEL")
	if v == "" {
		return def, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return def, fmt.Errorf("PORTABOT_LOG_LEVEL must be debug, info, warn or error, not %q", v)
	}
	return l, nil
}

// runTemplates prints the bodies of POST /{WABA_ID}/message_templates for
// the template that re-opens a conversation after 24 hours, one JSON
// object a line, a line per language: Meta approves each translation.
func runTemplates(env environment, args []string) error {
	fs := newFlags("templates", env.stderr)
	name := fs.String("name", env.getenv("PORTABOT_TEMPLATE_UPDATE"), "the template's name (PORTABOT_TEMPLATE_UPDATE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	for _, d := range bot.UpdateTemplates(*name) {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return nil
}
