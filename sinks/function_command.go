package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
)

// commandWaitDelay bounds how long a finished or killed command may keep
// its output pipes open through a process that left its group, so a
// delivery never hangs on one.
const commandWaitDelay = 2 * time.Second

// errCommandTimeout is the cause of a run's context when its timeout
// passed, telling a timeout from the delivery being cancelled.
var errCommandTimeout = errors.New("timed out")

// CommandError is how a command target's run failed, kept whole so a
// dead-letter entry can record it: ExitCode is the exit status, or -1 when
// a signal ended the process (a timeout included); Stderr is the tail of
// its standard error, at most MaxResponseBytes.
type CommandError struct {
	ExitCode int
	TimedOut bool
	Timeout  time.Duration // the limit that passed, when TimedOut
	Stderr   []byte
}

func (e *CommandError) Error() string {
	var b strings.Builder
	switch {
	case e.TimedOut:
		fmt.Fprintf(&b, "timed out after %s; its process group was killed", e.Timeout)
	case e.ExitCode < 0:
		b.WriteString("killed by a signal")
	default:
		fmt.Fprintf(&b, "exit status %d", e.ExitCode)
	}
	if len(e.Stderr) > 0 {
		fmt.Fprintf(&b, "; stderr: %q", e.Stderr)
	}
	return b.String()
}

// commandInvoker runs a local program per delivery.
type commandInvoker struct {
	argv    []string
	timeout time.Duration
	slots   limiter
	log     zerolog.Logger
}

func newCommandInvoker(node *yaml.Node, cfg FunctionConfig, log zerolog.Logger) (*commandInvoker, error) {
	if err := refuseOptions(node, "command", "invocation", "headers"); err != nil {
		return nil, err
	}
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, errors.New(`command: want the program and its arguments, e.g. ["/usr/local/bin/on-delete", "--verbose"]`)
	}
	if cfg.MaxConcurrency < 0 {
		return nil, fmt.Errorf("max_concurrency %d: must be positive", cfg.MaxConcurrency)
	}
	c := &commandInvoker{argv: cfg.Command, timeout: cfg.Timeout, log: log.With().Str("urn", cfg.URN).Logger()}
	if c.timeout == 0 {
		c.timeout = DefaultFunctionCommandTimeout
	}
	n := cfg.MaxConcurrency
	if n == 0 {
		n = DefaultFunctionMaxConcurrency
	}
	c.slots = newLimiter(n)
	return c, nil
}

// check reports a program that cannot be found now.
func (c *commandInvoker) check() error {
	if _, err := exec.LookPath(c.argv[0]); err != nil {
		return fmt.Errorf("command: %w", err)
	}
	return nil
}

func (c *commandInvoker) close() {}

// invoke waits for a free slot, then runs the command once.
func (c *commandInvoker) invoke(ctx context.Context, body []byte, _ string) ([]byte, error) {
	busy := func() {
		c.log.Debug().Int("max_concurrency", cap(c.slots)).Msg("command target busy: waiting for a free slot")
	}
	if err := c.slots.acquire(ctx, busy); err != nil {
		return nil, err
	}
	defer c.slots.release()
	return c.run(ctx, body)
}

// run starts the program with body on standard input and waits for it,
// killing its process group when the timeout passes or ctx ends.
func (c *commandInvoker) run(ctx context.Context, body []byte) ([]byte, error) {
	runCtx, cancel := context.WithTimeoutCause(ctx, c.timeout, errCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, c.argv[0], c.argv[1:]...)
	cmd.Stdin = bytes.NewReader(body)
	stdout, stderr := &headBuffer{max: MaxResponseBytes}, &tailBuffer{max: MaxResponseBytes}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = commandWaitDelay
	killGroupOnCancel(cmd)
	err := cmd.Run()
	if cmd.ProcessState == nil { // it never started
		return nil, c.startError(err)
	}
	killLeftovers(cmd) // what the program left running in its group ends with the run
	timedOut := errors.Is(context.Cause(runCtx), errCommandTimeout)
	if cmd.ProcessState.Success() && !timedOut {
		// exec.ErrWaitDelay here only means a process it left behind kept
		// the output open: the command itself succeeded.
		return stdout.b, nil
	}
	ce := &CommandError{ExitCode: cmd.ProcessState.ExitCode(), TimedOut: timedOut, Stderr: stderr.bytes()}
	if timedOut {
		ce.Timeout = c.timeout
	}
	e := &Error{Retryable: true, Err: fmt.Errorf("run %s: %w", c.argv[0], ce)}
	if ce.ExitCode > 0 {
		e.Status = ce.ExitCode
	}
	if ctx.Err() != nil && !timedOut {
		e.Err = fmt.Errorf("run %s: interrupted (%w): %w", c.argv[0], context.Cause(ctx), ce)
	}
	return nil, e
}

// startError classifies a command that could not start: a program that is
// missing or not executable fails for good (install it, then redrive);
// anything else (out of processes, a cancelled delivery) may pass.
func (c *commandInvoker) startError(err error) error {
	err = fmt.Errorf("start %s: %w", c.argv[0], err)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, exec.ErrDot) {
		return Permanent(err)
	}
	return err
}

// limiter bounds how many runs of one target are under way.
type limiter chan struct{}

func newLimiter(n int) limiter { return make(limiter, n) }

// acquire takes a slot, waiting for one until ctx ends; busy, when not
// nil, is called first if every slot is taken.
func (l limiter) acquire(ctx context.Context, busy func()) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	if busy != nil {
		busy()
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for one of %d command slots: %w", cap(l), context.Cause(ctx))
	}
}

func (l limiter) release() { <-l }

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	max int
	b   []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it, in at most twice that
// much memory.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return n, nil
}

func (t *tailBuffer) bytes() []byte {
	if len(t.b) > t.max {
		return t.b[len(t.b)-t.max:]
	}
	return t.b
}
