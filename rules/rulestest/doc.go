// Package rulestest generates realistic rule sets and events for
// benchmarks and tests.
//
// Rules returns a multi-document YAML rule file shaped like the rules
// people write for Tencent CloudAudit: each rule watches one or two write
// operations of one product on one resource, under the shared OR-list
// type: ["<product>:CloudEvent:ApiCall", "<product>:CloudEvent:ConsoleCall"],
// often with a userIdentity, errorCode or region constraint, sometimes an
// $or of two ways to name the resource or an expr condition; about one
// rule in a hundred is broad (type or source only). Events returns ~2.3 KB
// structured CloudEvents wrapped the way router/sources wraps CloudAudit
// records, each built either to match exactly one known rule or to match
// none.
//
// Everything is a pure function of its arguments (no global randomness,
// no clock), so figures taken from the same (n, seed) are comparable
// across runs, machines and matcher implementations. The package does not
// import package rules, so that package's own tests can use it.
package rulestest
