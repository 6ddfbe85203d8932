package bus

import "time"

// SetBeforeRecover makes w call f inside EnableJetStream, after the account
// is live and before any stream is recovered, so a test can hold open the
// window Fault and Settled hide.
func SetBeforeRecover(w *DiskWatch, f func()) { w.beforeRecover = f }

// SetCommitWait shortens p's wait for a batch commit's answer.
func SetCommitWait(p *Publisher, d time.Duration) { p.commitWait = d }
