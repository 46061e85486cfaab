// Package sse reads server-sent event streams (the text/event-stream format
// of the HTML standard), bounded so a hostile or broken server cannot make
// the reader hold unbounded memory. Both of Entitle's streams use it: the
// agent's local events (read by the tray and integrators) and the licensing
// server's push stream (read by the agent).
package sse

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// Bounds of one stream.
const (
	MaxLine = 1 << 20 // one line; a longer one ends the stream with an error
	MaxData = 4 << 20 // the data of one event (its data: lines joined)
)

// ErrTooLarge ends a stream whose event data is over MaxData.
var ErrTooLarge = errors.New("sse: event data too large")

// Event is one dispatched event.
type Event struct {
	Name string // "event:" field; "" means the default, "message"
	Data string // "data:" lines joined with newlines
	ID   string // the last "id:" seen (it carries over to later events)
}

// Parse reads r and calls emit for each complete event until r ends
// (returning nil), r fails, or emit returns an error. Comments (":" lines)
// and "retry:" are skipped; an event without data is not dispatched, as the
// standard says.
func Parse(r io.Reader, emit func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	var (
		name, id string
		data     strings.Builder
		hasData  bool
	)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			if hasData {
				if err := emit(Event{Name: name, Data: data.String(), ID: id}); err != nil {
					return err
				}
			}
			name, hasData = "", false
			data.Reset()
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				id = value
			}
		case "data":
			if data.Len()+len(value)+1 > MaxData {
				return ErrTooLarge
			}
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		}
	}
	return sc.Err()
}
