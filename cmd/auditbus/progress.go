package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
)

// progressEvery is how often a progress line is redrawn at most.
const progressEvery = 100 * time.Millisecond

// progress reports how far a long run is on one line of stderr, redrawn
// in place. It writes only when stderr is a terminal: a pipe, a file or a
// test's buffer gets nothing, so scripts and logs see the results alone.
type progress struct {
	w     io.Writer // nil: not a terminal, report nothing
	last  time.Time
	drawn bool
}

func newProgress(stderr io.Writer) *progress {
	if !isTerminal(stderr) {
		return &progress{}
	}
	return &progress{w: stderr}
}

// show redraws the line, at most every progressEvery unless final.
func (p *progress) show(final bool, format string, args ...any) {
	if p.w == nil || (!final && time.Since(p.last) < progressEvery) {
		return
	}
	p.last, p.drawn = time.Now(), true
	fmt.Fprintf(p.w, "\r\033[K"+format, args...)
}

// clear erases the line, for output to the same terminal to start clean;
// the next show draws it again.
func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// end finishes the line, so what follows starts on a fresh one.
func (p *progress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// isTerminal reports whether w is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
