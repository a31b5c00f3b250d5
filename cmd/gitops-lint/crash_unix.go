//go:build unix

package main

import "syscall"

// noCoreDumps makes sure an aborting crash writes no core file (which
// would land in the working directory, often the linted repository).
func noCoreDumps() {
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
}
