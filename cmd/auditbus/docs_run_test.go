package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// runStep is a <!-- run --> block and the <!-- output --> block after it.
type runStep struct {
	block  doccheck.Block
	output *doccheck.Block
}

// The doc's commands run as written, with these rewrites (and nothing
// else), so that they reach the auditbus the check started:
//   - `go run ./cmd/auditbus` is the binary built once for the check (on
//     PATH as `auditbus`);
//   - http://127.0.0.1:8080 (serve's default --listen) is the address the
//     check's server listens on, a free loopback port; AUDITBUS_URL says
//     the same to the CLI's client commands.
//
// A command `auditbus serve ...` (other than serve --check-config, which
// exits) replaces the file's server: it starts in
// the background with AUDITBUS_LISTEN, AUDITBUS_DATA_DIR (a fresh temp dir)
// and AUDITBUS_NATS_LISTEN=- in its environment (flags the doc gives win),
// and the next command runs once /readyz answers 200. A file whose first
// run block starts no server gets `auditbus serve --rules examples/rules`.
// Commands run with bash in the repository root.
const docListen = "127.0.0.1:8080"

type session struct {
	t       *testing.T
	root    string
	bin     string // directory of the built binary
	addr    string
	srv     *exec.Cmd
	srvLog  *bytes.Buffer
	srvDone chan error
}

func runSession(t *testing.T, root string, steps []runStep) {
	s := &session{t: t, root: root, bin: builtBinaryDir(t)}
	defer s.stop()
	for _, st := range steps {
		cmds := shellCommands(st.block.Text)
		if len(cmds) == 0 {
			t.Errorf("%s: a <!-- run --> block without commands", st.block.Where())
		}
		for i, c := range cmds {
			where := fmt.Sprintf("%s:%d", st.block.File, st.block.Line+1+c.at)
			began := time.Now()
			out, err := s.run(c.line)
			t.Logf("%s: %.1fs", where, time.Since(began).Seconds())
			if err != nil && (len(c.output) > 0 || i == len(cmds)-1 && st.output != nil) {
				err = nil // the doc shows what the failing command prints
			}
			if err != nil {
				t.Errorf("%s: %s\n%v\n%s", where, c.line, err, out)
				continue
			}
			if c.exact {
				if want := strings.Join(c.output, "\n"); !matchLines(want, out, false) {
					t.Errorf("%s: %s\nthe doc shows (below the $ prompt):\n%s\nit prints:\n%s\nfix the doc (`...` stands for any text in a line)", where, c.line, want, out)
				}
			} else if len(c.output) > 0 {
				if !matchLoose(strings.Join(c.output, "\n"), out) {
					t.Errorf("%s: %s\nthe doc shows (as # lines below it):\n%s\nit prints:\n%s\nfix the doc (`...` stands for any text; white space is not compared)", where, c.line, strings.Join(c.output, "\n"), out)
				}
			}
			if i == len(cmds)-1 && st.output != nil {
				numbers := len(st.output.Marker.Args) == 1 && st.output.Marker.Args[0] == "numbers"
				same := matchLines(st.output.Text, out, numbers)
				if st.output.Info == "json" { // JSON answers are shown wrapped
					same = matchLoose(st.output.Text, out)
				}
				if !same {
					t.Errorf("%s: the output block of %s differs from what its last command prints:\n%s\nfix the block (`...` stands for any text in a line; <!-- output: numbers --> lets numbers differ)", st.output.Where(), where, out)
				}
			}
		}
	}
}

func (s *session) run(line string) (string, error) {
	cmd := strings.ReplaceAll(line, "go run ./cmd/auditbus", "auditbus")
	if strings.HasPrefix(strings.TrimSpace(cmd), "auditbus serve") && !strings.Contains(cmd, "--check-config") {
		return "", s.start(cmd)
	}
	if s.srv == nil {
		if err := s.start("auditbus serve --rules examples/rules"); err != nil {
			return "", err
		}
	}
	cmd = strings.ReplaceAll(cmd, "http://"+docListen, "http://"+s.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir, c.Env = s.root, s.env()
	var out bytes.Buffer // what a terminal shows: both streams, interleaved
	c.Stdout, c.Stderr = &out, &out
	dieWithTest(c)
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("exit: %w", err)
	}
	return out.String(), nil
}

