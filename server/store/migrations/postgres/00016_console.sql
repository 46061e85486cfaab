-- The web console: the language a person chose on its pages, remembered
-- across browsers (NULL until they choose; then Accept-Language decides).
-- The overview's seat-use history is migration 00020 (seat_usage).

-- +goose Up
ALTER TABLE accounts ADD COLUMN locale TEXT;

-- +goose Down
ALTER TABLE accounts DROP COLUMN locale;
