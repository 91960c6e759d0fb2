package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"portabot/bot"
)

// The reads the pre-flight makes before adding a number, and the one fix it
// makes itself (Meta: migrating-phone-numbers-among-solution-partners-
// programmatically, "prerequisites"; graph-api/reference/
// whats-app-business-account/subscribed_apps).

var _ bot.Preflighter = (*Client)(nil)

// wabaFields are what the pre-flight reads of a WABA: Meta leaves
// primary_funding_id out when there is none to show.
const wabaFields = "id,name,account_review_status,primary_funding_id"

// WABA reads the destination account. An error answer (100/33: "does not
// exist, cannot be loaded due to missing permissions") means it is not
// shared with us.
func (c *Client) WABA(ctx context.Context, waba string) (bot.WABAInfo, error) {
	var out bot.WABAInfo
	err := c.do(ctx, request{
		op:     "waba",
		method: http.MethodGet,
		path:   "/{waba}",
		ids:    map[string]string{"waba": waba},
		query:  map[string]string{"fields": wabaFields},
		out:    &out,
		retry:  true,
	})
	return out, err
}

// Subscribed reports whether an app gets the WABA's webhooks. Meta lists
// the subscribed apps as {"data":[{"whatsapp_business_api_data":{"id",
// "name","link"}}]}; with an app id configured only ours counts.
func (c *Client) Subscribed(ctx context.Context, waba string) (bool, error) {
	var out struct {
		Data []struct {
			App struct {
				ID string `json:"id"`
			} `json:"whatsapp_business_api_data"`
		} `json:"data"`
	}
	err := c.do(ctx, request{
		op:     "subscribed_apps_list",
		method: http.MethodGet,
		path:   "/{waba}/subscribed_apps",
		ids:    map[string]string{"waba": waba},
		out:    &out,
		retry:  true,
	})
	if err != nil {
		return false, err
	}
	for _, d := range out.Data {
		if c.appID == "" || d.App.ID == c.appID {
			return true, nil
		}
	}
	return false, nil
}

// Subscribe subscribes our app to the WABA's webhooks with the system-user
// token (or the case's business token in the context). Subscribing twice
// succeeds, so it is retried.
func (c *Client) Subscribe(ctx context.Context, waba string) error {
	const op = "subscribed_apps"
	var out struct {
		Success bool `json:"success"`
	}
	err := c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{waba}/subscribed_apps",
		ids:    map[string]string{"waba": waba},
		out:    &out,
		retry:  true,
	})
	if err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("graph: %s: Meta did not confirm the subscription", op)
	}
	return nil
}

// maxTemplateListPages bounds the listing of a source WABA's templates.
const maxTemplateListPages = 50

// Templates counts the source WABA's templates and those Meta copies: only
// APPROVED templates of quality GREEN or UNKNOWN move (Meta:
// templates/template-migration).
func (c *Client) Templates(ctx context.Context, source string) (eligible, total int, err error) {
	type template struct {
		Status  string `json:"status"`
		Quality struct {
			Score string `json:"score"`
		} `json:"quality_score"`
	}
	err = readPages(ctx, c, request{
		op:     "message_templates",
		method: http.MethodGet,
		path:   "/{waba}/message_templates",
		ids:    map[string]string{"waba": source},
		query:  map[string]string{"fields": "id,status,quality_score", "limit": "100"},
		retry:  true,
	}, maxTemplateListPages, func(p []template) {
		for _, t := range p {
			total++
			q := strings.ToUpper(t.Quality.Score)
			if strings.EqualFold(t.Status, "APPROVED") && (q == "" || q == "GREEN" || q == "UNKNOWN") {
				eligible++
			}
		}
	})
	return eligible, total, err
}
