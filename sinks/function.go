package sinks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
)

func init() { Register("function", newFunction) }

var _ Sink = (*Function)(nil)

// Function invocation modes of a url function target.
const (
	InvocationSync  = "sync"  // POST and wait for the function's 2xx answer
	InvocationAsync = "async" // POST to an async endpoint, which answers 202 Accepted
)

// Function target defaults.
const (
	DefaultFunctionURLTimeout     = 10 * time.Second
	DefaultFunctionCommandTimeout = 30 * time.Second
	DefaultFunctionMaxConcurrency = 4
)

// MaxResponseBytes bounds what a function target keeps of an answer
// (Delivery.Response, the debug log) and of a command's standard error.
const MaxResponseBytes = 4 << 10

// FunctionConfig is a function target's YAML config: urn, and either url
// (with invocation, timeout, headers) or command (with timeout,
// max_concurrency).
type FunctionConfig struct {
	URN            string            `yaml:"urn"`
	URL            string            `yaml:"url"`
	Invocation     string            `yaml:"invocation"` // url: sync (default) or async
	Headers        map[string]string `yaml:"headers"`    // url: added to every request
	Command        []string          `yaml:"command"`    // argv, run without a shell
	MaxConcurrency int               `yaml:"max_concurrency"`
	Timeout        time.Duration     `yaml:"timeout"` // url: 10s; command: 30s
}

var functionOptions = []string{"urn", "url", "invocation", "headers", "command", "max_concurrency", "timeout"}

// Function invokes a serverless function for each event, FunctionGraph or
// SCF style: the function is named by its URN, and called either through
// an HTTP invocation endpoint (url) or, for a router on one machine, as a
// local command. The function gets the event as structured CloudEvent
// JSON, as FunctionGraph's event triggers pass it, or the target's input
// payload when it has one.
//
// Over HTTP, a sync invocation succeeds on any 2xx and the answer's body
// (up to MaxResponseBytes) is kept in Delivery.Response; an async one
// succeeds only on 202 Accepted: any other 2xx is a permanent failure,
// since it means the URL is not an async endpoint and the function may
// already have run. Other statuses map as for webhooks (408, 429, 5xx and
// network errors retryable with Retry-After honoured; other 4xx and 3xx
// permanent). Redirects are never followed, and the connection passes the
// server's Guard (no private addresses unless allowed).
//
// A command runs without a shell, with the event on standard input and the
// router's environment and working directory, in its own process group,
// killed whole when the timeout passes; at most max_concurrency
// runs of one target at a time (a delivery waits for a free slot within
// its own deadline; the timeout counts from the start of the process).
// Exit status 0 is success and standard output (up to MaxResponseBytes)
// is kept in Delivery.Response; any other exit, a timeout included, is a
// retryable failure whose error carries a *CommandError with the exit
// code and the tail of standard error; a program that is missing or not
// executable fails for good.
type Function struct {
	urn string
	inv invoker
	log zerolog.Logger
}

// invoker is one way of calling the function.
type invoker interface {
	// invoke delivers body, returning what the function answered.
	invoke(ctx context.Context, body []byte, contentType string) ([]byte, error)
	// check looks for problems worth a warning before the first delivery.
	check() error
	close()
}

func newFunction(node *yaml.Node, deps Deps) (Sink, error) {
	var cfg FunctionConfig
	if err := decodeConfig(node, &cfg, functionOptions...); err != nil {
		return nil, err
	}
	if err := checkURN(cfg.URN); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: must be positive", cfg.Timeout)
	}
	hasURL, hasCommand := hasKey(node, "url"), hasKey(node, "command")
	var (
		inv invoker
		err error
	)
	switch {
	case hasURL && hasCommand:
		return nil, errors.New("url and command: give one of them, not both")
	case hasURL:
		inv, err = newHTTPInvoker(node, cfg, deps.Guard)
	case hasCommand:
		inv, err = newCommandInvoker(node, cfg, deps.Log)
	default:
		return nil, errors.New("want url (an HTTP invocation endpoint) or command (a local program)")
	}
	if err != nil {
		return nil, err
	}
	return &Function{urn: cfg.URN, inv: inv, log: deps.Log}, nil
}

// checkURN accepts a URN: "urn:", then colon-separated parts, none empty
// (urn:fss:ap-guangzhou:123:function:default:on-delete:latest).
func checkURN(urn string) error {
	const example = "urn:fss:ap-guangzhou:123:function:default:on-delete:latest"
	if urn == "" {
		return fmt.Errorf("urn: required, e.g. %s", example)
	}
	parts := strings.Split(urn, ":")
	if !strings.EqualFold(parts[0], "urn") || len(parts) < 3 {
		return fmt.Errorf("urn %q: want urn:<namespace>:<name>..., e.g. %s", urn, example)
	}
	for i, p := range parts {
		if p == "" {
			return fmt.Errorf("urn %q: part %d is empty", urn, i+1)
		}
		if strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return fmt.Errorf("urn %q: part %d holds a space or control character", urn, i+1)
		}
	}
	return nil
}

// refuseOptions reports the first of names present in node, which do not
// apply to the target's mode.
func refuseOptions(node *yaml.Node, mode string, names ...string) error {
	for _, n := range names {
		if hasKey(node, n) {
			return fmt.Errorf("%s: applies to %s function targets only", n, otherMode(mode))
		}
	}
	return nil
}

func otherMode(mode string) string {
	if mode == "url" {
		return "command"
	}
	return "url"
}

// Connect reports problems visible before the first delivery, such as a
// command that is not installed; deliveries are still tried.
func (f *Function) Connect(context.Context) error {
	if err := f.inv.check(); err != nil {
		return fmt.Errorf("function %s: %w", f.urn, err)
	}
	return nil
}

// Close releases idle connections.
func (f *Function) Close() error {
	f.inv.close()
	return nil
}

// Deliver invokes the function once with the event, or the input payload,
// and keeps its answer in d.Response. See Function for what counts as
// success and which failures are retryable.
func (f *Function) Deliver(ctx context.Context, d *Delivery) error {
	b, contentType, err := functionBody(d)
	if err != nil {
		return err
	}
	answer, err := f.inv.invoke(ctx, b, contentType)
	if err != nil {
		return fmt.Errorf("function %s: %w", f.urn, err)
	}
	d.Response = answer
	f.log.Debug().Str("urn", f.urn).Str("rule", d.Rule).Str("target", d.Target).Str("event", d.Event.ID()).
		Bytes("response", answer).Msg("function invoked")
	return nil
}

// functionBody is what a function receives: the input payload when the
// target has one, else the whole event as structured CloudEvent JSON.
func functionBody(d *Delivery) ([]byte, string, error) {
	if d.Payload != nil {
		return body(d)
	}
	b, err := structuredOf(d)
	return b, event.ApplicationJSON, err
}
