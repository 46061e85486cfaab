package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Envelope is one mail ready to go: who it is for, its stable Message-ID and
// its words. The sender adds the From address.
type Envelope struct {
	MessageID string // without angle brackets: <row id>@<domain>
	To        string
	Rendered
}

// Sender sends one mail; package mail's SMTP sender is the real one.
type Sender interface {
	Send(ctx context.Context, e Envelope) error
}

// WorkerConfig configures a Worker. Zero fields take the documented defaults.
type WorkerConfig struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// Domain is the right-hand side of Message-IDs (default "entitle.invalid";
	// the server passes its From address's domain).
	Domain string
	Poll   time.Duration // how often Run looks for due mail; default 5 s
	Batch  int           // rows claimed at a time; default 10
	// Lease is how long a claimed row is reserved for the worker that
	// claimed it; a worker that dies mid-send leaves the row to be claimed
	// again once the lease ends. Default 5 min (well above a send's timeout).
	Lease time.Duration
	// MaxAttempts is how many sends are tried before the mail is marked
	// failed; default 8. Backoff doubles from BaseBackoff (default 30 s) up
	// to MaxBackoff (default 1 h), with up to 20 % random jitter.
	MaxAttempts int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Jitter      func() float64 // in [0, 1); default math/rand/v2
	Catalog     *i18n.Bundle   // default i18n.New()
}

// Worker sends the outbox. Any number of workers, in one process or in
// several server instances on one database, may run at once: a row is sent
// by the worker whose guarded claim took it.
type Worker struct {
	db     *store.DB
	sender Sender
	cfg    WorkerConfig
	log    *slog.Logger
}

// NewWorker returns a worker sending through sender.
func NewWorker(db *store.DB, sender Sender, cfg WorkerConfig) (*Worker, error) {
	if db == nil || sender == nil {
		return nil, errors.New("mail: worker needs a database and a sender")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Domain == "" {
		cfg.Domain = "entitle.invalid"
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Catalog == nil {
		cfg.Catalog = i18n.New()
	}
	return &Worker{db: db, sender: sender, cfg: cfg, log: cfg.Logger}, nil
}

// Run sends due mail every Poll until ctx ends; it returns nil then.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("mail outbox", "err", err)
			}
			// A full batch means more may be due: go on without waiting.
			if err != nil || n < w.cfg.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// claimed is a row this worker holds a lease on.
type claimed struct {
	id, orgID, kind, to, locale, args string
	attempts                          int
	leaseUntil                        int64
}

// RunOnce claims one batch of due mail and tries to send each; it returns
// how many rows it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	rows, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range rows {
		if ctx.Err() != nil {
			// The lease runs out and another attempt takes the row.
			return len(rows), ctx.Err()
		}
		w.deliver(ctx, c)
	}
	return len(rows), nil
}

// claim reserves up to Batch due rows: each with a guarded UPDATE that only
// succeeds while the row still has the next_attempt_at it was read with, so
// of two workers reading the same row one wins and the other skips it.
func (w *Worker) claim(ctx context.Context) ([]claimed, error) {
	now := store.Millis(w.cfg.Now())
	q, err := w.db.Query(ctx, `SELECT id, next_attempt_at FROM mail_outbox
		WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT ?`, now, w.cfg.Batch)
	if err != nil {
		return nil, fmt.Errorf("mail: due rows: %w", err)
	}
	type due struct {
		id   string
		next int64
	}
	var candidates []due
	for q.Next() {
		var d due
		if err := q.Scan(&d.id, &d.next); err != nil {
			q.Close()
			return nil, fmt.Errorf("mail: due rows: %w", err)
		}
		candidates = append(candidates, d)
	}
	if err := q.Close(); err != nil {
		return nil, fmt.Errorf("mail: due rows: %w", err)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("mail: due rows: %w", err)
	}
	lease := now + w.cfg.Lease.Milliseconds()
	var out []claimed
	for _, d := range candidates {
		c := claimed{id: d.id, leaseUntil: lease}
		err := w.db.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.ExecAffected(ctx, `UPDATE mail_outbox SET next_attempt_at = ?, attempts = attempts + 1
				WHERE id = ? AND next_attempt_at = ? AND sent_at IS NULL AND failed_at IS NULL`, lease, d.id, d.next)
			if err != nil || n == 0 {
				return err
			}
			return tx.QueryRow(ctx, `SELECT organization_id, kind, recipient, locale, args, attempts FROM mail_outbox WHERE id = ?`, d.id).
				Scan(&c.orgID, &c.kind, &c.to, &c.locale, &c.args, &c.attempts)
		})
		if err != nil {
			return out, fmt.Errorf("mail: claim %s: %w", d.id, err)
		}
		if c.kind != "" {
			out = append(out, c)
		}
	}
	return out, nil
}

