package sinks

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// decodeConfig decodes a kind's mapping into v, refusing keys v does not
// know, since a misspelt option silently ignored is a target that does not
// behave as its author believes. An absent config decodes as empty.
func decodeConfig(node *yaml.Node, v any, known ...string) error {
	if node == nil || node.Kind == 0 {
		return nil
	}
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d col %d: config must be a mapping", node.Line, node.Column)
	}
	for i := 0; i < len(node.Content); i += 2 {
		k := node.Content[i]
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("line %d col %d: unknown option %q (known: %v)", k.Line, k.Column, k.Value, known)
		}
	}
	if err := node.Decode(v); err != nil {
		return err
	}
	return nil
}
