//go:build unix

package cli

import "syscall"

// noFollow makes opening a report file refuse a symbolic link in its last
// element (the Lstat check before it leaves a window a link could be
// swapped into).
const noFollow = syscall.O_NOFOLLOW
