package rules

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"

	"gopkg.in/yaml.v3"
)

// YAML decoding is most of what loading a large rule file costs, and it
// runs on one core. A large file is therefore cut at document markers into
// chunks decoded in parallel, each delivered in file order; the result must
// be the stream decoder's, document for document, so anything a chunk
// decoded alone could read differently falls back to the stream:
//
//   - a chunk that fails, for any reason (a syntax error, an alias of an
//     anchor an earlier document set, a directive cut from its document),
//     hands over to the stream decoder, which starts again from the first
//     document: the stream's look-ahead can fail on the next chunk's first
//     line before it returns the document the failed chunk follows;
//   - line numbers are shifted by the lines before the chunk, so a file
//     whose line breaks are not all \n or \r\n (which YAML would count
//     differently) is never cut.

// parallelChunk is about how much YAML one task decodes: large enough that
// a task costs far more than handing it over, small enough to bound the
// documents decoded ahead of the one being compiled.
const parallelChunk = 128 << 10

// eachDocument calls fn with each YAML document of src in order, and
// returns the syntax error that ended the stream, if any. When it has to
// start again from the first document, it calls restart first, so that
// the caller forgets what fn was given.
func eachDocument(src []byte, fn func(*yaml.Node), restart func()) error {
	return eachDocumentChunked(src, parallelChunk, fn, restart)
}

func eachDocumentChunked(src []byte, size int, fn func(*yaml.Node), restart func()) error {
	start := func() chunkWork[[]*yaml.Node] { return &keepDocs{} }
	each := func(docs []*yaml.Node) {
		for _, doc := range docs {
			fn(doc)
		}
	}
	return eachChunk(src, size, start, each, restart, false)
}

// chunkWork is what a caller of eachChunk does with one chunk's
// documents, one at a time, and then the result it collects.
type chunkWork[T any] interface {
	doc(*yaml.Node)
	done() T
}

// keepDocs is the chunkWork of eachDocument: the documents themselves.
type keepDocs struct{ docs []*yaml.Node }

func (k *keepDocs) doc(d *yaml.Node)   { k.docs = append(k.docs, d) }
func (k *keepDocs) done() []*yaml.Node { return k.docs }

// eachChunk is eachDocument for a caller that works on a chunk's
// documents where they are decoded: each chunk gets a chunkWork from
// start, run on the decoding goroutine, several at once, and collect is
// given their results one at a time, in file order. A file decoded in one
// pass is one chunk, which holds the documents before the syntax error,
// if any, that ended it. With reuse, a document's nodes are reused for the
// next once doc returns: doc must keep none of them.
func eachChunk[T any](src []byte, size int, start func() chunkWork[T], collect func(T), restart func(), reuse bool) error {
	chunks := splitDocuments(src, size)
	if len(chunks) < 2 {
		if plainLineBreaks(src) {
			w := start()
			if err := decodeChunk(src, chunk{0, len(src), 0}, w.doc, reuse); err == nil {
				collect(w.done())
				return nil
			}
		}
		w := start()
		err := decodeStream(src, w.doc)
		collect(w.done())
		return err
	}
	if decodeChunks(src, chunks, start, collect, reuse) {
		return nil
	}
	restart()
	w := start()
	err := decodeStream(src, w.doc)
	collect(w.done())
	return err
}

// decodeStream decodes src in one pass.
func decodeStream(src []byte, fn func(*yaml.Node)) error {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		fn(doc)
	}
}

// chunk is src[start:end], which begins line lines into the file.
type chunk struct{ start, end, line int }

// splitDocuments cuts src into chunks of at least size bytes, each but the
// first starting at a line that opens a document ("---" then a space, a
// tab, a line break or the end). It returns nil when src is not to be cut.
func splitDocuments(src []byte, size int) []chunk {
	if len(src) < 2*size || !plainLineBreaks(src) {
		return nil
	}
	var out []chunk
	start, line := 0, 0
	for start+size < len(src) {
		next := nextDocumentStart(src, start+size)
		if next < 0 {
			break
		}
		out = append(out, chunk{start, next, line})
		line += bytes.Count(src[start:next], []byte{'\n'})
		start = next
	}
	return append(out, chunk{start, len(src), line})
}