func (s *session) env() []string {
	return append(os.Environ(), "PATH="+s.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AUDITBUS_URL=http://"+s.addr)
}

// probeClient bounds each readiness probe, so a server that accepts
// connections but never answers fails start instead of hanging it.
var probeClient = &http.Client{Timeout: 5 * time.Second}

// start runs a serve command line in the background and waits until it is
// ready.
func (s *session) start(line string) error {
	s.stop()
	s.addr = freeAddr(s.t)
	s.srvLog = &bytes.Buffer{}
	c := exec.Command("bash", "-c", "exec "+line)
	c.Dir = s.root
	c.Env = append(s.env(), "AUDITBUS_LISTEN="+s.addr, "AUDITBUS_DATA_DIR="+s.t.TempDir(), "AUDITBUS_NATS_LISTEN=-")
	c.Stdout, c.Stderr = s.srvLog, s.srvLog
	dieWithTest(c) // kept across bash's exec
	if err := c.Start(); err != nil {
		return err
	}
	s.srv, s.srvDone = c, make(chan error, 1)
	defer func(began time.Time) { s.t.Logf("%s: ready in %.1fs", line, time.Since(began).Seconds()) }(time.Now())
	go func() { s.srvDone <- c.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-s.srvDone:
			s.srv = nil
			return fmt.Errorf("%s exited: %v\n%s", line, err, s.srvLog)
		default:
		}
		if r, err := probeClient.Get("http://" + s.addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: not ready after 30s\n%s", line, s.srvLog)
}

func (s *session) stop() {
	if s.srv == nil {
		return
	}
	defer func(began time.Time) { s.t.Logf("server stopped in %.1fs", time.Since(began).Seconds()) }(time.Now())
	_ = s.srv.Process.Signal(os.Interrupt)
	select {
	case <-s.srvDone:
	case <-time.After(15 * time.Second):
		_ = s.srv.Process.Kill()
		<-s.srvDone
	}
	s.srv = nil
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// builtBinaryDir builds auditbus once per test process into a temp dir
// and returns the dir.
func builtBinaryDir(t *testing.T) string {
	dir, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func buildBinary() (string, error) {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "auditbus-doccheck-")
		if buildErr != nil {
			return
		}
		// Without -race even under go test -race: the docs' commands are
		// not about races, a race binary takes seconds per command (bcrypt
		// in nats-user), and go vet, which CI runs first, has the plain
		// packages built already.
		if out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "auditbus"), ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	return buildDir, buildErr
}

// matchLoose: want, with `...` standing for any text, is got once all
// white space is removed from both (JSON answers are shown wrapped).
func matchLoose(want, got string) bool {
	strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return wildcard(strip(want), "").MatchString(strip(got))
}

// matchLines: got has want's lines, `...` standing for any text within a
// line, and, with numbers, any number for a number.
func matchLines(want, got string, numbers bool) bool {
	wl := strings.Split(strings.TrimRight(want, "\n"), "\n")
	gl := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(wl) != len(gl) {
		return false
	}
	num := ""
	if numbers {
		num = `[0-9][0-9.]*`
	}
	for i := range wl {
		if !wildcard(strings.TrimRight(wl[i], " "), num).MatchString(strings.TrimRight(gl[i], " ")) {
			return false
		}
	}
	return true
}

var number = regexp.MustCompile(`[0-9]+(?:\.[0-9]+)?`)

// wildcard compiles s to an anchored regexp in which `...` is any text
// and, when num is set, each number matches num.
func wildcard(s, num string) *regexp.Regexp {
	parts := strings.Split(s, "...")
	for i, p := range parts {
		q := regexp.QuoteMeta(p)
		if num != "" {
			q = number.ReplaceAllString(p, "\x00")
			q = strings.ReplaceAll(regexp.QuoteMeta(q), "\x00", num)
		}
		parts[i] = q
	}
	return regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
}

// TestMain removes the binary the doc check built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
