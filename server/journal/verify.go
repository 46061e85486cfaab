package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entitle/entitle/server/store"
)

// Kinds of break Verify reports.
const (
	// BreakEdited: the row's hash does not match its fields (a field was
	// changed, or rows were swapped: the hash covers the row's seq).
	BreakEdited = "edited"
	// BreakDeleted: the chain skips from one seq to a later one; rows in
	// between were deleted.
	BreakDeleted = "deleted"
	// BreakInserted: a row that the chain did not write: a repeated seq, a
	// row whose prev_hash does not link to the row before it, or a row past
	// the chain's head.
	BreakInserted = "inserted"
	// BreakTruncated: the head names rows after the last one present; the
	// newest rows were deleted.
	BreakTruncated = "truncated"
	// BreakHead: the head's hash is not the last row's, or rows exist
	// without a head.
	BreakHead = "head"
)

// Break is the first row at which a chain stops being what Record wrote.
type Break struct {
	Kind string `json:"kind"`
	Seq  int64  `json:"seq"`          // the seq expected or found where the chain breaks
	ID   int64  `json:"id,omitempty"` // the row's id, when a row is there
}

// ChainReport is the result of verifying one organization's chain.
type ChainReport struct {
	Organization string `json:"organization"`
	Rows         int64  `json:"rows"`
	HeadSeq      int64  `json:"head_seq"`
	HeadHash     string `json:"head_hash"`
	Break        *Break `json:"break,omitempty"`
}

// OK reports whether the chain is intact.
func (c ChainReport) OK() bool { return c.Break == nil }

// Organizations lists the organizations that have a chain (a head or rows),
// "" (personal accounts and the server) included when it has one.
func Organizations(ctx context.Context, db *store.DB) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT organization_id FROM journal_heads
		UNION SELECT DISTINCT organization_id FROM audit_events ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list journal chains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Verify recomputes the chains of orgs (every chain when orgs is nil) and
// reports each, with the first break found. It reads row by row, so memory
// does not grow with the journal. Rows committed while it runs are not
// counted as breaks.
func Verify(ctx context.Context, db *store.DB, orgs []string) ([]ChainReport, error) {
	if orgs == nil {
		var err error
		if orgs, err = Organizations(ctx, db); err != nil {
			return nil, err
		}
	}
	out := make([]ChainReport, 0, len(orgs))
	for _, o := range orgs {
		r, err := verifyChain(ctx, db, o)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

type head struct {
	seq    int64
	hash   string
	exists bool
}

func readHead(ctx context.Context, db *store.DB, org string) (head, error) {
	var h head
	err := db.QueryRow(ctx, "SELECT seq, hash FROM journal_heads WHERE organization_id = ?", org).Scan(&h.seq, &h.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("read journal head: %w", err)
	}
	h.exists = true
	return h, nil
}

func verifyChain(ctx context.Context, db *store.DB, org string) (ChainReport, error) {
	// The head is read first: every row up to its seq had committed when it
	// was read, and rows after it may be newer than this run.
	h, err := readHead(ctx, db, org)
	if err != nil {
		return ChainReport{}, err
	}
	rep := ChainReport{Organization: org, HeadSeq: h.seq, HeadHash: h.hash}
	rows, err := db.Query(ctx, "SELECT "+rowCols+" FROM audit_events WHERE organization_id = ? ORDER BY seq, id", org)
	if err != nil {
		return ChainReport{}, fmt.Errorf("read journal: %w", err)
	}
	defer rows.Close()
	var (
		expect       int64 = 1
		prev         string
		beyond       Row // first row past the head
		beyondExists bool
	)
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return ChainReport{}, err
		}
		rep.Rows++
		if rep.Break != nil {
			continue // count the rest, report the first break
		}
		if r.Seq > h.seq {
			if !beyondExists {
				beyond, beyondExists = r, true
			}
			continue
		}
		switch {
		case r.Seq < expect:
			rep.Break = &Break{Kind: BreakInserted, Seq: r.Seq, ID: r.ID}
		case r.Seq > expect:
			rep.Break = &Break{Kind: BreakDeleted, Seq: expect}
		case Hash(r) != r.Hash:
			rep.Break = &Break{Kind: BreakEdited, Seq: r.Seq, ID: r.ID}
		case r.PrevHash != prev:
			rep.Break = &Break{Kind: BreakInserted, Seq: r.Seq, ID: r.ID}
		}
		prev = r.Hash
		expect++
	}
	if err := rows.Err(); err != nil {
		return ChainReport{}, fmt.Errorf("read journal: %w", err)
	}
	if rep.Break != nil {
		return rep, nil
	}
	switch {
	case !h.exists && rep.Rows > 0:
		rep.Break = &Break{Kind: BreakHead, Seq: 1}
	case expect-1 < h.seq:
		rep.Break = &Break{Kind: BreakTruncated, Seq: expect}
	case h.seq > 0 && prev != h.hash:
		rep.Break = &Break{Kind: BreakHead, Seq: h.seq}
	case beyondExists:
		// Rows past the head are fine if the head has moved past them
		// since (a write committed during the run).
		now, err := readHead(ctx, db, org)
		if err != nil {
			return ChainReport{}, err
		}
		if now.seq < beyond.Seq {
			rep.Break = &Break{Kind: BreakInserted, Seq: beyond.Seq, ID: beyond.ID}
		}
	}
	return rep, nil
}
