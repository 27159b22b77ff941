package main

import (
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
)

// TestBenchUsageErrorsExitTwo: QA found bench's flag errors exiting 1, the
// code of a failed run, where every other command exits 2 for a usage error.
func TestBenchUsageErrorsExitTwo(t *testing.T) {
	for _, f := range []BenchModelFlags{
		{Arch: "r3d-small", Batch: 0, Frames: 4, Size: 16, Dtype: "f32", Steps: 1, Backend: "go"},
		{Arch: "r3d-small", Batch: 1, Frames: 4, Size: 8, Dtype: "f32", Steps: 1, Backend: "go"},
		{Arch: "c3d-small", Batch: 1, Frames: 4, Size: 32, Dtype: "f32", Steps: 1, Backend: "go"},
		{Arch: "nosuch", Batch: 1, Frames: 4, Size: 16, Dtype: "f32", Steps: 1, Backend: "go"},
	} {
		if err := (&BenchTrainCmd{f}).Run(); cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("bench train %+v: exit code %d (%v), want %d", f, cli.ExitCode(err), err, cli.ExitUsage)
		}
	}
}
