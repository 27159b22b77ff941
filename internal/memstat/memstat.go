// Package memstat reads the resident memory of the running process from
// /proc/self/status (Linux). Where that file is missing every value is 0.
package memstat

import (
	"os"
	"strconv"
	"strings"
)

// statusFile is the kernel's per-process status report.
const statusFile = "/proc/self/status"

// RSSMB is the process's current resident set (VmRSS) in MiB; 0 where
// /proc is unavailable.
func RSSMB() float64 { return readMB("VmRSS") }

// PeakRSSMB is the process's peak resident set so far (VmHWM) in MiB; 0
// where /proc is unavailable.
func PeakRSSMB() float64 { return readMB("VmHWM") }

// readMB reads one kB field of statusFile, in MiB.
func readMB(key string) float64 {
	data, err := os.ReadFile(statusFile)
	if err != nil {
		return 0
	}
	return FieldMB(string(data), key)
}

// FieldMB returns the field key (e.g. "VmRSS") of a /proc/<pid>/status text,
// whose values are in kB, converted to MiB; 0 when the field is absent or
// not a number.
func FieldMB(status, key string) float64 {
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != key+":" {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0
		}
		return kb / 1024
	}
	return 0
}
