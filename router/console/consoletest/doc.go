// Package consoletest runs the web console for tests: a whole auditbus
// in-process (embedded NATS on a temp dir, real HTTP on loopback) with
// test identities, and a headless Chromium driven with chromedp, with
// helpers to sign in, keep screenshots and measure pages.
//
// The browser is Debian's chromium (/usr/bin/chromium; .ci/run installs
// it when missing): a test fails, never skips, without it. Screenshots go
// to the directory $AUDITBUS_SCREENSHOTS names, else to the test's temp
// dir; each is logged with its path.
package consoletest
