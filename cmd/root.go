// Package cmd is atmosphere's command line. main calls Main; tests call Run
// with their own streams and arguments.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/components"
)

// Streams are the command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	// ExitUsage is for bad flags, arguments and input files.
	ExitUsage = 2
)

// UsageError is bad input from the operator: a flag, an argument, a file
// or a cluster the kubeconfig cannot reach. It exits with ExitUsage.
type UsageError = action.UsageError

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitFailure
}

// Main runs the command with the process's arguments and streams and exits.
func Main() {
	// Helm's chart loader warns through the standard logger about charts of
	// apiVersion v1, which atmosphere's openstack-helm charts all are.
	log.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	it := newInterrupts(cancel, os.Stderr)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for range signals {
			it.interrupt()
		}
	}()
	err := execute(ctx, it, Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:])
	signal.Stop(signals)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
	}
	os.Exit(ExitCode(err))
}

// Run runs the command line args (without the program name). Cancelling
// ctx stops it as a second interrupt does.
func Run(ctx context.Context, streams Streams, args []string) error {
	return execute(ctx, nil, streams, args)
}

func execute(ctx context.Context, it *interrupts, streams Streams, args []string) error {
	root := newRoot(streams, it)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// interrupts turns the first interrupt of a deploy into a drain (start
// nothing more, let the units in flight finish) and the second into a
// cancel; outside a deploy the first interrupt cancels.
type interrupts struct {
	mu        sync.Mutex
	cancel    context.CancelFunc
	drain     chan struct{}
	drainable bool
	count     int
	err       io.Writer
}

func newInterrupts(cancel context.CancelFunc, errOut io.Writer) *interrupts {
	return &interrupts{cancel: cancel, drain: make(chan struct{}), err: errOut}
}

// deploying marks the start of a deploy's run and returns its drain.
func (it *interrupts) deploying() <-chan struct{} {
	if it == nil {
		return nil
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	it.drainable = true
	return it.drain
}

func (it *interrupts) interrupt() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.count++
	if it.count == 1 && it.drainable {
		fmt.Fprintln(it.err, "\ninterrupt: starting nothing more; the units in flight finish (interrupt again to cancel them)")
		close(it.drain)
		return
	}
	if it.drainable {
		fmt.Fprintln(it.err, "\nsecond interrupt: cancelling the units in flight")
	}
	it.cancel()
}

// app is what every subcommand shares.
type app struct {
	streams    Streams
	registry   *components.Registry
	log        *slog.Logger
	logOut     *swapWriter // where log goes: stderr, or above a live view
	verbosity  int
	interrupts *interrupts
}

func newRoot(streams Streams, it *interrupts) *cobra.Command {
	a := &app{streams: streams, registry: components.Default(), interrupts: it, log: slog.New(slog.DiscardHandler)}
	root := &cobra.Command{
		Use:   "atmosphere",
		Short: "Deploy an OpenStack cloud on Kubernetes, in parallel",
		Long: "atmosphere deploys a whole OpenStack cloud on Kubernetes: every component as a\n" +
			"unit of a dependency graph, each started the moment what it needs is done.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that cobra validates its arguments: an unknown
		// subcommand is then a usage error instead of help and exit 0.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.PersistentFlags().CountVarP(&a.verbosity, "verbose", "v", "log more to stderr: -v info, -vv debug (warnings are always logged)")
	root.PersistentPreRun = func(*cobra.Command, []string) {
		level := slog.LevelWarn
		switch {
		case a.verbosity >= 2:
			level = slog.LevelDebug
		case a.verbosity == 1:
			level = slog.LevelInfo
		}
		a.logOut = &swapWriter{w: streams.Err}
		a.log = slog.New(slog.NewTextHandler(a.logOut, &slog.HandlerOptions{Level: level}))
		// client-go logs through klog; send it where the rest goes.
		clientGoLog.set(a.log.Handler())
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())}
	})
	root.AddCommand(a.newDeploy(), a.newUpgrade(), a.newRollback(), a.newGraph(), a.newPlan(), a.newSimulate(), a.newStatus())
	// Unknown subcommands and wrong argument counts are usage errors too.
	for _, c := range append(root.Commands(), root) {
		wrapArgs(c)
	}
	return root
}

// wrapArgs makes argument validation failures UsageErrors.
func wrapArgs(c *cobra.Command) {
	check := c.Args
	if check == nil {
		if c.HasSubCommands() {
			check = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
				}
				return nil
			}
		} else {
			check = cobra.NoArgs
		}
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &UsageError{Err: err}
		}
		return nil
	}
}

// swapWriter is a writer whose destination can change while loggers hold it.
type swapWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *swapWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// swap sets the destination and returns the previous one.
func (s *swapWriter) swap(w io.Writer) io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.w
	s.w = w
	return old
}
