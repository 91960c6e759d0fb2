package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/adapters/terminal"
	"portabot/bot"
	"portabot/faq"
	"portabot/storage"
)

// usernameClient is the client chat --username plays: known by a username
// and a BSUID only, as Meta names a client who adopted a username and whose
// number it does not share. The BSUID is derived from the username, so the
// same name is the same client in every session.
func usernameClient(name string) (terminal.Chat, error) {
	name = "@" + strings.TrimPrefix(strings.TrimSpace(name), "@")
	if len(name) < 2 || len(name) > 36 || strings.ContainsAny(name[1:], " @\t\n") {
		return terminal.Chat{}, fmt.Errorf("%w: --username must be a WhatsApp username like @ana.lima", errUsage)
	}
	sum := sha256.Sum256([]byte(strings.ToLower(name)))
	id := new(big.Int).SetBytes(sum[:8]).String()
	return terminal.Chat{UserID: "BR." + id, Username: name}, nil
}

// sandboxWABA is the destination account the simulator knows, used by chat
// when PORTABOT_DEST_WABA_ID is not set so a port can run to the end.
const sandboxWABA = metasim.SandboxWABA

func runChat(ctx context.Context, env environment, args []string) error {
	fs := newFlags("chat", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "bbolt file")
	langFlag := fs.String("lang", "", "language before the first message shows the client's (en, pt, es)")
	phone := fs.String("phone", "+5511999990001", "the simulated client's WhatsApp number")
	server := fs.String("server", "", "talk to a running serve (sandbox mode) at this URL through signed webhooks")
	username := fs.String("username", "", "be a client with this WhatsApp username (@name), known to the bot only by a business-scoped user id, without a phone number")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lang := bot.English
	if *langFlag != "" {
		l, ok := bot.ParseLang(*langFlag)
		if !ok {
			return fmt.Errorf("%w: --lang must be en, pt or es", errUsage)
		}
		lang = l
	}
	from := strings.TrimPrefix(strings.TrimSpace(*phone), "+")
	if from == "" || strings.Trim(from, "0123456789") != "" {
		return fmt.Errorf("%w: --phone must be a number like +5511999990001", errUsage)
	}
	who := terminal.Chat{From: from}
	if *username != "" {
		u, err := usernameClient(*username)
		if err != nil {
			return err
		}
		who = u
	}
	if *server != "" {
		return runRemoteChat(ctx, env, who, strings.TrimRight(*server, "/"))
	}

	simState := *db + ".sim.json"
	if _, err := os.Stat(*db); errors.Is(err, os.ErrNotExist) {
		// A new database starts a new story: a simulated Meta that still
		// remembered numbers from an old one would refuse to add them again.
		_ = os.Remove(simState)
	}
	st, err := storage.Open(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	level, err := logLevel(env.getenv, slog.LevelWarn)
	if err != nil {
		return err
	}
	log := newLogger(env.stderr, level)
	if st.Created() {
		log.Info("first start: created the store files", "db", *db, "inbox", storage.InboxPath(*db))
	}

	token := randomHex(16)
	sim, err := metasim.New(metasim.Options{
		Token:     token,
		OTP:       env.getenv("PORTABOT_SANDBOX_OTP"),
		Deliver:   metasim.PrintTo(env.stdout),
		StatePath: simState,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	base, stop, err := listenLocal(sim)
	if err != nil {
		return err
	}
	defer stop()

	version := env.getenv("PORTABOT_GRAPH_VERSION")
	if version == "" {
		version = "v25.0"
	}
	gc := graph.New(graph.Config{BaseURL: base, Version: version, Token: token, Timeout: 10 * time.Second, Logger: log})
	waba := env.getenv("PORTABOT_DEST_WABA_ID")
	if waba == "" {
		waba = sandboxWABA
	}
	b := bot.New(st, gc, faq.Default(), bot.Config{
		DestWABA: waba,
		Region:   env.getenv("PORTABOT_DEFAULT_REGION"),
		Lang:     lang,
		NoAgents: true,
	}, log)

	c := &terminal.Chat{Bot: b, From: who.From, UserID: who.UserID, Username: who.Username, In: env.stdin, Out: env.stdout}
	if env.interactive {
		c.Prompt = "you: "
		fmt.Fprintln(env.stdout, "portabot chat: sandbox mode, Meta is simulated. Type hi to start, help for the words I know, Ctrl-D to leave.")
	}
	outs, err := b.Recover(ctx)
	if err != nil {
		return err
	}
	for _, o := range outs {
		if o.To == from {
			c.Print(o.Replies)
		}
	}
	return c.Run(ctx)
}

// listenLocal serves h on a loopback port and returns its base URL.
func listenLocal(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("simulator stopped", "error", err)
		}
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runRemoteChat(ctx context.Context, env environment, who terminal.Chat, server string) error {
	secret := env.getenv("PORTABOT_META_APP_SECRET")
	if secret == "" {
		return errors.New("chat --server signs webhooks with PORTABOT_META_APP_SECRET: set it to the sandbox_app_secret serve logged at start (or the one you gave it)")
	}
	phoneID := env.getenv("PORTABOT_WA_PHONE_NUMBER_ID")
	if phoneID == "" {
		phoneID = sandboxPhoneNumberID
	}
	r := &remote{server: server, secret: secret, phoneID: phoneID, out: env.stdout,
		client: &http.Client{Timeout: 10 * time.Second}, quiet: 700 * time.Millisecond, timeout: 20 * time.Second}
	if err := r.skipSeen(ctx); err != nil {
		return err
	}
	c := &terminal.Chat{Bot: r, From: who.From, UserID: who.UserID, Username: who.Username, In: env.stdin, Out: env.stdout}
	if env.interactive {
		c.Prompt = "you: "
		fmt.Fprintf(env.stdout, "portabot chat: talking to %s through signed webhooks. Ctrl-D to leave.\n", server)
	}
	return c.Run(ctx)
}
