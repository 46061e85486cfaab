-- The web console: the language a person chose on its pages (remembered
-- across browsers; NULL until they choose, then Accept-Language decides),
-- and one row per organization, plan and day with the seats used and owned,
-- which the overview page draws as a chart of seat use over time.

-- +goose Up
ALTER TABLE accounts ADD COLUMN locale TEXT;

CREATE TABLE seat_usage (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    plan_id         TEXT NOT NULL REFERENCES plans (id),
    day             TEXT NOT NULL, -- YYYY-MM-DD, UTC
    seats           INTEGER NOT NULL CHECK (seats >= 0),
    assigned        INTEGER NOT NULL CHECK (assigned >= 0),
    PRIMARY KEY (organization_id, plan_id, day)
);

-- +goose Down
DROP TABLE seat_usage;
ALTER TABLE accounts DROP COLUMN locale;
