package render

import (
	"bufio"
	"os"
	"strings"
	"sync"
)

var quietOnce sync.Once

// quietKustomize filters kustomize's deprecation notices out of the process's
// standard error: kustomize prints them straight to os.Stderr from inside a
// build ("# Warning: 'patchesStrategicMerge' is deprecated…"), which would
// interleave with gitops-lint's own output. Everything else passes through.
//
// This is the one place outside cmd/ that touches process-wide state, and
// it cannot be avoided in process: sigs.k8s.io/kustomize/api
// (internal/target.KustTarget.Load) writes the notices with
// fmt.Fprintf(os.Stderr, …), not through a logger or an option that could
// be redirected, and the deprecated fields cannot be rewritten away before
// kustomize reads them without changing what it builds (patchesStrategicMerge,
// patchesJson6902, commonLabels and vars each run their own transformer,
// as they do in kustomize-controller). So the first render swaps os.Stderr,
// once per process, for a pipe that drops those lines and copies the rest
// to the original. Writers that took os.Stderr before (the CLI's, the log
// package's) are not affected.
func quietKustomize() {
	quietOnce.Do(func() {
		orig := os.Stderr
		r, w, err := os.Pipe()
		if err != nil {
			return
		}
		os.Stderr = w
		go func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "# Warning: '") && strings.Contains(line, "is deprecated") {
					continue
				}
				_, _ = orig.WriteString(line + "\n") // stderr gone: nothing to tell
			}
		}()
	})
}
