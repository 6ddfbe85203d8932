package sinks

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"
)

// Factory builds a Sink of one kind from the kind's YAML config. It must
// validate the config completely and must not do I/O: the same factory
// serves `auditbus rules validate`, where Deps has no connections.
type Factory func(config *yaml.Node, deps Deps) (Sink, error)

// ErrUnknownKind is returned for a target kind no sink registered.
var ErrUnknownKind = errors.New("unknown target kind")

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a sink kind available under name. It panics when name is
// empty or already registered: two kinds with one name is a programming
// error that must not wait for a rule to use it.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" || f == nil {
		panic("sinks: Register needs a name and a factory")
	}
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("sinks: kind %q registered twice", name))
	}
	registry[name] = f
}

// New builds a sink of kind from config.
func New(kind string, config *yaml.Node, deps Deps) (Sink, error) {
	registryMu.RLock()
	f, ok := registry[kind]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownKind, kind, Kinds())
	}
	return f(config, deps)
}

// Check validates a target config without connecting anything. It has the
// signature rules.WithTargetCheck expects.
func Check(kind string, config *yaml.Node) error {
	_, err := New(kind, config, Deps{})
	return err
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	kinds := make([]string, 0, len(registry))
	for k := range registry {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}
