-- The mail outbox: a mail is a row written in the same transaction as the
-- change it tells of, so it is sent if and only if the change committed. The
-- worker (package mail) sends pending rows over SMTP, retrying with backoff;
-- idempotency_key makes a retried request enqueue its mail once, and the
-- Message-ID derived from the row id lets a receiver drop a resend.

-- +goose Up
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    locale          TEXT NOT NULL,
    args            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         BIGINT,
    failed_at       BIGINT
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP TABLE mail_outbox;
