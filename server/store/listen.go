package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNoListen is Listen's answer on SQLite, which has no notifications:
// one instance serves a SQLite database, so it notifies in process.
var ErrNoListen = errors.New("store: LISTEN needs PostgreSQL")

// Listen holds one pooled PostgreSQL connection on LISTEN channel and calls
// fn with each notification's payload until ctx ends or the connection
// fails; the caller reconnects. ready, when not nil, is called once the
// LISTEN is in place.
func (db *DB) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	if db.dialect != Postgres {
		return ErrNoListen
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("listen: connect: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: unexpected driver connection %T", driverConn)
		}
		pc := c.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+quoteIdent(channel)); err != nil {
			return fmt.Errorf("listen %s: %w", channel, err)
		}
		// The connection goes back to the pool after UNLISTEN, so it does
		// not carry the subscription to another user; a cancelled ctx
		// leaves it broken, and database/sql then discards it.
		defer pc.Exec(context.WithoutCancel(ctx), "UNLISTEN *") //nolint:errcheck // best effort on the way out
		if ready != nil {
			ready()
		}
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return fmt.Errorf("listen %s: %w", channel, err)
			}
			fn(n.Payload)
		}
	})
}

// Notify sends payload on channel: every Listen on the database receives it
// once the calling transaction (if any) commits. PostgreSQL only.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.dialect != Postgres {
		return ErrNoListen
	}
	if _, err := db.write.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
