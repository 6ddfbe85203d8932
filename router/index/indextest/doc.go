// Package indextest makes audit events of all three sources for tests of
// the audit index and the query faces built on it: Huawei CTS traces,
// Tencent CloudAudit records and Kubernetes audit events, each converted
// by router/sources as the ingest endpoints convert them, with fields that
// repeat at different periods so every filter has several matches.
package indextest
