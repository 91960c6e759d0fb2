-- +goose Up
-- Records are bot types as JSON, as bbolt keeps them: a field the bot adds
-- needs no migration. Columns exist only for what queries filter, order or
-- lock on. json, not jsonb: jsonb refuses a \u0000 a client may type.

CREATE TABLE conversations (
    key  text PRIMARY KEY,
    data json NOT NULL
);

-- A client's current number or BSUID, when it is not their conversation's
-- key: the conversation is found by either id Meta names them by.
CREATE TABLE client_ids (
    id       text PRIMARY KEY,
    conv_key text NOT NULL
);

CREATE SEQUENCE case_ids;

-- thread lives beside the record: the engine writes whole cases from copies
-- read earlier, which must not erase a thread set since.
CREATE TABLE cases (
    id     bigint PRIMARY KEY,
    data   json NOT NULL,
    thread text
);

CREATE TABLE audit (
    seq     bigserial PRIMARY KEY,
    case_id bigint NOT NULL,
    data    json NOT NULL
);
CREATE INDEX audit_case ON audit (case_id, seq);

CREATE TABLE processed (
    message_id text PRIMARY KEY,
    at         timestamptz NOT NULL
);

-- sealed is the message, AES-256-GCM under the seal key: client text (a
-- one-time code, a PIN) is never stored in the clear.
CREATE TABLE inbox (
    seq        bigserial PRIMARY KEY,
    message_id text NOT NULL UNIQUE,
    conv       text NOT NULL,
    sealed     bytea NOT NULL
);
CREATE INDEX inbox_conv ON inbox (conv, seq);

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    client       text NOT NULL,
    state        text NOT NULL,
    next_attempt timestamptz NOT NULL,
    created      timestamptz NOT NULL,
    meta_id      text NOT NULL DEFAULT '',
    data         json NOT NULL
);
CREATE INDEX outbox_client ON outbox (client, id);
CREATE INDEX outbox_pending ON outbox (client, id) WHERE state = 'pending';
CREATE INDEX outbox_meta ON outbox (meta_id) WHERE meta_id <> '';
CREATE INDEX outbox_sent ON outbox (id) WHERE state = 'sent';

CREATE TABLE notices (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL,
    state        text NOT NULL,
    next_attempt timestamptz NOT NULL,
    data         json NOT NULL
);
CREATE INDEX notices_pending ON notices (case_id, id) WHERE state = 'pending';

-- A lease is one replica's hold on an owner's work: a conversation of the
-- inbox, a client of the outbox, a case of the notices. It ends when
-- released, or when its replica stops renewing it and expires passes.
CREATE TABLE leases (
    queue   text NOT NULL,
    owner   text NOT NULL,
    row_id  text NOT NULL DEFAULT '',
    token   text NOT NULL,
    holder  text NOT NULL,
    expires timestamptz NOT NULL,
    PRIMARY KEY (queue, owner)
);
CREATE INDEX leases_holder ON leases (holder);

-- +goose Down
DROP TABLE leases, notices, outbox, inbox, processed, audit, cases, client_ids, conversations;
DROP SEQUENCE case_ids;
