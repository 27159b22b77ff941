package evaluate

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinearProbeInterruptSaysWhatToDo: an interrupted probe used to return
// a bare "context canceled"; it must say that nothing was saved and that
// running again is the way on.
func TestLinearProbeInterruptSaysWhatToDo(t *testing.T) {
	data := tinyData(t)
	cfg := tinyFinetune(data, filepath.Join(t.TempDir(), "lin"))
	cfg.Linear = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Finetune(ctx, cfg)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again") {
		t.Errorf("interrupted probe: error %v, want one wrapping context.Canceled that says to run again", err)
	}
}
