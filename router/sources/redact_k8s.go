package sources

import "strings"

// secretValues redacts the values of Kubernetes Secrets, which carry no
// telltale key names: a Secret or SecretList object, and the request and
// response objects of an audit event about secrets (a patch or a list item
// has no kind of its own). It reports whether m held any.
func secretValues(m map[string]any) bool {
	kind, _ := m["kind"].(string)
	switch {
	case kind == "Secret":
		return redactSecretData(m)
	case kind == "SecretList":
		return redactItems(m)
	case !aboutSecrets(m):
		return false
	}
	found := false
	for k, v := range m {
		if !strings.EqualFold(k, "requestObject") && !strings.EqualFold(k, "responseObject") {
			continue
		}
		switch obj := v.(type) {
		case map[string]any:
			found = redactSecretData(obj) || found
			found = redactItems(obj) || found
		case []any: // a JSON Patch: every op's value may be secret data
			found = redactPatch(obj) || found
		}
	}
	return found
}

func redactPatch(ops []any) bool {
	found := false
	for _, op := range ops {
		if m, ok := op.(map[string]any); ok {
			if _, has := m["value"]; has {
				m["value"], found = Redacted, true
			}
		}
	}
	return found
}

// aboutSecrets reports whether m is an audit event whose objectRef (any
// key case, as ACP capitalizes it) names the secrets resource.
func aboutSecrets(m map[string]any) bool {
	for k, v := range m {
		ref, ok := v.(map[string]any)
		if !ok || !strings.EqualFold(k, "objectRef") {
			continue
		}
		for rk, rv := range ref {
			if strings.EqualFold(rk, "resource") && rv == "secrets" {
				return true
			}
		}
	}
	return false
}

func redactItems(m map[string]any) bool {
	found := false
	items, _ := m["items"].([]any)
	for _, it := range items {
		if obj, ok := it.(map[string]any); ok {
			found = redactSecretData(obj) || found
		}
	}
	return found
}

func redactSecretData(m map[string]any) bool {
	found := false
	for _, field := range []string{"data", "stringData"} {
		if values, ok := m[field].(map[string]any); ok {
			for k := range values {
				values[k], found = Redacted, true
			}
		}
	}
	return found
}
