// Command gitops-lint lints Flux v2 GitOps repositories. See
// `gitops-lint --help` and docs/contract.md.
package main

import (
	"errors"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	"github.com/gitops-lint/gitops-lint/internal/cli"
	"github.com/gitops-lint/gitops-lint/internal/quiet"
)

func main() {
	// Rendering allocates many short-lived YAML nodes; a lazier collector
	// saves a fifth of the run time for a few dozen MiB (GOGC still rules).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// ...but not without bound: past a soft limit the collector runs as
	// often as it must, so that a large repository does not hold several
	// times its live data (GOMEMLIMIT still rules).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
		adaptMemoryLimit()
	}
	// gitops-lint never needs the network. The renderer refuses remote
	// bases before kustomize could fetch them; these make sure nothing a
	// linted repository contains can reach out even if that check missed.
	http.DefaultTransport = offline{}
	os.Setenv("GIT_ALLOW_PROTOCOL", "file")
	// Exit code 2 is the contract's usage error. A crash must not look like
	// one: a panic in the main goroutine is caught by cli.Main (exit 3,
	// "internal error"), and everything the runtime cannot hand back — out
	// of memory, a panic in another goroutine — aborts with SIGABRT (exit
	// status 134 in a shell) instead of the runtime's default exit 2. No
	// core file is written. See docs/security.md.
	debug.SetTraceback("crash")
	noCoreDumps()
	crashHook()
	// kustomize prints its deprecation notices straight to os.Stderr.
	stderr := quiet.KustomizeNotices()
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, stderr))
}

// memoryLimit is the runtime's soft memory limit unless GOMEMLIMIT is set:
// with GOGC at 400 the heap may otherwise grow to five times the live data.
const memoryLimit = 300 << 20

// maxMemoryLimit bounds how far adaptMemoryLimit raises the limit; with
// the binary's own pages the process then stays under 600 MiB.
const maxMemoryLimit = 480 << 20

// headroom is the garbage a collection cycle should have room for above
// the live heap.
const headroom = 200 << 20

// limitFor is the soft memory limit for a live heap of live bytes: the
// fixed limit while the live heap leaves the collector room, more (up to
// maxMemoryLimit) when it does not. A limit close to the live heap makes
// the collector run back to back: a 5,000-Kustomization fleet whose live
// heap nears 300 MiB took four times as long as its size warranted.
func limitFor(live uint64) int64 {
	return int64(min(max(live+headroom, memoryLimit), maxMemoryLimit))
}

// adaptMemoryLimit re-reads the live heap after every garbage collection
// and moves the soft limit to limitFor it.
func adaptMemoryLimit() {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var rearm func()
	rearm = func() {
		sentinel := new([16]byte)
		runtime.AddCleanup(sentinel, func(struct{}) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(limitFor(sample[0].Value.Uint64()))
			}
			rearm()
		}, struct{}{})
	}
	rearm()
}

// crashHook is a no-op except in the crashtest build of main_test.go.
var crashHook = func() {}

type offline struct{}

func (offline) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("gitops-lint works offline: network access refused")
}
