// Package cli holds what every vidrep command shares: exit codes and the
// error kinds that choose them.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes of the vidrep binary.
const (
	ExitOK      = 0 // the work succeeded
	ExitFailure = 1 // the work failed (bad input file, training diverged, ...)
	ExitUsage   = 2 // the command line was wrong
)

// UsageError marks an error in how a command was invoked (a bad flag value,
// a missing argument); it makes the binary exit with ExitUsage.
type UsageError struct{ Msg string }

// Error returns the one-line message.
func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var u *UsageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}
