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
				orig.WriteString(line + "\n")
			}
		}()
	})
}
