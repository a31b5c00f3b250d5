package finding

import (
	"errors"
	"fmt"
)

// UsageError marks an error caused by how gitops-lint was invoked or
// configured (a bad flag value, a missing directory, an unknown environment)
// rather than by a bug. The CLI exits with ExitUsage for it and does not ask
// the user to report it. Any package may return one; wrapping keeps the mark.
type UsageError struct {
	Err error
}

// Error returns the wrapped message unchanged.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef is fmt.Errorf (including %w) returning a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is, or wraps, a *UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}
