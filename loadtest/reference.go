package loadtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/adapters/whatsapp"
)

// The reference servers.
const (
	Ceiling = "ceiling"
	Probe   = "probe"
	Relay   = "relay"
)

// maxBody is serve's limit on a webhook body, so the references read
// bodies the way serve does.
const maxBody = whatsapp.DefaultMaxBody

// receive does what every webhook server must before it may answer 200:
// read the body, check its signature over the raw bytes, parse it. It
// writes the error answer itself and returns false when the request is
// refused.
func receive(secret []byte, w http.ResponseWriter, r *http.Request) (whatsapp.Delivery, []byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return whatsapp.Delivery{}, nil, false
	}
	if !validSignature(secret, r.Header.Get(whatsapp.SignatureHeader), body) {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return whatsapp.Delivery{}, nil, false
	}
	d, err := whatsapp.Decode(body)
	if err != nil {
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return whatsapp.Delivery{}, nil, false
	}
	return d, body, true
}

// validSignature is the check serve makes: the hex HMAC-SHA256 of the raw
// body, compared in constant time.
func validSignature(secret []byte, header string, body []byte) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(secret) == 0 {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// NewCeiling returns the ceiling's webhook handler: signature, parse, 200.
func NewCeiling(secret string) http.Handler {
	key := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := receive(key, w, r); ok {
			w.WriteHeader(http.StatusOK)
		}
	})
}

// probeBucket holds the probe's keys.
var probeBucket = []byte("inbox")

// ProbeServer is the durable probe: the ceiling plus one bbolt put per
// message, through db.Batch, before the 200.
type ProbeServer struct {
	db  *bolt.DB
	key []byte
}

// OpenProbe opens (creating) the probe's bbolt file at path. bbolt's
// defaults are kept on purpose: fsync on every commit, MaxBatchSize 1000,
// MaxBatchDelay 10 ms.
func OpenProbe(path, secret string) (*ProbeServer, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(probeBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("probe: %w", err)
	}
	return &ProbeServer{db: db, key: []byte(secret)}, nil
}

// ServeHTTP takes one webhook: each message's body is stored under its
// message id.
func (p *ProbeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, body, ok := receive(p.key, w, r)
	if !ok {
		return
	}
	if len(d.Messages) > 0 {
		// Batch may run the function more than once; Put is idempotent.
		err := p.db.Batch(func(tx *bolt.Tx) error {
			b := tx.Bucket(probeBucket)
			for _, m := range d.Messages {
				if err := b.Put([]byte(m.ID), body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// Keys returns how many message ids the probe has stored.
func (p *ProbeServer) Keys() (int, error) {
	var n int
	err := p.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(probeBucket).Stats().KeyN
		return nil
	})
	return n, err
}

// Close closes the probe's database.
func (p *ProbeServer) Close() error { return p.db.Close() }

// ProbeKeys opens the probe file at path after its server is gone and
// counts the stored ids.
func ProbeKeys(path string) (int, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	p := &ProbeServer{db: db}
	return p.Keys()
}

// referenceMux routes like serve: webhooks on /webhooks/whatsapp and
// readiness on /readyz.
func referenceMux(hook http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/whatsapp", hook)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux
}

// ReferenceConfig is one reference server to run.
type ReferenceConfig struct {
	// Kind is Ceiling, Probe or Relay.
	Kind   string
	Addr   string
	Secret string
	// DB is the probe's bbolt file.
	DB string
	// Where the relay sends, from the environment serve reads them from.
	GraphURL      string
	GraphVersion  string
	Token         string
	PhoneNumberID string
	// Log receives the relay's failed sends; nothing when nil.
	Log *slog.Logger
}

// ServeReference runs the reference server cfg.Kind on cfg.Addr until ctx
// ends. listening, when set, is told the address once connections are
// accepted.
func ServeReference(ctx context.Context, cfg ReferenceConfig, listening func(string)) error {
	if cfg.Secret == "" {
		return errors.New("reference server: no app secret")
	}
	var hook http.Handler
	switch cfg.Kind {
	case Ceiling:
		hook = NewCeiling(cfg.Secret)
	case Probe:
		if cfg.DB == "" {
			return errors.New("reference server: the probe needs a database file")
		}
		p, err := OpenProbe(cfg.DB, cfg.Secret)
		if err != nil {
			return err
		}
		defer p.Close()
		hook = p
	case Relay:
		r, err := NewRelay(RelayConfig{Secret: cfg.Secret, GraphURL: cfg.GraphURL, Version: cfg.GraphVersion,
			Token: cfg.Token, PhoneNumberID: cfg.PhoneNumberID, Log: cfg.Log})
		if err != nil {
			return err
		}
		// Runs after the server's Shutdown below, so the webhooks in
		// flight are queued before the senders stop.
		defer r.Close()
		hook = r
	default:
		return fmt.Errorf("reference server: unknown kind %q (want %s, %s or %s)", cfg.Kind, Ceiling, Probe, Relay)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := newServer(referenceMux(hook))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if listening != nil {
		listening(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// newServer returns an http.Server with serve's timeouts, so the
// references and serve differ only in what their handlers do.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
}
