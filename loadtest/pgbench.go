package loadtest

// pgbenchScript is one message's statements as serve on PostgreSQL issues
// them (storage/postgres), in the same transactions, with record sizes like
// a FAQ answer's: the webhook's enqueue, the worker's claim, read, turn and
// release, the sender's claim, read, attempt, mark and release. Idle
// polling is left out: it costs per idle worker and second, not per
// message. pgbench runs it as fast as the server allows, so its tps is the
// number of messages per second PostgreSQL could carry for any number of
// replicas.
const pgbenchScript = `\set c random(1, 1000000000)
\set m random(1, 1000000000000)
BEGIN;
INSERT INTO inbox (message_id, conv, sealed)
	SELECT 'wamid.' || :m, '55' || :c, decode(repeat('ab', 160), 'hex')
	WHERE NOT EXISTS (SELECT 1 FROM processed WHERE message_id = 'wamid.' || :m)
	ON CONFLICT (message_id) DO NOTHING;
SELECT pg_notify('portabot_inbox', '');
COMMIT;
WITH waiting AS (
	SELECT DISTINCT conv FROM inbox i
	WHERE NOT EXISTS (SELECT 1 FROM processed p WHERE p.message_id = i.message_id)
	  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.queue = 'inbox' AND l.owner = i.conv AND l.expires > clock_timestamp())
), next AS (
	SELECT conv FROM waiting ORDER BY conv <> '55' || :c, conv LIMIT 1
)
INSERT INTO leases (queue, owner, token, holder, expires)
	SELECT 'inbox', conv, 'in' || :m, 'bench', clock_timestamp() + make_interval(secs => 30) FROM next
	ON CONFLICT (queue, owner) DO UPDATE
	SET row_id = EXCLUDED.row_id, token = EXCLUDED.token, holder = EXCLUDED.holder, expires = EXCLUDED.expires
	WHERE leases.expires <= clock_timestamp()
	RETURNING owner;
DELETE FROM inbox i USING processed p WHERE i.conv = '55' || :c AND p.message_id = i.message_id;
SELECT seq, message_id, sealed FROM inbox WHERE conv = '55' || :c ORDER BY seq LIMIT 64;
SELECT data FROM (
	SELECT 0 AS ord, data FROM conversations WHERE key = '55' || :c
	UNION ALL
	SELECT 1, c.data FROM client_ids i JOIN conversations c ON c.key = i.conv_key WHERE i.id = '55' || :c
) found ORDER BY ord LIMIT 1;
BEGIN;
SELECT 1 FROM leases WHERE queue = 'inbox' AND owner = '55' || :c AND token = 'in' || :m FOR UPDATE;
INSERT INTO processed (message_id, at) VALUES ('wamid.' || :m, now()) ON CONFLICT DO NOTHING;
INSERT INTO conversations (key, data) VALUES ('55' || :c, json_build_object('state', 'menu', 'pad', repeat('x', 400)))
	ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data;
INSERT INTO outbox (client, state, next_attempt, created, meta_id, data)
	VALUES ('55' || :c, 'pending', now(), now(), '', json_build_object('reply', repeat('y', 600))) RETURNING id AS row \gset
DELETE FROM inbox WHERE message_id = 'wamid.' || :m;
SELECT pg_notify('portabot_outbox', '');
COMMIT;
DELETE FROM leases WHERE token = 'in' || :m;
WITH heads AS (
	SELECT DISTINCT ON (client) id, client AS owner, next_attempt FROM outbox WHERE state = 'pending' ORDER BY client, id
), due AS (
	SELECT id, owner, next_attempt FROM heads h
	WHERE next_attempt <= now() AND (owner = '55' || :c)
	  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.queue = 'outbox' AND l.owner = h.owner AND l.expires > clock_timestamp())
	ORDER BY next_attempt, id LIMIT 32
), taken AS (
	INSERT INTO leases (queue, owner, row_id, token, holder, expires)
	SELECT 'outbox', owner, id::text, 'out' || :m, 'bench', clock_timestamp() + make_interval(secs => 30) FROM due
	ON CONFLICT (queue, owner) DO UPDATE
	SET row_id = EXCLUDED.row_id, token = EXCLUDED.token, holder = EXCLUDED.holder, expires = EXCLUDED.expires
	WHERE leases.expires <= clock_timestamp()
	RETURNING row_id
)
SELECT d.id FROM due d JOIN taken t ON t.row_id = d.id::text ORDER BY d.next_attempt, d.id;
SELECT data FROM outbox WHERE id = :row;
BEGIN;
SELECT data FROM outbox WHERE id = :row FOR UPDATE;
SELECT 1 FROM leases WHERE queue = 'outbox' AND owner = '55' || :c AND token = 'out' || :m AND row_id = :row::text FOR UPDATE;
UPDATE outbox SET state = 'pending', next_attempt = now(), meta_id = '', data = json_build_object('reply', repeat('y', 600), 'sending', now()) WHERE id = :row;
COMMIT;
BEGIN;
SELECT data FROM outbox WHERE id = :row FOR UPDATE;
UPDATE outbox SET state = 'sent', next_attempt = now(), meta_id = 'wamid.out' || :m, data = json_build_object('meta_id', 'wamid.out' || :m) WHERE id = :row;
DELETE FROM leases WHERE queue = 'outbox' AND owner = '55' || :c AND row_id = :row::text;
COMMIT;
DELETE FROM leases WHERE token = 'out' || :m;
`
