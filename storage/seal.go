package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a seal key: AES-256.
const KeySize = 32

// WithSealKey sets the key that seals client text at rest (the inbox). It must
// be KeySize bytes; Open refuses any other length. Without a key the store
// still keeps conversations and cases, but Enqueue refuses to store messages.
func WithSealKey(key []byte) Option {
	// Copied so that a caller clearing or reusing its slice cannot change
	// the key under an open store.
	k := append([]byte(nil), key...)
	return func(o *options) { o.sealKey, o.sealKeySet = k, true }
}

// newSealer returns AES-256-GCM with a random 96-bit nonce per value, which
// Seal puts in front of the ciphertext (nonce || ciphertext || tag). Random
// nonces are safe for 2^32 values under one key, far more than an inbox of
// messages deleted once processed will ever see.
func newSealer(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("storage: seal key must be %d bytes (AES-256), got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("storage: seal key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("storage: seal key: %w", err)
	}
	return aead, nil
}

// errNoSealKey is returned when client text would have to be stored, or read
// back, and the store was opened without WithSealKey.
var errNoSealKey = errors.New("no seal key configured (PORTABOT_DB_KEY); client messages are never stored in the clear")

// sealAD is the additional data a value is sealed with: its bucket and key.
// A sealed value copied under another key, or into another bucket, then
// fails to open instead of passing for that row's message. Bucket names
// hold no 0x00, so the separator keeps the pair unambiguous.
func sealAD(bucket, key []byte) []byte {
	ad := make([]byte, 0, len(bucket)+1+len(key))
	ad = append(ad, bucket...)
	ad = append(ad, 0)
	return append(ad, key...)
}

// seal encrypts plaintext for the row bucket/key.
func (db *DB) seal(bucket, key, plaintext []byte) ([]byte, error) {
	if db.sealer == nil {
		return nil, errNoSealKey
	}
	return db.sealer.Seal(nil, nil, plaintext, sealAD(bucket, key)), nil
}

// unseal decrypts the value of row bucket/key. The result is a fresh slice,
// never a view of the mmap.
func (db *DB) unseal(bucket, key, sealed []byte) ([]byte, error) {
	if db.sealer == nil {
		return nil, fmt.Errorf("cannot be opened: %w", errNoSealKey)
	}
	pt, err := db.sealer.Open(nil, nil, sealed, sealAD(bucket, key))
	if err != nil {
		// GCM cannot tell a wrong key from a damaged or moved value; both
		// mean the same to the operator: this key does not open this row.
		return nil, errors.New("cannot be opened with the configured seal key (PORTABOT_DB_KEY differs from the one it was written with, or the row is damaged)")
	}
	return pt, nil
}

// ParseKey decodes a seal key given as base64, as in PORTABOT_DB_KEY. The
// standard and URL alphabets are accepted, with or without padding, so that
// `openssl rand -base64 32` and most generators work as they are. The error
// never repeats the input: it is a secret.
func ParseKey(b64 string) ([]byte, error) {
	key, err := parseKey(b64)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return key, nil
}

func parseKey(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errors.New("seal key is empty; want base64 of 32 random bytes (openssl rand -base64 32 makes one)")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("seal key decodes to %d bytes, want %d (openssl rand -base64 32 makes one)", len(key), KeySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("seal key is not valid base64 (%d characters); want base64 of 32 random bytes (openssl rand -base64 32 makes one)", len(s))
}

// LoadOrCreateKey returns the seal key kept in the file at path, creating the
// file with a new random key (mode 0600) when it does not exist. It serves
// sandbox mode, where no PORTABOT_DB_KEY is configured and the key lives
// beside the database. A key file that others may read, or that does not hold
// a base64 key of KeySize bytes, is refused: the first would expose every
// sealed message, and silently replacing the second would make them all
// unreadable.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("storage: generate seal key: %w", err)
	}
	if err := createKeyFile(path, key); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first; its key is the one in use.
			return readKeyFile(path)
		}
		return nil, err
	}
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		// Still matches fs.ErrNotExist, which tells LoadOrCreateKey to
		// create the file.
		return nil, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("storage: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("storage: key file %s is readable by other users (mode %v); run chmod 600 on it", path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	key, err := parseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("storage: key file %s does not hold a usable key: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes the key to a private temporary file and links it into
// place, so that path either does not exist or holds a whole key: a crash
// half-way can never leave an empty key file that would refuse the next start.
// The link fails with fs.ErrExist rather than replace a key someone else wrote.
func createKeyFile(path string, key []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("storage: create key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes 0600 files already; Chmod states it rather than
	// relying on it.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("storage: create key file %s: %w", path, err)
	}
	// The new name must outlive a crash as surely as the data sealed with
	// the key will.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("storage: create key file %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
