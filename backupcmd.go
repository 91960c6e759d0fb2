package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"portabot/storage"
)

// runBackup writes a backup archive of the store (both files, consistent,
// without the key) to FILE: taken by the running serve through its admin
// socket, or from the files themselves when serve is stopped.
func runBackup(ctx context.Context, env environment, args []string) error {
	fs := newFlags("backup", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "bbolt file (PORTABOT_DB)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: portabot backup [--db FILE] FILE", errUsage)
	}
	if isPostgres(*db) {
		return errors.New("backup: the store is PostgreSQL; back it up with pg_dump (see README, Backup and restore)")
	}
	m, n, err := takeBackup(ctx, *db, fs.Arg(0), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "backup of %s (store %s, snapshot %s): %d bytes in %s\n"+
		"the seal key is not in it: keep PORTABOT_DB_KEY apart; restore with: portabot restore --db %s %s\n",
		*db, m.StoreID, m.TakenAt.Format(time.RFC3339), n, fs.Arg(0), *db, fs.Arg(0))
	return nil
}

// takeBackup writes the archive of the store at db to dst: a file that did
// not exist, written under a temporary name, synced and read back whole
// before it takes dst's name, so that dst is either a checked backup or
// absent. answered is called when the running serve answered (its snapshot
// is taken); with serve stopped, when the files are open.
func takeBackup(ctx context.Context, db, dst string, answered func()) (storage.BackupManifest, int64, error) {
	var m storage.BackupManifest
	if _, err := os.Stat(dst); err == nil {
		return m, 0, fmt.Errorf("backup: %s exists; name a new file", dst)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-")
	if err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	err = fetchBackup(ctx, db, tmp, answered)
	if errors.Is(err, errNoServe) {
		err = backupFiles(db, tmp, answered)
	}
	if err != nil {
		return m, 0, err
	}
	if err := tmp.Sync(); err != nil {
		return m, 0, fmt.Errorf("backup: write %s: %w", dst, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	if m, err = storage.VerifyBackup(tmp); err != nil {
		return m, 0, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	return m, fi.Size(), nil
}

// fetchBackup asks the serve running on db for a backup and copies it to w.
func fetchBackup(ctx context.Context, db string, w io.Writer, answered func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://portabot/backup", nil)
	if err != nil {
		return err
	}
	resp, err := adminClient(db, 0).Do(req)
	if err != nil {
		if errors.Is(err, errNoServe) {
			return err
		}
		return fmt.Errorf("backup: ask the running serve: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup: the running serve answered %s: %s", resp.Status, msg)
	}
	if answered != nil {
		answered()
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("backup: copy from the running serve: %w", err)
	}
	return nil
}

// backupFiles backs up the store at db with serve stopped.
func backupFiles(db string, w io.Writer, answered func()) error {
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("backup: no store at %s (and no serve running on it): %w", db, err)
	}
	st, err := storage.Open(db)
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("backup: %s is held by a portabot process that does not answer on %s (a serve older than backups, or another command); stop it, or wait for it: %w", db, adminSocketPath(db), err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.WriteBackup(w, func(storage.BackupManifest) {
		if answered != nil {
			answered()
		}
	})
	return err
}

// runRestore replaces the store at --db with a backup archive, with serve
// stopped. The seal key, when configured (PORTABOT_DB_KEY, or in sandbox
// mode the key file beside the store), is checked against the archive.
func runRestore(env environment, args []string) error {
	fs := newFlags("restore", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "bbolt file to restore into (PORTABOT_DB)")
	force := fs.Bool("force", false, "replace a store that holds data (its files are kept under new names)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: portabot restore [--db FILE] [--force] BACKUP", errUsage)
	}
	if isPostgres(*db) {
		return errors.New("restore: the store is PostgreSQL; restore it with pg_restore (see README, Backup and restore)")
	}
	var key []byte
	if v := env.getenv("PORTABOT_DB_KEY"); v != "" {
		k, err := storage.ParseKey(v)
		if err != nil {
			return fmt.Errorf("PORTABOT_DB_KEY: %w", err)
		}
		key = k
	} else if _, err := os.Stat(*db + ".key"); err == nil {
		k, err := storage.LoadOrCreateKey(*db + ".key")
		if err != nil {
			return err
		}
		key = k
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	rep, err := storage.Restore(f, *db, storage.RestoreOptions{Key: key, Force: *force})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "restored %s from %s (store %s, snapshot %s): %d cases, %d messages waiting\n",
		*db, fs.Arg(0), rep.Manifest.StoreID, rep.Manifest.TakenAt.Format(time.RFC3339), rep.Cases, rep.Waiting)
	for _, p := range rep.MovedAside {
		fmt.Fprintf(env.stdout, "the replaced file is kept as %s\n", p)
	}
	if !rep.KeyChecked {
		fmt.Fprintln(env.stdout, "the seal key was not checked (PORTABOT_DB_KEY unset): serve checks it when it starts")
	}
	return nil
}
