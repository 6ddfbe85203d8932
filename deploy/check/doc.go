// Package check holds CI's checks of deploy/, in a module of their own so
// that kustomize, the Kubernetes API types and compose-spec's loader stay
// out of auditbus's go.mod. Its tests render deploy/kustomization.yaml with
// kustomize's Go API, decode every object strictly into its k8s.io/api type
// and validate it against the Kubernetes OpenAPI v3 schema of the release
// the API types come from, check what a schema cannot see (selectors,
// mounted Secrets and ConfigMaps, probes, NetworkPolicy ports, the NATS
// nodes' options), and load deploy/compose.yaml with compose-spec's loader.
// Run them with `go -C deploy/check test ./...`.
package check
