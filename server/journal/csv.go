package journal

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// CSVHeader names the columns of WriteCSV, the field names of the JSON
// view (stable identifiers, not prose, so scripts can rely on them).
var csvHeader = [...]string{"at", "organization", "seq", "actor", "account", "action", "target", "ip", "user_agent", "request_id", "details", "hash"}

// CSVWriter writes journal rows as RFC 4180 CSV (encoding/csv) with a header
// line. Cells that a spreadsheet would run as a formula (starting with =, +,
// -, @, tab or carriage return) are prefixed with a single quote.
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter returns a writer to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	return &CSVWriter{w: cw}
}

// Write writes one row (the header first).
func (c *CSVWriter) Write(r Row) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(csvHeader[:]); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	rec := []string{r.At.UTC().Format(time.RFC3339Nano), r.Organization, strconv.FormatInt(r.Seq, 10), r.Actor, r.Account,
		r.Action, r.Target, r.IP, r.UserAgent, r.RequestID, r.Details, r.Hash}
	for i, v := range rec {
		rec[i] = SafeCell(v)
	}
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Flush writes the header if no row was written, and flushes.
func (c *CSVWriter) Flush() error {
	if !c.header {
		c.header = true
		if err := c.w.Write(csvHeader[:]); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// SafeCell neutralizes CSV formula injection: a cell that starts with = + -
// @, a tab or a carriage return gets a leading single quote, so a
// spreadsheet shows it as text instead of running it.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
