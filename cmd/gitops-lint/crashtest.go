//go:build crashtest

package main

import (
	"os"
	"time"
)

// Built only with -tags crashtest, by main_test.go: it makes the real main
// crash the two ways the runtime can (out of memory, and a panic in a
// goroutine nothing recovers) so the test can check the exit status.
func init() {
	switch os.Getenv("GITOPS_LINT_CRASHTEST") {
	case "oom":
		crashHook = func() {
			var hold [][]byte
			for {
				b := make([]byte, 64<<20)
				for i := range b {
					if i%4096 == 0 {
						b[i] = 1
					}
				}
				hold = append(hold, b)
			}
		}
	case "panic":
		crashHook = func() {
			go func() { panic("crashtest: a panic in a goroutine") }()
			time.Sleep(10 * time.Second)
		}
	}
}
