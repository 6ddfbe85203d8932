package kubernetes

import (
	"path"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// readmeFile holds the kubeconfig these tests prove: the one router's
// README tells users to give kube-apiserver's --audit-webhook-config-file.
const readmeFile = "../../README.md"

// readmeKubeconfig is the kubeconfig block of readmeFile, the one marked
// <!-- test: router/compat/kubernetes TestReadmeKubeconfigDelivers -->.
func readmeKubeconfig(t *testing.T) []byte {
	t.Helper()
	return []byte(doccheck.Read(t, readmeFile, "TestReadmeKubeconfigDelivers"))
}

// credential is what the kubeconfig's user presents: a bearer token, or
// a client certificate and its key.
type credential struct {
	token string
	cert  keyPair
}

// kubeconfig is a kubeconfig written for a test.
type kubeconfig struct {
	file    string
	cluster string // the cluster the server URL's path names
}

// Lines of the README's kubeconfig a test rewrites: each must be there
// exactly once.
var (
	serverLine     = regexp.MustCompile(`(?m)^(\s*server: )https://[^/\s]+(/\S*)`)
	caLine         = regexp.MustCompile(`(?m)^(\s*certificate-authority: )\S+`)
	tokenLine      = regexp.MustCompile(`(?m)^(\s*token: )\S+.*\n`)
	clientCertLine = regexp.MustCompile(`(?m)^(\s*)#\s*(client-certificate: )\S+`)
	clientKeyLine  = regexp.MustCompile(`(?m)^(\s*)#\s*(client-key: )\S+`)
)

// writeKubeconfig writes the README's kubeconfig for a server at base
// (https://127.0.0.1:port) trusted through caFile, presenting cred: the
// token in place of the README's, or the client certificate lines the
// README has commented out, without the token. A non-empty path replaces
// the README's path (and query) of the server URL.
func writeKubeconfig(t *testing.T, base, urlPath, caFile string, cred credential) kubeconfig {
	t.Helper()
	doc := readmeKubeconfig(t)
	m := once(t, serverLine, doc).FindSubmatch(doc)
	readmePath := string(m[2])
	if urlPath == "" {
		urlPath = readmePath
	}
	doc = serverLine.ReplaceAll(doc, []byte("${1}"+base+urlPath))
	doc = once(t, caLine, doc).ReplaceAll(doc, []byte("${1}"+caFile))
	once(t, clientCertLine, doc)
	once(t, clientKeyLine, doc)
	if cred.token != "" {
		doc = once(t, tokenLine, doc).ReplaceAll(doc, []byte("${1}"+cred.token+"\n"))
	} else {
		doc = once(t, tokenLine, doc).ReplaceAll(doc, nil)
		doc = clientCertLine.ReplaceAll(doc, []byte("${1}${2}"+cred.cert.cert))
		doc = clientKeyLine.ReplaceAll(doc, []byte("${1}${2}"+cred.cert.key))
	}
	file := writeFile(t, filepath.Join(t.TempDir(), "audit-webhook.kubeconfig"), doc)
	t.Logf("kubeconfig:\n%s", doc)
	return kubeconfig{file: file, cluster: path.Base(urlPath)}
}

// once returns re when it matches doc exactly once, else fails the test:
// the README's kubeconfig changed shape and this test must follow it.
func once(t *testing.T, re *regexp.Regexp, doc []byte) *regexp.Regexp {
	t.Helper()
	if n := len(re.FindAllIndex(doc, -1)); n != 1 {
		t.Fatalf("%s's kubeconfig has %d lines matching %s, want 1: update this test to the README's kubeconfig:\n%s", readmeFile, n, re, doc)
	}
	return re
}
