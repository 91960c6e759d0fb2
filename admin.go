package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"portabot/storage"
)

// The admin socket
//
// bbolt locks both store files for the one process that has them open, so
// while serve runs no other command can read them. Commands that must work
// on a running serve (backup, export) ask it instead, over a unix socket
// beside the store (adminSocketPath), never over the public port: a backup
// holds every client's data, and the socket is reachable only from the same
// machine (or container), only by the user serve runs as (mode 0600), with
// no token to leak. A serve on PostgreSQL opens no socket: the database's
// own tools (pg_dump) back it up, and any replica may answer an export.

// adminSocketPath is where serve, on the bbolt file db, listens for local
// admin requests.
func adminSocketPath(db string) string { return db + ".admin.sock" }

// startAdmin serves the admin socket of the store st at db until the
// returned stop is called. A socket that cannot be opened is logged, not
// fatal: serving clients matters more than a backup taken from outside.
func startAdmin(db string, st serveStore, log *slog.Logger) (stop func()) {
	bs, ok := st.(boltStore)
	if !ok {
		return func() {}
	}
	path := adminSocketPath(db)
	// serve holds the store's lock, so a socket left here is a killed
	// serve's, and nobody answers on it.
	_ = os.Remove(path)
	ln, err := listenPrivate(path)
	if err != nil {
		log.Error("admin socket not opened: portabot backup and export cannot reach this serve; stop serve to back up its files", "socket", path, "error", err)
		return func() {}
	}
	srv := &http.Server{Handler: adminMux(bs.DB, st, log), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	log.Info("admin socket listening (backup, export)", "socket", path)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		_ = os.Remove(path)
	}
}

// listenPrivate listens on a unix socket at path that only this user can
// connect to. The socket is made in a private directory and chmodded there,
// then moved into place, so that nobody can connect in between.
func listenPrivate(path string) (net.Listener, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".portabot-admin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	ln, err := net.Listen("unix", filepath.Join(tmp, "s"))
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(filepath.Join(tmp, "s"), 0o600); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if err := os.Rename(filepath.Join(tmp, "s"), path); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

// adminMux answers GET /backup (a backup archive, one at a time) and GET
// /export/{case} (a case as JSON).
func adminMux(db *storage.DB, st serveStore, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	busy := make(chan struct{}, 1)
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		select {
		case busy <- struct{}{}:
			defer func() { <-busy }()
		default:
			http.Error(w, "a backup is already being taken; wait for it to finish", http.StatusConflict)
			return
		}
		start := time.Now()
		m, err := db.WriteBackup(w, func(m storage.BackupManifest) {
			h := w.Header()
			h.Set("Content-Type", "application/x-tar")
			h.Set(headerStoreID, m.StoreID)
			h.Set(headerTakenAt, m.TakenAt.Format(time.RFC3339Nano))
			w.WriteHeader(http.StatusOK)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		})
		if err != nil {
			// The archive is cut short, without its manifest, so the
			// client and any restore refuse it.
			log.Error("backup failed", "error", err)
			return
		}
		log.Info("backup taken", "store_id", m.StoreID, "main_bytes", m.MainBytes, "inbox_bytes", m.InboxBytes,
			"took", time.Since(start).String())
	})
	mux.HandleFunc("GET /export/{case}", func(w http.ResponseWriter, r *http.Request) {
		serveExport(w, r, st, r.PathValue("case"), r.URL.Query().Get("unmasked") == "1", log)
	})
	return mux
}

const (
	headerStoreID = "X-Portabot-Store-Id"
	headerTakenAt = "X-Portabot-Snapshot-At"
)

// errNoServe is matched when no serve answers on the admin socket.
var errNoServe = errors.New("no serve is running on this store")

// adminClient returns an HTTP client whose every request goes to the admin
// socket of the serve running on db.
func adminClient(db string, timeout time.Duration) *http.Client {
	path := adminSocketPath(db)
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", path)
			if err != nil {
				return nil, fmt.Errorf("%w (%v)", errNoServe, err)
			}
			return c, nil
		},
	}}
}
