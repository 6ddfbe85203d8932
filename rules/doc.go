// Package rules loads YAML event rules, compiles their EventBridge-style
// patterns and expr conditions into expr programs once, and matches
// CloudEvents against an immutable compiled rule set.
//
// The data path is load -> compile -> match: ParseFile and Load turn YAML
// into Rules (every problem reported as an *Error carrying file, line and
// column), Compile turns Rules into a Set, and Set.Match answers which
// rules an event satisfies. A Set never changes after Compile, so the
// router can swap whole sets atomically and match without locks.
//
// Pattern semantics, where EventBridge leaves room for choice:
//
//   - A pattern path collects every leaf value it reaches (strings,
//     numbers, booleans, null; objects are not values), expanding arrays
//     met anywhere along the path; a leaf matches if any collected value
//     matches. An empty array contributes no values, so it behaves like a
//     missing field.
//   - An object pattern with several clauses is a group: its clauses must
//     hold within one object its path reaches, one element of an array of
//     objects (Event Ruler's array-consistent matching). With no object
//     there, they are tried on an empty one.
//   - A missing field, or one holding an object, matches only {exists:
//     false}. JSON null is a present value: it matches null and {exists:
//     true}.
//   - Numbers compare as numbers (0, 0.0 and 0e0 are equal); a string never
//     equals a number and a bool never equals 1.
//   - anything-but requires the field to be present and holds when some
//     value is not excluded: like every matcher, an array matches if any
//     element does, so ["prod", "dev"] passes anything-but "prod". With
//     prefix, suffix, equals-ignore-case or wildcard, non-string values are
//     never excluded.
//   - prefix, suffix, wildcard, equals-ignore-case and cidr match strings
//     only; numeric matches numbers only.
//
// Each pattern compiles to readable expr text (Rule.Expr) that uses a few
// helper functions: at(root, keys...) for path collection, objs(root,
// keys...) for a group's objects (bound with let to _g1, _g2, ...),
// isString, isNumber, equalFold, hasPrefixFold, hasSuffixFold and inCIDR. That program run over NewEnv of the event
// (Rule.Match) is the reference semantics; Rule.Explain runs it clause by
// clause.
//
// Set.Match gives the reference answers without running every program.
// Per bus it keeps a tree of the paths the rules read and an index: each
// rule is keyed on the exact strings or prefixes of its least shared
// clause. The stored event's JSON is scanned once (scan.go), recording only
// the tree's paths; the event's indexed values pick the candidates; their
// patterns are checked by native matchers (eval.go; each value recorded
// with the array element holding it, for groups) and their conditions
// run on just what they read (condenv.go). An event the scan cannot read
// exactly as sdk-go and NewEnv would is decoded in full instead (attrs.go,
// contenttype.go). The differential test and FuzzMatch hold the two paths
// to the reference.
package rules
