// Package kubernetes holds compatibility tests of auditbus against the
// kube-apiserver's own audit webhook backend (k8s.io/apiserver's
// plugin/pkg/audit/webhook, and plugin/pkg/audit/buffered for batch mode).
// It is a separate module so that k8s.io/apiserver and client-go stay out
// of auditbus's own go.mod; run its tests with
// `go -C router/compat/kubernetes test ./...`.
//
// The tests take the kubeconfig that router/README.md tells users to write
// (read from the README itself), point it at a running auditbus on
// 127.0.0.1 with TLS and an auth file, and send audit.k8s.io/v1 events
// through the backend exactly as kube-apiserver does: with a bearer token
// and with a client certificate, in blocking and batch mode. They check
// what auditbus stored on its JetStream stream, that refused credentials
// store nothing after the backend's retries, and that the backend's
// retries carry a batch through an auditbus restart and a bus outage
// (503), and a stream of events in either mode through a SIGKILL of an
// `auditbus serve` process (built from ./cmd/auditbus) and its restart on
// the same data directory, without losing or storing twice any event.
package kubernetes