// MessageID is the Message-ID of outbox row id: the same at every attempt, so
// a mail sent again after a crash between sending and marking it sent is
// recognised by the receiver as the one it already has.
func MessageID(id, domain string) string { return id + "@" + domain }

func (w *Worker) deliver(ctx context.Context, c claimed) {
	err := w.send(ctx, c)
	if err == nil {
		if merr := w.markSent(ctx, c); merr != nil {
			w.log.Error("mail sent but not marked sent; it will be sent again with the same Message-ID", "mail", c.id, "err", merr)
		}
		return
	}
	if merr := w.markFailedAttempt(ctx, c, err); merr != nil {
		w.log.Error("mail: record failed attempt", "mail", c.id, "err", merr)
	}
}

func (w *Worker) send(ctx context.Context, c claimed) error {
	args, err := decodeArgs(c.args)
	if err != nil {
		return err
	}
	r, err := Render(w.cfg.Catalog, c.kind, c.locale, args)
	if err != nil {
		return err
	}
	return w.sender.Send(ctx, Envelope{MessageID: MessageID(c.id, w.cfg.Domain), To: c.to, Rendered: r})
}

func (w *Worker) markSent(ctx context.Context, c claimed) error {
	// A context cancelled right after the send must not lose the mark.
	ctx = context.WithoutCancel(ctx)
	_, err := w.db.Exec(ctx, `UPDATE mail_outbox SET sent_at = ?, last_error = '' WHERE id = ? AND sent_at IS NULL`,
		store.Millis(w.cfg.Now()), c.id)
	if err != nil {
		return fmt.Errorf("mark sent: %w", err)
	}
	w.log.Info("mail sent", "mail", c.id, "kind", c.kind, "attempt", c.attempts)
	return nil
}

// maxErrorText bounds the last error kept on a row.
const maxErrorText = 500

// markFailedAttempt schedules the next attempt with backoff, or marks the
// mail failed (journaled) after MaxAttempts. It only touches the row while
// this worker's lease on it stands.
func (w *Worker) markFailedAttempt(ctx context.Context, c claimed, sendErr error) error {
	ctx = context.WithoutCancel(ctx)
	now := w.cfg.Now()
	msg := check.Truncate(strings.ToValidUTF8(sendErr.Error(), "?"), maxErrorText)
	if c.attempts >= w.cfg.MaxAttempts {
		w.log.Error("mail failed for good", "mail", c.id, "kind", c.kind, "attempts", c.attempts, "err", msg)
		return w.db.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.ExecAffected(ctx, `UPDATE mail_outbox SET failed_at = ?, last_error = ?
				WHERE id = ? AND next_attempt_at = ? AND sent_at IS NULL`, store.Millis(now), msg, c.id, c.leaseUntil)
			if err != nil || n == 0 {
				return err
			}
			return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "system", Action: "mail.failed", Target: c.id,
				Organization: c.orgID, Details: map[string]any{"kind": c.kind, "attempts": c.attempts}})
		})
	}
	next := now.Add(w.Backoff(c.attempts))
	w.log.Warn("mail not sent; will retry", "mail", c.id, "kind", c.kind, "attempt", c.attempts, "next", next, "err", msg)
	_, err := w.db.Exec(ctx, `UPDATE mail_outbox SET next_attempt_at = ?, last_error = ?
		WHERE id = ? AND next_attempt_at = ? AND sent_at IS NULL`, store.Millis(next), msg, c.id, c.leaseUntil)
	return err
}

// Backoff is the wait after the attempt-th failed attempt (1-based):
// BaseBackoff doubled per attempt, capped at MaxBackoff, plus up to 20 %.
func (w *Worker) Backoff(attempt int) time.Duration {
	d := w.cfg.BaseBackoff
	for i := 1; i < attempt && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	return d + time.Duration(float64(d)*0.2*w.cfg.Jitter())
}

func decodeArgs(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("mail: stored args: %w", err)
	}
	return m, nil
}
