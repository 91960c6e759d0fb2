-- +goose Up
-- Retention prunes processed-message markers by age, and expires closed
-- cases; these keep both from reading every row.
CREATE INDEX processed_at ON processed (at);
CREATE INDEX notices_created ON notices (id) WHERE state <> 'pending';

-- +goose Down
DROP INDEX notices_created;
DROP INDEX processed_at;
