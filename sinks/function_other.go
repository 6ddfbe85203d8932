//go:build !unix

package sinks

import "os/exec"

// killGroupOnCancel leaves cmd as it is where process groups are not
// available: cancelling kills the process itself (exec's default), and
// commandWaitDelay bounds the wait for any children it left.
func killGroupOnCancel(*exec.Cmd) {}

func killLeftovers(*exec.Cmd) {}
