-- +goose Up
-- What serve keeps beside the conversations: Embedded Signup's business
-- tokens, sealed like client text, and Slack's replay guard.

CREATE TABLE business_tokens (
    case_id bigint PRIMARY KEY,
    waba    text NOT NULL,
    sealed  bytea NOT NULL
);

CREATE TABLE slack_triggers (
    trigger text PRIMARY KEY,
    expires timestamptz NOT NULL
);
CREATE INDEX slack_triggers_expires ON slack_triggers (expires);

-- +goose Down
DROP TABLE slack_triggers;
DROP TABLE business_tokens;
