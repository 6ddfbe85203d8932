// Package huaweicloud holds compatibility tests of auditbus against the
// Huawei Cloud Go SDK (github.com/huaweicloud/huaweicloud-sdk-go-v3). It is
// a separate module so that the SDK, a large module, stays out of auditbus's
// own go.mod; run its tests with `go -C router/compat/huaweicloud test ./...`.
//
// The tests sign requests with the SDK's own signer (through real CTS and
// HSS clients and through core/auth/signer) and verify them with
// router/auth.SignatureVerifier on a loopback httptest server. They also
// write the golden SDK-signed requests router/auth's unit tests replay
// (go test -run TestGolden -update).
package huaweicloud
