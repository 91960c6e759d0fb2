package storage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A backup is one tar archive holding both store files and a manifest:
//
//	portabot.db-inbox     the inbox file, as bbolt's Tx.WriteTo copies it
//	portabot.db           the main file, likewise
//	portabot-backup.json  BackupManifest: the store id, sizes and SHA-256 of both
//
// The manifest comes last, so an archive cut short (a full disk, a dropped
// connection) has none and is refused whole. The seal key is not in it: a
// backup alone opens nothing sealed, and the key is kept, and moved, apart.
//
// Consistent across two files means: every message the store acknowledged
// before the snapshot is in the archive exactly once, either still waiting in
// its inbox or already processed in its main file, with the replies its turn
// made. The two snapshots are read transactions begun inbox first, then
// main, with the inbox's writer held between two commits. A message is taken
// out of the inbox only after the main-file commit of its turn is durable
// (see Commit); so a message missing from the inbox snapshot was processed
// before it, and the later main snapshot holds its turn. A message in the
// inbox snapshot and also processed in the main snapshot (its turn committed
// between the two) is a row whose id is processed, which Claim never hands
// out and removes. The other order would lose the messages processed
// between the two snapshots: gone from the inbox, not yet in the main file.
// Holding the inbox's writer while the snapshots begin, and while the caller
// answers (see WriteBackup), means every acknowledgement sent before the
// backup answered is in it.

const (
	backupFormat        = 1
	archiveMain         = "portabot.db"
	archiveInbox        = "portabot.db-inbox"
	archiveManifest     = "portabot-backup.json"
	maxManifestBytes    = 64 << 10
	restoreDirPrefix    = ".portabot-restore-"
	replacedSuffixStamp = "20060102T150405Z"
)

// BackupManifest describes a backup archive.
type BackupManifest struct {
	Format  int       `json:"format"`
	StoreID string    `json:"store_id"`
	Schema  int       `json:"schema"`
	TakenAt time.Time `json:"taken_at"`
	// MainBytes and InboxBytes are the sizes of the two files in the archive,
	// MainSHA256 and InboxSHA256 their digests (hex).
	MainBytes   int64  `json:"main_bytes"`
	InboxBytes  int64  `json:"inbox_bytes"`
	MainSHA256  string `json:"main_sha256,omitempty"`
	InboxSHA256 string `json:"inbox_sha256,omitempty"`
}

// WriteBackup writes a backup archive of both files to w while the store
// stays open and keeps committing. answered, when set, is called once both
// snapshots are taken and before the inbox takes its next commit, with the
// manifest so far (no digests yet): an HTTP handler sends its headers there,
// so that no acknowledgement it did not capture precedes its answer. It must
// be quick; acknowledgements wait for it. The inbox is copied first and its
// snapshot released, so that a main file of many megabytes does not keep the
// inbox from growing while it is copied.
func (db *DB) WriteBackup(w io.Writer, answered func(BackupManifest)) (BackupManifest, error) {
	m := BackupManifest{Format: backupFormat, TakenAt: db.now().UTC()}
	db.iw.commitMu.Lock()
	itx, err := db.ibolt.Begin(false)
	if err != nil {
		db.iw.commitMu.Unlock()
		return m, fmt.Errorf("storage: backup %s: %w", InboxPath(db.path), err)
	}
	mtx, err := db.bolt.Begin(false)
	if err != nil {
		db.iw.commitMu.Unlock()
		_ = itx.Rollback()
		return m, fmt.Errorf("storage: backup %s: %w", db.path, err)
	}
	defer func() { _ = mtx.Rollback() }()
	m.StoreID = string(mtx.Bucket(bucketMeta).Get(keyStoreID))
	m.Schema = storedSchema(mtx)
	m.MainBytes, m.InboxBytes = mtx.Size(), itx.Size()
	if answered != nil {
		answered(m)
	}
	db.iw.commitMu.Unlock()

	tw := tar.NewWriter(w)
	sum, err := writeEntry(tw, archiveInbox, itx, m.TakenAt)
	_ = itx.Rollback()
	if err != nil {
		return m, fmt.Errorf("storage: backup %s: %w", InboxPath(db.path), err)
	}
	m.InboxSHA256 = sum
	if m.MainSHA256, err = writeEntry(tw, archiveMain, mtx, m.TakenAt); err != nil {
		return m, fmt.Errorf("storage: backup %s: %w", db.path, err)
	}
	manifest, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: archiveManifest, Mode: 0o600, Size: int64(len(manifest)), ModTime: m.TakenAt}); err != nil {
		return m, fmt.Errorf("storage: backup: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return m, fmt.Errorf("storage: backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("storage: backup: %w", err)
	}
	return m, nil
}

