package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"portabot/bot"
)

// Signup is the end of Embedded Signup on Meta's side: the code exchange
// and the app's subscription to the client's WABA.
type Signup struct {
	Client *Client
	// AppID and AppSecret identify our Meta app to the code exchange.
	AppID     string
	AppSecret string
}

var _ bot.SignupMeta = Signup{}

// ExchangeCode trades the code FB.login returned for the business token:
// GET /{V}/oauth/access_token?client_id&client_secret&code (Meta:
// embedded-signup/implementation, "exchange the code within 30 seconds").
// Retried on network errors, 429 and 5xx like the other reads; an error
// never repeats the code, the secret or the token.
func (s Signup) ExchangeCode(ctx context.Context, code string) (string, error) {
	const op = "oauth_access_token"
	if code == "" || len(code) > 2048 {
		return "", fmt.Errorf("graph: %s: no usable code", op)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := s.Client.do(ctx, request{
		op:     op,
		method: http.MethodGet,
		path:   "/oauth/access_token",
		query:  map[string]string{"client_id": s.AppID, "client_secret": s.AppSecret, "code": code},
		out:    &out,
		retry:  true,
	})
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", errors.New("graph: " + op + ": answer has no access_token")
	}
	return out.AccessToken, nil
}

// SubscribeApp subscribes our app to the WABA's webhooks with the business
// token: POST /{WABA_ID}/subscribed_apps (Meta: embedded-signup/
// implementation, step "subscribe to webhooks on the customer's WABA").
// Subscribing twice succeeds, so it is retried.
func (s Signup) SubscribeApp(ctx context.Context, waba, businessToken string) error {
	const op = "subscribed_apps"
	if businessToken == "" {
		return fmt.Errorf("graph: %s: no business token", op)
	}
	var out struct {
		Success bool `json:"success"`
	}
	err := s.Client.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{waba}/subscribed_apps",
		ids:    map[string]string{"waba": waba},
		out:    &out,
		retry:  true,
		token:  businessToken,
	})
	if err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("graph: %s: Meta did not confirm the subscription", op)
	}
	return nil
}
