package dispatch

import "testing"

// BenchmarkKeepAlive is the keep-alive's cost for a delivery that ends
// before it first fires, as nearly all do.
func BenchmarkKeepAlive(b *testing.B) {
	r := &Router{opts: buildOptions(nil)}
	m := &progressMsg{}
	b.ReportAllocs()
	for b.Loop() {
		r.keepAlive(m)()
	}
}
