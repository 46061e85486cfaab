-- Remote commands: one row a command, with its lifecycle (pending, delivered,
-- succeeded, failed, refused, expired). At most one open (pending or
-- delivered) command of a type per device. A device can be suspended on its
-- own, without suspending its license: it keeps its seat and answers
-- suspended until resumed.

-- +goose Up
CREATE TABLE device_commands (
    id              TEXT PRIMARY KEY,
    device_id       TEXT NOT NULL REFERENCES devices (id),
    organization_id TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL,
    args            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'succeeded', 'failed', 'refused', 'expired')),
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    completed_at    BIGINT,
    result_code     TEXT NOT NULL DEFAULT '',
    result_args     TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX device_commands_one_open ON device_commands (device_id, type) WHERE status IN ('pending', 'delivered');
CREATE INDEX device_commands_device ON device_commands (device_id, created_at, id);
CREATE INDEX device_commands_expiry ON device_commands (expires_at) WHERE status IN ('pending', 'delivered');

ALTER TABLE devices ADD COLUMN suspended_at BIGINT;
-- How many open commands the device has, so a check-in of a device without
-- any (nearly all of them) costs no extra query.
ALTER TABLE devices ADD COLUMN open_commands INTEGER NOT NULL DEFAULT 0 CHECK (open_commands >= 0);

-- +goose Down
ALTER TABLE devices DROP COLUMN open_commands;
ALTER TABLE devices DROP COLUMN suspended_at;
DROP TABLE device_commands;