// writeEntry copies the snapshot tx as the archive entry name and returns
// its SHA-256.
func writeEntry(tw *tar.Writer, name string, tx *bolt.Tx, at time.Time) (string, error) {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: tx.Size(), ModTime: at}); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := tx.WriteTo(io.MultiWriter(tw, h)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RestoreOptions tunes Restore.
type RestoreOptions struct {
	// Key is the seal key (PORTABOT_DB_KEY); with it, Restore checks that
	// the key opens the archive's inbox. Without it, that check is left to
	// serve's start.
	Key []byte
	// Force replaces a store that holds data (or cannot be opened); its
	// files are moved aside, not deleted.
	Force bool
	// Now stamps the names of files moved aside; time.Now when nil.
	Now func() time.Time
}

// RestoreReport says what Restore did.
type RestoreReport struct {
	Manifest BackupManifest
	// Cases and Waiting count the restored store's cases and the messages
	// waiting in its inbox.
	Cases, Waiting int
	// KeyChecked is set when the seal key was checked against the inbox.
	KeyChecked bool
	// MovedAside lists the files of the replaced store, kept under new names.
	MovedAside []string
}

// ErrStoreHoldsData is matched by Restore's error when the store at the
// target path holds cases, conversations or messages and Force is not set.
var ErrStoreHoldsData = errors.New("the store holds data")

// Restore replaces the store at path (both files) with the backup archive r,
// with serve stopped. Nothing at path changes until the archive has been read
// whole and checked: its manifest and digests, the two files' store
// identity, the key when given, and bbolt's consistency check of both. A
// store at path that holds data is refused unless o.Force, and is then moved
// aside, not deleted.
func Restore(r io.Reader, path string, o RestoreOptions) (RestoreReport, error) {
	var rep RestoreReport
	if o.Now == nil {
		o.Now = time.Now
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return rep, fmt.Errorf("storage: restore: %w", err)
	}
	holds, err := holdsData(path)
	if errors.Is(err, ErrLocked) {
		return rep, fmt.Errorf("storage: restore: %s is open in a running portabot; stop serve first: %w", path, err)
	}
	if err != nil && !o.Force {
		return rep, fmt.Errorf("storage: restore: the store at %s cannot be opened (%v); restore with --force to replace it (its files are kept under new names)", path, err)
	}
	if holds && !o.Force {
		return rep, fmt.Errorf("storage: restore: %s: %w (cases, conversations or waiting messages); restore with --force to replace it (its files are kept under new names)", path, ErrStoreHoldsData)
	}

	tmp, err := os.MkdirTemp(dir, restoreDirPrefix)
	if err != nil {
		return rep, fmt.Errorf("storage: restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	tmpMain := filepath.Join(tmp, filepath.Base(path))
	m, err := extractBackup(r, tmpMain)
	if err != nil {
		return rep, err
	}
	rep.Manifest = m
	if err := checkRestored(tmpMain, m, o.Key, &rep); err != nil {
		return rep, err
	}

	stamp := o.Now().UTC().Format(replacedSuffixStamp)
	for _, p := range []string{path, InboxPath(path)} {
		if _, err := os.Stat(p); err == nil {
			aside := p + ".replaced-" + stamp
			if err := os.Rename(p, aside); err != nil {
				return rep, fmt.Errorf("storage: restore: move %s aside: %w", p, err)
			}
			rep.MovedAside = append(rep.MovedAside, aside)
		}
	}
	// The inbox first: should the main file's rename not happen, Open
	// refuses the pair (no main file beside an inbox) instead of running
	// on a half-restored store.
	if err := os.Rename(InboxPath(tmpMain), InboxPath(path)); err != nil {
		return rep, fmt.Errorf("storage: restore: put %s in place: %w", InboxPath(path), err)
	}
	if err := os.Rename(tmpMain, path); err != nil {
		return rep, fmt.Errorf("storage: restore: put %s in place: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return rep, nil
}

// holdsData reports whether the store at path holds a case, a conversation
// or a waiting message. A store with no files holds nothing.
func holdsData(path string) (bool, error) {
	ms, _, err := statFile(path)
	if err != nil {
		return false, err
	}
	is, _, err := statFile(InboxPath(path))
	if err != nil {
		return false, err
	}
	if ms == fileMissing && is == fileMissing {
		return false, nil
	}
	if _, _, err := checkFiles(path); err != nil {
		return false, err
	}
	// Read-only, so that a refused restore leaves the files as they were;
	// bbolt's shared lock still fails while serve holds the files.
	holds := false
	for _, f := range []struct {
		path    string
		buckets [][]byte
	}{{path, [][]byte{bucketCases, bucketConversations}}, {InboxPath(path), [][]byte{bucketInbox}}} {
		if st, _, _ := statFile(f.path); st == fileMissing {
			continue
		}
		bdb, err := openBolt(f.path, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
		if err != nil {
			return false, err
		}
		err = bdb.View(func(tx *bolt.Tx) error {
			for _, name := range f.buckets {
				if b := tx.Bucket(name); b != nil {
					if k, _ := b.Cursor().First(); k != nil {
						holds = true
					}
				}
			}
			return nil
		})
		_ = bdb.Close()
		if err != nil {
			return false, err
		}
	}
	return holds, nil
}

// extractBackup reads the archive r into the two files of the store at
// mainPath (into nothing when mainPath is empty) and returns its manifest, checked against what it read.
func extractBackup(r io.Reader, mainPath string) (BackupManifest, error) {
	var m BackupManifest
	bad := func(why string) error {
		return fmt.Errorf("storage: restore: not a whole portabot backup (%s); take a new one with portabot backup", why)
	}
	tr := tar.NewReader(r)
	sums := map[string]string{}
	sizes := map[string]int64{}
	var manifest []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, bad(err.Error())
		}
		// Only plain files: a sparse entry would make the reader produce
		// as many zeros as its header claims, gigabytes from a few bytes.
		if h.Typeflag != tar.TypeReg {
			return m, bad(fmt.Sprintf("entry %q is not a plain file", h.Name))
		}
		for k := range h.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse") {
				return m, bad(fmt.Sprintf("entry %q is sparse", h.Name))
			}
		}
		if _, dup := sums[h.Name]; dup || (h.Name == archiveManifest && manifest != nil) {
			return m, bad("entry " + h.Name + " appears twice")
		}
		switch h.Name {
		case archiveManifest:
			if h.Size > maxManifestBytes {
				return m, bad("manifest too large")
			}
			if manifest, err = io.ReadAll(io.LimitReader(tr, maxManifestBytes)); err != nil {
				return m, bad(err.Error())
			}
		case archiveMain, archiveInbox:
			dst := mainPath
			if h.Name == archiveInbox && mainPath != "" {
				dst = InboxPath(mainPath)
			}
			src := &readErr{r: tr}
			sum, n, err := copyFile(dst, src)
			if src.err != nil {
				return m, bad(h.Name + ": " + src.err.Error())
			}
			if err != nil {
				return m, err
			}
			sums[h.Name], sizes[h.Name] = sum, n
		default:
			return m, bad(fmt.Sprintf("unexpected entry %q", h.Name))
		}
	}
	if manifest == nil {
		return m, bad("no manifest: the archive was cut short")
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return m, bad("unreadable manifest: " + err.Error())
	}
	if m.Format != backupFormat {
		return m, fmt.Errorf("storage: restore: backup format %d, this portabot reads format %d; restore it with the portabot version that took it", m.Format, backupFormat)
	}
	for _, f := range []struct {
		name, sum string
		size      int64
	}{{archiveMain, m.MainSHA256, m.MainBytes}, {archiveInbox, m.InboxSHA256, m.InboxBytes}} {
		got, ok := sums[f.name]
		if !ok {
			return m, bad("no " + f.name)
		}
		if got != f.sum || sizes[f.name] != f.size {
			return m, bad(f.name + " does not match its digest in the manifest")
		}
	}
	return m, nil
}

// readErr remembers its reader's error, so that an archive cut short is
// told apart from a disk that cannot take the restored files.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// VerifyBackup reads a backup archive whole and checks it against its
// manifest, which it returns; it writes nothing. It does not open the files
// (Restore does): it tells a whole archive from one cut short or altered.
func VerifyBackup(r io.Reader) (BackupManifest, error) {
	return extractBackup(r, "")
}

// copyFile writes r to a new file at path (to nothing when path is empty), synced, and returns its SHA-256
// and length.
func copyFile(path string, r io.Reader) (string, int64, error) {
	if path == "" {
		h := sha256.New()
		n, err := io.Copy(h, r)
		return hex.EncodeToString(h.Sum(nil)), n, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("storage: restore: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("storage: restore: write %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkRestored opens the extracted store as serve would (both files of
// one store, the key when given) and runs bbolt's consistency check.
func checkRestored(mainPath string, m BackupManifest, key []byte, rep *RestoreReport) error {
	opts := []Option{WithLockTimeout(time.Second)}
	if key != nil {
		opts = append(opts, WithSealKey(key))
		rep.KeyChecked = true
	}
	db, err := Open(mainPath, opts...)
	if err != nil {
		return fmt.Errorf("storage: restore: the backup does not open: %w", err)
	}
	defer db.Close()
	var id []byte
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		id = bytes.Clone(tx.Bucket(bucketMeta).Get(keyStoreID))
		return nil
	})
	if m.StoreID != "" && string(id) != m.StoreID {
		return fmt.Errorf("storage: restore: the backup's files carry store id %s, its manifest %s; take a new backup", id, m.StoreID)
	}
	if problems := db.Check(); len(problems) > 0 {
		return fmt.Errorf("storage: restore: the backup fails bbolt's consistency check (%d problems; first: %v); take a new backup", len(problems), problems[0])
	}
	cases, err := db.Cases(context.Background())
	if err != nil {
		return fmt.Errorf("storage: restore: read the backup's cases: %w", err)
	}
	rep.Cases = len(cases)
	if rep.Waiting, err = db.InboxDepth(context.Background()); err != nil {
		return fmt.Errorf("storage: restore: read the backup's inbox: %w", err)
	}
	return nil
}
