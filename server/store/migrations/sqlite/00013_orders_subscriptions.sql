-- Enterprise purchases (issue 10). The vendor's operator keeps a catalog of
-- plans; an organization's admin fills an order like a cart (plan x quantity
-- lines), validates and confirms it, which issues an invoice with a sequential
-- number (the invoice / purchase-order provider: nothing charges a card). When
-- the operator records payment, each line's seats join a subscription: the
-- organization's pool of seats of one plan, with a term and auto-renewal.
-- Assigning a seat to a member issues that member a license of the plan
-- (licenses.subscription_id), owned by the member, so their account
-- activation and browser sign-in use it; unassigning revokes that license.

-- +goose Up
CREATE TABLE plans (
    id               TEXT PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    features         TEXT NOT NULL,
    max_profiles     INTEGER NOT NULL CHECK (max_profiles >= 0),
    devices_per_seat INTEGER NOT NULL DEFAULT 1 CHECK (devices_per_seat >= 1),
    term_months      INTEGER NOT NULL CHECK (term_months >= 1),
    seat_price_cents BIGINT NOT NULL CHECK (seat_price_cents >= 0),
    currency         TEXT NOT NULL DEFAULT 'EUR',
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL
);
CREATE INDEX plans_created ON plans (created_at, id);

-- status: cart (lines may change) -> validated (the admin reviewed the total)
-- -> confirmed (invoice issued, awaiting payment) -> paid; cart, validated or
-- confirmed -> cancelled. kind renewal: raised by the renewal job for a
-- subscription reaching its term end.
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    status            TEXT NOT NULL CHECK (status IN ('cart', 'validated', 'confirmed', 'paid', 'cancelled')),
    kind              TEXT NOT NULL DEFAULT 'purchase' CHECK (kind IN ('purchase', 'renewal')),
    created_by        TEXT NOT NULL DEFAULT '',
    purchase_order    TEXT NOT NULL DEFAULT '',
    provider          TEXT NOT NULL DEFAULT 'invoice',
    invoice_number    TEXT UNIQUE,
    total_cents       BIGINT NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
    currency          TEXT NOT NULL DEFAULT 'EUR',
    payment_reference TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    validated_at      BIGINT,
    confirmed_at      BIGINT,
    due_at            BIGINT,
    paid_at           BIGINT,
    cancelled_at      BIGINT
);
CREATE INDEX orders_org_created ON orders (organization_id, created_at, id);
CREATE INDEX orders_status_created ON orders (status, created_at, id);

-- subscription_id: the line adds seats to (or renews) that subscription;
-- empty: payment starts a new subscription of the plan.
CREATE TABLE order_lines (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    plan_id          TEXT NOT NULL REFERENCES plans (id),
    quantity         INTEGER NOT NULL CHECK (quantity >= 1 AND quantity <= 100000),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    subscription_id  TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX order_lines_order ON order_lines (order_id, created_at, id);

-- Invoice numbers are sequential without gaps within a year (French
-- invoicing rules): the counter is taken in the confirming transaction.
CREATE TABLE invoice_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- An organization's pool of seats of one plan. assigned counts the live
-- licenses issued from it; a seat is taken with a guarded
-- UPDATE ... SET assigned = assigned + 1 WHERE assigned < seats.
CREATE TABLE subscriptions (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    plan_id          TEXT NOT NULL REFERENCES plans (id),
    seats            INTEGER NOT NULL CHECK (seats >= 0),
    assigned         INTEGER NOT NULL DEFAULT 0 CHECK (assigned >= 0 AND assigned <= seats),
    term_months      INTEGER NOT NULL CHECK (term_months >= 1),
    term_start       BIGINT NOT NULL,
    term_end         BIGINT NOT NULL,
    auto_renew       INTEGER NOT NULL DEFAULT 1,
    suspended_at     BIGINT,
    renewal_order_id TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX subscriptions_org_created ON subscriptions (organization_id, created_at, id);
CREATE INDEX subscriptions_term_end ON subscriptions (term_end);

ALTER TABLE licenses ADD COLUMN organization_id TEXT REFERENCES organizations (id);
ALTER TABLE licenses ADD COLUMN subscription_id TEXT REFERENCES subscriptions (id);
ALTER TABLE licenses ADD COLUMN revoked_at BIGINT;
-- One live assignment per member and subscription.
CREATE UNIQUE INDEX licenses_assignment ON licenses (subscription_id, owner_account_id)
    WHERE subscription_id IS NOT NULL AND revoked_at IS NULL;
CREATE INDEX licenses_org_created ON licenses (organization_id, created_at, id)
    WHERE organization_id IS NOT NULL;

-- +goose Down
DROP INDEX licenses_org_created;
DROP INDEX licenses_assignment;
ALTER TABLE licenses DROP COLUMN revoked_at;
ALTER TABLE licenses DROP COLUMN subscription_id;
ALTER TABLE licenses DROP COLUMN organization_id;
DROP TABLE subscriptions;
DROP TABLE invoice_counters;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE plans;
