package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/entitle/entitle/pkg/licensekey"
)

// MaskKeys wraps h so that nothing it writes contains a whole license key:
// the message and every string, error or Stringer attribute go through
// licensekey.Mask. The licensing server's error messages may quote the key
// they refuse, and the agent logs them; this is where that stops.
func MaskKeys(h slog.Handler) slog.Handler {
	if _, ok := h.(maskHandler); ok {
		return h
	}
	return maskHandler{h}
}

type maskHandler struct{ h slog.Handler }

func (m maskHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m maskHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, licensekey.Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m maskHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskHandler{m.h.WithAttrs(masked)}
}

func (m maskHandler) WithGroup(name string) slog.Handler { return maskHandler{m.h.WithGroup(name)} }

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, licensekey.Mask(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = maskAttr(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, licensekey.Mask(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, licensekey.Mask(x.String()))
		case []byte:
			return slog.String(a.Key, licensekey.Mask(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// masked returns err's text with license keys masked, for logging.
func (e *Engine) masked(err error) string {
	if err == nil {
		return ""
	}
	return licensekey.Mask(err.Error())
}
