package storage

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

var _ bot.TokenVault = (*DB)(nil)

// businessToken is a business token as stored, sealed.
type businessToken struct {
	WABA  string `json:"waba"`
	Token string `json:"token"`
}

// PutBusinessToken keeps the business token Embedded Signup gave for a
// case's WABA. It is sealed with the store's key (AES-GCM, bound to its row)
// and replaces the case's previous one: a token grants access to the
// client's account, so it is never kept in the clear.
func (db *DB) PutBusinessToken(ctx context.Context, caseID, waba, token string) error {
	key, ok := caseKey(caseID)
	if !ok {
		return fmt.Errorf("storage: business token of case %q: %w", caseID, bot.ErrNotFound)
	}
	plain, err := json.Marshal(businessToken{WABA: waba, Token: token})
	if err != nil {
		return fmt.Errorf("storage: business token of case %s: %w", caseID, err)
	}
	sealed, err := db.seal(bucketBusinessTokens, key, plain)
	clear(plain)
	if err != nil {
		return fmt.Errorf("storage: business token of case %s: %w", caseID, err)
	}
	return db.write(ctx, "business token of case "+caseID, func(tx *bolt.Tx) (func() error, error) {
		return func() error { return tx.Bucket(bucketBusinessTokens).Put(key, sealed) }, nil
	})
}

// BusinessToken returns the business token kept for a case and the WABA it
// is for, or an error matching bot.ErrNotFound when there is none.
func (db *DB) BusinessToken(ctx context.Context, caseID string) (waba, token string, err error) {
	key, ok := caseKey(caseID)
	if !ok {
		return "", "", fmt.Errorf("storage: business token of case %q: %w", caseID, bot.ErrNotFound)
	}
	var sealed []byte
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketBusinessTokens).Get(key); v != nil {
			sealed = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("storage: business token of case %s: %w", caseID, err)
	}
	if sealed == nil {
		return "", "", fmt.Errorf("storage: business token of case %s: %w", caseID, bot.ErrNotFound)
	}
	plain, err := db.unseal(bucketBusinessTokens, key, sealed)
	if err != nil {
		return "", "", fmt.Errorf("storage: business token of case %s %w", caseID, err)
	}
	var bt businessToken
	err = json.Unmarshal(plain, &bt)
	clear(plain)
	if err != nil {
		return "", "", fmt.Errorf("storage: business token of case %s: unreadable", caseID)
	}
	return bt.WABA, bt.Token, nil
}
