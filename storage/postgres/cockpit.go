package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/bot"
)

// What serve needs of a store besides the bot's ports, as the bbolt store
// offers it: business tokens, Slack's replay guard, refusals in the audit,
// and a health probe for /readyz.

var _ bot.TokenVault = (*DB)(nil)

// tokenAD binds a sealed business token to its case and WABA: a value
// copied onto another case fails to open.
func tokenAD(caseID, waba string) []byte {
	return []byte("business_token\x00" + caseID + "\x00" + waba)
}

// PutBusinessToken keeps case caseID's business token for waba, sealed.
func (db *DB) PutBusinessToken(ctx context.Context, caseID, waba, token string) error {
	n, ok := caseNumber(caseID)
	if !ok {
		return fmt.Errorf("postgres: business token of case %q: %w", caseID, bot.ErrNotFound)
	}
	if db.sealer == nil {
		return fmt.Errorf("postgres: business token of case %s: %w", caseID, errNoSealKey)
	}
	sealed := db.sealer.Seal(nil, nil, []byte(token), tokenAD(caseID, waba))
	if _, err := db.pool.Exec(ctx, `INSERT INTO business_tokens (case_id, waba, sealed) VALUES ($1, $2, $3)
		ON CONFLICT (case_id) DO UPDATE SET waba = EXCLUDED.waba, sealed = EXCLUDED.sealed`, n, waba, sealed); err != nil {
		return fmt.Errorf("postgres: write business token of case %s: %w", caseID, err)
	}
	return nil
}

// BusinessToken returns case caseID's business token and the WABA it is
// for, or an error matching bot.ErrNotFound.
func (db *DB) BusinessToken(ctx context.Context, caseID string) (waba, token string, err error) {
	n, ok := caseNumber(caseID)
	if !ok {
		return "", "", fmt.Errorf("postgres: business token of case %q: %w", caseID, bot.ErrNotFound)
	}
	var sealed []byte
	err = db.pool.QueryRow(ctx, `SELECT waba, sealed FROM business_tokens WHERE case_id = $1`, n).Scan(&waba, &sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", fmt.Errorf("postgres: business token of case %s: %w", caseID, bot.ErrNotFound)
	case err != nil:
		return "", "", fmt.Errorf("postgres: read business token of case %s: %w", caseID, err)
	case db.sealer == nil:
		return "", "", fmt.Errorf("postgres: business token of case %s: %w", caseID, errNoSealKey)
	}
	plain, err := db.sealer.Open(nil, nil, sealed, tokenAD(caseID, waba))
	if err != nil {
		return "", "", fmt.Errorf("postgres: business token of case %s cannot be opened with the configured seal key (PORTABOT_DB_KEY)", caseID)
	}
	return waba, string(plain), nil
}

// RememberTrigger records Slack's trigger id until expires and reports
// whether it was recorded already and unexpired: a replayed request. One
// statement decides, so two replicas given the same request agree.
func (db *DB) RememberTrigger(ctx context.Context, trigger string, expires time.Time) (seen bool, err error) {
	now := db.now()
	tag, err := db.pool.Exec(ctx, `INSERT INTO slack_triggers (trigger, expires) VALUES ($1, $2)
		ON CONFLICT (trigger) DO UPDATE SET expires = EXCLUDED.expires WHERE slack_triggers.expires <= $3`,
		trigger, expires, now)
	if err != nil {
		return false, fmt.Errorf("postgres: remember Slack trigger: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM slack_triggers WHERE expires <= $1`, now.Add(-time.Hour)); err != nil {
		return false, fmt.Errorf("postgres: prune Slack triggers: %w", err)
	}
	return tag.RowsAffected() == 0, nil
}

// AuditRefusal writes to case caseID's audit trail that user was refused
// action on it.
func (db *DB) AuditRefusal(ctx context.Context, caseID, user, action string) error {
	n, ok := caseNumber(caseID)
	if !ok {
		return fmt.Errorf("postgres: audit refusal on case %q: %w", caseID, bot.ErrNotFound)
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)`, n).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: audit refusal on case %s: %w", caseID, err)
	}
	if !exists {
		return fmt.Errorf("postgres: audit refusal on case %s: %w", caseID, bot.ErrNotFound)
	}
	return appendAudit(ctx, db.pool, n, bot.AuditEvent{CaseID: caseID, At: db.now(), Actor: user, Kind: "refused", Detail: action})
}

// Health reports whether the database takes a write now: /readyz's probe.
func (db *DB) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := db.pool.Exec(ctx, `SELECT pg_catalog.txid_current()`); err != nil {
		return fmt.Errorf("postgres: the database does not take a write: %w", err)
	}
	return nil
}

// Created reports whether this open made the schema: the first start of a
// deployment.
func (db *DB) Created() bool { return db.created }