// nextDocumentStart is the offset of the first line at or after from
// (which is past the start of src) that opens a document, or -1.
func nextDocumentStart(src []byte, from int) int {
	for {
		i := bytes.Index(src[from-1:], []byte("\n---"))
		if i < 0 {
			return -1
		}
		at := from + i
		if end := at + 3; end == len(src) || bytes.IndexByte([]byte(" \t\r\n"), src[end]) >= 0 {
			return at
		}
		from = at + 1
	}
}

// plainLineBreaks reports whether every line break of src is \n or \r\n:
// YAML also breaks lines at a lone \r and at U+0085, U+2028 and U+2029.
// A UTF-16 byte order mark makes YAML read src as UTF-16.
func plainLineBreaks(src []byte) bool {
	return bytes.Count(src, []byte{'\r'}) == bytes.Count(src, []byte("\r\n")) &&
		!bytes.Contains(src, []byte("\u0085")) && !bytes.Contains(src, []byte("\u2028")) &&
		!bytes.Contains(src, []byte("\u2029")) &&
		!bytes.HasPrefix(src, []byte{0xfe, 0xff}) && !bytes.HasPrefix(src, []byte{0xff, 0xfe})
}

type workedChunk[T any] struct {
	res T
	err error
}

// decodeChunks decodes chunks on every core, at most a few ahead of the
// one collect is given, running work on each where it was decoded. It
// stops at the first chunk that fails, reporting false.
func decodeChunks[T any](src []byte, chunks []chunk, start func() chunkWork[T], collect func(T), reuse bool) bool {
	workers := min(runtime.GOMAXPROCS(0), len(chunks))
	results := make([]chan workedChunk[T], len(chunks))
	for i := range results {
		results[i] = make(chan workedChunk[T], 1)
	}
	ahead := make(chan struct{}, 2*workers)
	next := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	stop := sync.OnceFunc(func() { close(done); wg.Wait() })
	defer stop()
	wg.Go(func() {
		defer close(next)
		for i := range chunks {
			select {
			case ahead <- struct{}{}:
			case <-done:
				return
			}
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for i := range next {
				w := start()
				var res workedChunk[T]
				if res.err = decodeChunk(src, chunks[i], w.doc, reuse); res.err == nil {
					res.res = w.done()
				}
				results[i] <- res
			}
		})
	}
	for i := range chunks {
		res := <-results[i]
		<-ahead
		if res.err != nil {
			return false
		}
		collect(res.res)
	}
	return true
}

// decodeChunk decodes each document of the chunk with fastDocument, and
// those it refuses with yaml.v3, alone (a document is cut from the next
// where a chunk is, so it reads alone as a chunk does), and calls fn with
// each. With reuse, fastDocument's nodes are reused once fn returns.
func decodeChunk(src []byte, c chunk, fn func(*yaml.Node), reuse bool) error {
	strs, nodes := interner{}, &nodeArena{}
	for start, line := c.start, c.line; start < c.end; {
		end := nextDocumentStart(src[:c.end], start+1)
		if end < 0 {
			end = c.end
		}
		if doc, ok := fastDocument(src[start:end], line, strs, nodes); ok {
			fn(doc)
			if reuse {
				nodes.reset()
			}
		} else if err := decodeStream(src[start:end], func(doc *yaml.Node) {
			shiftLines(doc, line)
			fn(doc)
		}); err != nil {
			return err
		}
		line += bytes.Count(src[start:end], []byte{'\n'})
		start = end
	}
	return nil
}

// shiftLines moves n and the nodes below it down by lines. An alias's
// target is also a node below the document, so it is moved once.
func shiftLines(n *yaml.Node, lines int) {
	n.Line += lines
	for _, c := range n.Content {
		shiftLines(c, lines)
	}
}
