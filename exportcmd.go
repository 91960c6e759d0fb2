package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"portabot/bot"
	"portabot/storage"
	"portabot/storage/postgres"
)

// runExport prints a case as JSON (bot.CaseExport): from the running serve,
// through its admin socket, or from the store files when serve is stopped.
func runExport(ctx context.Context, env environment, args []string) error {
	fs := newFlags("export", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "bbolt file (PORTABOT_DB)")
	unmasked := fs.Bool("unmasked", false, "print the client's and the ported number in full")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: portabot export [--db FILE] [--unmasked] CASE", errUsage)
	}
	id := fs.Arg(0)
	if isPostgres(*db) {
		st, err := openServeStore(ctx, *db, nil, postgres.DefaultLeaseTTL)
		if err != nil {
			return err
		}
		defer st.Close()
		return printExport(ctx, env.stdout, st, id, *unmasked)
	}
	q := ""
	if *unmasked {
		q = "?unmasked=1"
	}
	resp, err := adminClient(*db, 30*time.Second).Get("http://portabot/export/" + url.PathEscape(id) + q)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return fmt.Errorf("export case %s: %s", id, msg)
		}
		_, err = io.Copy(env.stdout, resp.Body)
		return err
	}
	if !errors.Is(err, errNoServe) {
		return fmt.Errorf("export case %s from the running serve: %w", id, err)
	}
	if _, err := os.Stat(*db); err != nil {
		return fmt.Errorf("export: no store at %s (and no serve running on it): %w", *db, err)
	}
	st, err := storage.Open(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	return printExport(ctx, env.stdout, st, id, *unmasked)
}

func printExport(ctx context.Context, w io.Writer, st bot.Store, id string, unmasked bool) error {
	x, err := bot.ExportCase(ctx, st, id, unmasked)
	if errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("no case %s; portabot cases lists them", id)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(x)
}

// serveExport answers an export asked through the admin socket.
func serveExport(w http.ResponseWriter, r *http.Request, st bot.Store, id string, unmasked bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	x, err := bot.ExportCase(ctx, st, id, unmasked)
	if errors.Is(err, bot.ErrNotFound) {
		http.Error(w, fmt.Sprintf("no case %s; portabot cases lists them", id), http.StatusNotFound)
		return
	}
	if err != nil {
		log.Error("export a case", "case", id, "error", err)
		http.Error(w, "the store could not be read; see serve's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(x)
}
