-- +goose Up
-- Indexes that let serve read what it needs and no more, however many
-- closed cases the years leave: the cases in some states (recovery, the
-- agents' list), the cases of a number (the security webhook), the cases
-- closed lately (stats), and counts by state (metrics, stats). The columns
-- are derived from the case's JSON by a trigger, so every write of a case,
-- whatever statement makes it, keeps them right in its own transaction.

ALTER TABLE cases ADD COLUMN state text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN closed timestamptz;
-- The ported number, the client's number and the client's key, as
-- bot.NumberKey spells them (digits without "+", a BSUID as it is).
ALTER TABLE cases ADD COLUMN numbers text[] NOT NULL DEFAULT '{}';

-- +goose StatementBegin
CREATE FUNCTION portabot_number_key(id text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN id ~ '^\+?[0-9]+$' THEN regexp_replace(id, '^\+', '') ELSE id END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION portabot_case_columns() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n text;
    ns text[] := '{}';
BEGIN
    NEW.state := coalesce(NEW.data->>'State', '');
    NEW.closed := NULLIF(NEW.data->>'Closed', '0001-01-01T00:00:00Z')::timestamptz;
    FOREACH n IN ARRAY ARRAY[NEW.data->>'Phone', NEW.data->>'ClientPhone', NEW.data->>'Client'] LOOP
        n := portabot_number_key(coalesce(n, ''));
        IF n <> '' AND NOT n = ANY(ns) THEN
            ns := ns || n;
        END IF;
    END LOOP;
    NEW.numbers := ns;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER cases_columns BEFORE INSERT OR UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION portabot_case_columns();

UPDATE cases SET data = data;

CREATE INDEX cases_state ON cases (state, id);
CREATE INDEX cases_closed ON cases (closed, id) WHERE closed IS NOT NULL;
CREATE INDEX cases_numbers ON cases USING gin (numbers);

CREATE TABLE case_counts (
    state text PRIMARY KEY,
    n     bigint NOT NULL
);
INSERT INTO case_counts SELECT state, count(*) FROM cases GROUP BY state;

-- One statement, its rows in state order, so that two transactions moving
-- cases between the same states take the count rows in the same order.
-- +goose StatementBegin
CREATE FUNCTION portabot_case_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = NEW.state THEN
        RETURN NULL;
    END IF;
    INSERT INTO case_counts AS c (state, n)
    SELECT s, sum(d) FROM (
        SELECT OLD.state AS s, -1 AS d WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION ALL
        SELECT NEW.state, 1 WHERE TG_OP IN ('UPDATE', 'INSERT')
    ) moves GROUP BY s ORDER BY s
    ON CONFLICT (state) DO UPDATE SET n = greatest(c.n + excluded.n, 0);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER cases_counts AFTER INSERT OR UPDATE OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION portabot_case_counts();

-- +goose Down
DROP TRIGGER cases_counts ON cases;
DROP FUNCTION portabot_case_counts();
DROP TABLE case_counts;
DROP TRIGGER cases_columns ON cases;
DROP FUNCTION portabot_case_columns();
DROP FUNCTION portabot_number_key(text);
DROP INDEX cases_numbers, cases_closed, cases_state;
ALTER TABLE cases DROP COLUMN numbers, DROP COLUMN closed, DROP COLUMN state;
