package slack

import (
	"context"

	slackapi "github.com/slack-go/slack"
)

// buttonActions maps the case card's buttons to the subcommands they stand
// for.
var buttonActions = map[string]string{
	actionTakeOver: "takeover",
	actionRelease:  "release",
	actionRetry:    "retry",
	actionCancel:   "cancel",
}

// interaction handles a click on a case card's button. It returns the work
// to finish after Slack has its acknowledgement, or nil when there is none.
// Every outcome, a refusal included, goes to the response_url: Slack
// ignores the body of the answer to a block action.
func (a *App) interaction(ctx context.Context, ic slackapi.InteractionCallback) job {
	if ic.Type != slackapi.InteractionTypeBlockActions || len(ic.ActionCallback.BlockActions) == 0 {
		a.log.Debug("slack interaction ignored", "type", ic.Type)
		return nil
	}
	// Block Kit puts the clicked element here, not in ic.ActionID.
	ba := ic.ActionCallback.BlockActions[0]
	if ba.ActionID == actionForget {
		return a.forgetConfirmed(ctx, ic, ba.Value)
	}
	name, ok := buttonActions[ba.ActionID]
	if !ok {
		a.log.Debug("slack action ignored", "action_id", ba.ActionID)
		return nil
	}
	caseID, ok := parseCaseID(ba.Value)
	user := ic.User.ID
	if !ok {
		a.log.Warn("slack action with a bad case id", "user", user, "action_id", ba.ActionID)
		return nil
	}
	if !a.mayAct(user) {
		msg := a.refuse(ctx, user, name, caseID)
		return func(context.Context) *slackapi.WebhookMessage { return msg }
	}
	if a.replayed(ctx, ic.TriggerID) {
		a.log.Warn("slack action replayed, ignored", "user", user, "action", name, "case", caseID)
		return nil
	}
	return func(ctx context.Context) *slackapi.WebhookMessage {
		return a.act(ctx, name, caseID, "", user)
	}
}
