-- Indexes that keep a page of the account's lists fast at a million rows:
-- the device list walks each license's devices in (activated_at, id) order
-- from the keyset cursor, and the license list an owner's licenses in
-- (created_at, id) order, so neither sorts more than a page.

-- +goose Up
CREATE INDEX devices_license_activated ON devices (license_id, activated_at, id);
CREATE INDEX licenses_owner_created_id ON licenses (owner_account_id, created_at, id);

-- +goose Down
DROP INDEX licenses_owner_created_id;
DROP INDEX devices_license_activated;
