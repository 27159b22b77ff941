package memstat

import (
	"os"
	"testing"
)

func TestFieldMB(t *testing.T) {
	status := "Name:\tvidrep\nVmPeak:\t 2048000 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  262144 kB\nThreads:\t9\nBad:\tx kB\n"
	for _, tc := range []struct {
		key  string
		want float64
	}{
		{"VmRSS", 256},
		{"VmHWM", 512},
		{"VmPeak", 2000},
		{"VmSwap", 0}, // absent
		{"Bad", 0},    // not a number
		{"Vm", 0},     // a prefix is not a field
	} {
		if got := FieldMB(status, tc.key); got != tc.want {
			t.Errorf("FieldMB(%s) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestLiveProcess(t *testing.T) {
	if _, err := os.Stat(statusFile); err != nil {
		t.Skip("no /proc on this system:", err)
	}
	rss, peak := RSSMB(), PeakRSSMB()
	if rss <= 0 || peak < rss {
		t.Errorf("RSS %.1f MiB, peak %.1f MiB: want 0 < RSS <= peak", rss, peak)
	}
	// Touching 64 MiB raises the peak by about as much.
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	if after := PeakRSSMB(); after < peak+32 {
		t.Errorf("peak RSS %.1f MiB after touching 64 MiB, was %.1f", after, peak)
	}
	_ = buf[len(buf)-1]
}
