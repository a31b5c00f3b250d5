//go:build !unix

package main

// noCoreDumps: platforms without RLIMIT_CORE write no core file on abort.
func noCoreDumps() {}
