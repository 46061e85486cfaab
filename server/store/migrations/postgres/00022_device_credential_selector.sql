-- A device credential names its device: "<device id>.<secret>", and the
-- server finds the device by primary key, then checks the secret's hash
-- stored on it. The unique index on devices.credential_hash goes: at a
-- million devices it was the one index an activation wrote into at a
-- random place (the ids are in creation order since ids.At), which cost
-- SQLite activations a tenth of their rate.
--
-- Credentials issued before carry no device id: their hashes move to
-- device_legacy_credentials, which maps each to its device, and they keep
-- working. The table only shrinks in meaning: a device activated again gets
-- a credential of the new form, and its old row no longer matches its hash.

-- +goose Up
CREATE TABLE device_legacy_credentials (
    credential_hash TEXT PRIMARY KEY,
    device_id       TEXT NOT NULL
);
INSERT INTO device_legacy_credentials (credential_hash, device_id) SELECT credential_hash, id FROM devices;
DROP INDEX devices_credential;

-- +goose Down
-- The hash of a new credential is of the whole string, which is what the
-- code before this migration looks up: every credential keeps working.
CREATE UNIQUE INDEX devices_credential ON devices (credential_hash);
DROP TABLE device_legacy_credentials;
