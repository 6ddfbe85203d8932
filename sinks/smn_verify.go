package sinks

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrSMNSignature is returned by VerifySMN when a message's signature does
// not verify with the certificate.
var ErrSMNSignature = errors.New("smn message signature does not verify")

// VerifySMN checks an smn delivery for receivers written in Go and returns
// the decoded message: the body must be an SMN Notification or
// SubscriptionConfirmation whose signature (base64) is the SHA256withRSA
// signature of its StringToSign by cert's key. A body that is not such a message is an error; a signature
// that does not verify is ErrSMNSignature.
//
// cert must come from a source the receiver trusts: fetched once from the
// router's own /v1/signing-cert over a trusted channel, or from
// signing_cert_url only after checking that the URL starts with the
// router's known public URL. A certificate taken from whatever URL a
// message names proves nothing.
func VerifySMN(body []byte, cert *x509.Certificate) (*SMNMessage, error) {
	var m SMNMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("smn message: %w", err)
	}
	if m.Type != SMNTypeNotification && m.Type != SMNTypeSubscriptionConfirmation {
		return nil, fmt.Errorf("smn message: type %q, want %q or %q", m.Type, SMNTypeNotification, SMNTypeSubscriptionConfirmation)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64: %v", ErrSMNSignature, err)
	}
	if err := cert.CheckSignature(x509.SHA256WithRSA, []byte(m.StringToSign()), sig); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSMNSignature, err)
	}
	return &m, nil
}
