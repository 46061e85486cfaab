-- Seat use over time (issue 12, the console's overview chart). Once a day the
-- usage job records, for every subscription of every organization, its seats,
-- the seats assigned and the computers active on its licenses. day is the
-- Unix milliseconds of 00:00 UTC of the day recorded; re-running a day
-- replaces its rows (one per organization, day and subscription).
-- subscription_id and plan_id are recorded values, not foreign keys: a
-- row is history, and checking two keys per row made a day's snapshot of
-- 10,000 organizations three times slower on PostgreSQL (every row locking
-- the same plan row).

-- +goose Up
CREATE TABLE seat_usage (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day             BIGINT NOT NULL,
    subscription_id TEXT NOT NULL,
    plan_id         TEXT NOT NULL,
    seats           INTEGER NOT NULL CHECK (seats >= 0),
    assigned        INTEGER NOT NULL CHECK (assigned >= 0),
    active_devices  INTEGER NOT NULL CHECK (active_devices >= 0),
    taken_at        BIGINT NOT NULL,
    PRIMARY KEY (organization_id, day, subscription_id)
);
-- Rows past the retention are deleted by day.
CREATE INDEX seat_usage_day ON seat_usage (day);

-- One row per day the job finished, so it runs once a day however many
-- times it is woken (and on several server instances).
CREATE TABLE seat_usage_runs (
    day           BIGINT PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT NOT NULL,
    subscriptions INTEGER NOT NULL
);

-- +goose Down
DROP TABLE seat_usage_runs;
DROP INDEX seat_usage_day;
DROP TABLE seat_usage;
