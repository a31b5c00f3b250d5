// Package quiet filters kustomize's deprecation notices out of the
// process's standard error. Only main functions call it (cmd/gitops-lint,
// and the test binaries that stand in for it): swapping os.Stderr is
// process-wide state, which no library package touches.
package quiet

import (
	"bufio"
	"os"
	"strings"
)

// KustomizeNotices swaps os.Stderr for a pipe that drops kustomize's
// deprecation notices ("# Warning: 'patchesStrategicMerge' is
// deprecated…") and copies every other line to the original, which it
// returns for the caller's own output. Call it once, first thing in main.
//
// It cannot be done otherwise in process: sigs.k8s.io/kustomize/api
// (internal/target.KustTarget.Load) writes the notices with
// fmt.Fprintf(os.Stderr, …), not through a logger or an option, and the
// deprecated fields cannot be rewritten away before kustomize reads them
// without changing what it builds (patchesStrategicMerge, patchesJson6902,
// commonLabels and vars each run their own transformer, as they do in
// kustomize-controller).
func KustomizeNotices() *os.File {
	orig := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		return orig
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
	return orig
}
