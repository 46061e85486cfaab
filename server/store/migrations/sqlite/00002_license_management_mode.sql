-- How the organization manages the computers of a license, copied into every
-- lease as "mgmt": '' (not managed), 'local_remote' (the person and the
-- administrator), 'local' (the person only) or 'remote' (the administrator
-- only: the computer may not deactivate itself). A later workspace setting
-- may override it.

-- +goose Up
ALTER TABLE licenses ADD COLUMN management_mode TEXT NOT NULL DEFAULT ''
    CHECK (management_mode IN ('', 'local_remote', 'local', 'remote'));

-- +goose Down
ALTER TABLE licenses DROP COLUMN management_mode;
