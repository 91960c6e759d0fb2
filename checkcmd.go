package main

import (
	"fmt"
	"os"

	"portabot/storage"
)

// runCheck is `portabot check`: it opens the store as serve would (which
// checks the files belong together and the key opens the inbox) and runs
// bbolt's consistency check over both files. Run it with serve stopped:
// the files are locked while serve runs.
func runCheck(env environment, args []string) error {
	fs := newFlags("check", env.stderr)
	db := fs.String("db", dbPath(env.getenv), "bbolt file (PORTABOT_DB)")
	newInbox := fs.Bool("new-inbox", false, "create an empty inbox beside a main file restored from a backup")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(*db); err != nil {
		return fmt.Errorf("no store at %s (%v); give its path with --db or PORTABOT_DB", *db, err)
	}
	var opts []storage.Option
	if v := env.getenv("PORTABOT_DB_KEY"); v != "" {
		key, err := storage.ParseKey(v)
		if err != nil {
			return fmt.Errorf("PORTABOT_DB_KEY: %w", err)
		}
		opts = append(opts, storage.WithSealKey(key))
	} else if _, err := os.Stat(*db + ".key"); err == nil {
		// A sandbox store keeps its key beside it.
		key, err := storage.LoadOrCreateKey(*db + ".key")
		if err != nil {
			return err
		}
		opts = append(opts, storage.WithSealKey(key))
	}
	if *newInbox {
		opts = append(opts, storage.WithNewInbox())
	}
	st, err := storage.Open(*db, opts...)
	if err != nil {
		return err
	}
	defer st.Close()
	problems := st.Check()
	for _, p := range problems {
		fmt.Fprintln(env.stdout, "problem:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) in the store; stop portabot and restore both files from a backup", len(problems))
	}
	fmt.Fprintf(env.stdout, "%s and %s: consistent\n", *db, storage.InboxPath(*db))
	return nil
}
