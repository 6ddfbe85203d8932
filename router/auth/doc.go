// Package auth decides who is calling the HTTP API and what they may do.
//
// An auth file (YAML, see ParseFile) lists identities. Each presents itself
// in one or more ways: a bearer token (Authorization: Bearer or
// X-Auth-Token, stored as its SHA-256), an access key pair that signs
// requests the way Huawei Cloud's SDKs do (SDK-HMAC-SHA256), or a TLS
// client certificate verified against the server's client CA. Each carries
// the actions it may perform (ActionEventsPut, ActionRulesWrite, ..., "*")
// and optionally the buses it may touch.
//
// An Authenticator holds the compiled file behind an atomic pointer, so a
// reload (Run polls the file) never blocks a request, and a file that
// fails to parse keeps the identities already loaded. Authorize is the one
// check every protected endpoint runs: 401 without a valid identity, 403
// without the action, 429 for an address that keeps failing.
package auth
