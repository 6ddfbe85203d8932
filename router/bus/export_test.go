package bus

// SetBeforeRecover makes w call f inside EnableJetStream, after the account
// is live and before any stream is recovered, so a test can hold open the
// window Fault and Settled hide.
func SetBeforeRecover(w *DiskWatch, f func()) { w.beforeRecover = f }
