package cli

import (
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"work failure", errors.New("decode failed"), ExitFailure},
		{"usage", Usagef("bad --labels %q", "x"), ExitUsage},
		{"wrapped usage", fmt.Errorf("finetune: %w", Usagef("bad")), ExitUsage},
	}
	for _, c := range cases {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("%s: ExitCode = %d, want %d", c.name, got, c.want)
		}
	}
}
