package cmd

import (
	"context"
	"log/slog"
	"sync/atomic"

	"k8s.io/klog/v2"
)

// clientGoLog is where client-go's logs (through klog) go: klog's logger
// is set once, when the package is loaded, to a handler that each run
// points at its own log (clientGoLog.set). klog's global is read without
// a lock by client-go's goroutines (a transport's certificate rotation
// logs when it stops, at any time), so it must not be written again while
// they run: two runs in one process (the tests) raced on it.
var clientGoLog = &handlerSwitch{}

func init() { klog.SetSlogLogger(slog.New(clientGoLog)) }

// handlerSwitch is a slog.Handler that hands each record to the handler
// last set (none: records are dropped). Handlers derived from it
// (WithAttrs, WithGroup) follow it too.
type handlerSwitch struct {
	current atomic.Pointer[slog.Handler]
}

// set makes h the handler of every record from now on.
func (s *handlerSwitch) set(h slog.Handler) { s.current.Store(&h) }

func (s *handlerSwitch) handler() slog.Handler {
	if h := s.current.Load(); h != nil {
		return *h
	}
	return slog.DiscardHandler
}

func (s *handlerSwitch) Enabled(ctx context.Context, l slog.Level) bool {
	return s.handler().Enabled(ctx, l)
}

func (s *handlerSwitch) Handle(ctx context.Context, r slog.Record) error {
	return s.handler().Handle(ctx, r)
}

func (s *handlerSwitch) WithAttrs(attrs []slog.Attr) slog.Handler {
	return derivedHandler{s, func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) }}
}

func (s *handlerSwitch) WithGroup(name string) slog.Handler {
	return derivedHandler{s, func(h slog.Handler) slog.Handler { return h.WithGroup(name) }}
}

// derivedHandler is a handler derived from a handlerSwitch's: derive
// applied to the switch's current handler, at each record.
type derivedHandler struct {
	from   slog.Handler
	derive func(slog.Handler) slog.Handler
}

func (d derivedHandler) resolve() slog.Handler {
	var base slog.Handler
	switch f := d.from.(type) {
	case *handlerSwitch:
		base = f.handler()
	case derivedHandler:
		base = f.resolve()
	}
	return d.derive(base)
}

func (d derivedHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return d.resolve().Enabled(ctx, l)
}

func (d derivedHandler) Handle(ctx context.Context, r slog.Record) error {
	return d.resolve().Handle(ctx, r)
}

func (d derivedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return derivedHandler{d, func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) }}
}

func (d derivedHandler) WithGroup(name string) slog.Handler {
	return derivedHandler{d, func(h slog.Handler) slog.Handler { return h.WithGroup(name) }}
}
