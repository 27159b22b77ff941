package databench

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestLocalFullBench(t *testing.T) {
	if os.Getenv("VR_FULL") == "" {
		t.Skip()
	}
	rep, err := Run(context.Background(), Config{Dir: "/tmp/vr-video/benchdir", Clips: 100, RSSClips: 1000, Anchor: "/work/main/bench/data_opencv.py", Python: "/usr/bin/python3", Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(rep.Markdown())
}
