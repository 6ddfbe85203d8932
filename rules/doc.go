// Package rules loads YAML event rules, compiles their EventBridge-style
// patterns and expr conditions into expr programs once, and matches
// CloudEvents against an immutable compiled rule set.
//
// The data path is load -> compile -> match: ParseFile and Load turn YAML
// into Rules (every problem reported as an *Error carrying file, line and
// column), Compile turns Rules into a Set, and Set.Match answers which
// rules an event satisfies. A Set never changes after Compile, so the
// router can swap whole sets atomically and match without locks.
package rules
