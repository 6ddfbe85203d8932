package kubernetes

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestRefusalsReadByClientGo: client-go, the kube-apiserver's webhook
// client, reads auditbus's refusals as the Status they are, with
// auditbus's code and message, so the apiserver's log says why (before,
// it logged "unknown" for a 403).
func TestRefusalsReadByClientGo(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	for _, c := range []struct {
		name   string
		cred   credential
		body   string
		is     func(error) bool
		wantIn string
	}{
		{"token without sources:put", credential{token: f.readerToken}, "{}", apierrors.IsForbidden, "AB.4030"},
		{"token of no identity", credential{token: "abt_nobody"}, "{}", apierrors.IsUnauthorized, "AB.4010"},
		{"a body that is not JSON", credential{token: f.writerToken}, "{", apierrors.IsBadRequest, "AB.1001"},
	} {
		t.Run(c.name, func(t *testing.T) {
			kc := writeKubeconfig(t, baseURL(s), "", f.serverCA.file, c.cred)
			cfg, err := clientcmd.BuildConfigFromFlags("", kc.file)
			if err != nil {
				t.Fatal(err)
			}
			cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
			client, err := rest.UnversionedRESTClientFor(cfg) // as the webhook backend builds its client
			if err != nil {
				t.Fatal(err)
			}
			err = client.Post().SetHeader("Content-Type", "application/json").Body([]byte(c.body)).Do(context.Background()).Error()
			if !c.is(err) || !strings.Contains(err.Error(), c.wantIn) {
				t.Errorf("client-go's error %q (reason %q), want one of the refusal's kind naming %s", err, apierrors.ReasonForError(err), c.wantIn)
			}
		})
	}
}
