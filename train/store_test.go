package train

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestSaveAndLoadStoreWithPrefixes(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, toyConfig(), toyLoss(false), newToyData(8, 4, 2), WithQuiet())
	must(t, err)

	all, err := LoadStore(dir)
	must(t, err)
	if all.GetVariable("/model/head/weights") == nil || all.GetVariable("/"+model.RNGStateVariableName) != nil ||
		all.GetVariable(stateScope+"/adamw_m/model/head/weights") != nil {
		t.Errorf("LoadStore(run) must hold the model weights and no optimizer or RNG state")
	}
	hidden, err := LoadStore(dir, "model/hidden")
	must(t, err)
	if hidden.NumVariables() != 2 || hidden.GetVariable("/model/hidden/biases") == nil {
		t.Errorf("LoadStore(run, model/hidden) holds %d variables, want the 2 under /model/hidden", hidden.NumVariables())
	}
	if _, err := LoadStore(dir, "backbone"); err == nil || !strings.Contains(err.Error(), "no variable under") || !strings.Contains(err.Error(), "vidrep import") {
		t.Errorf("loading a missing scope: err %v", err)
	}

	file := filepath.Join(t.TempDir(), "head.safetensors")
	must(t, SaveStore(all, file, "model/head"))
	back, err := LoadStore(file)
	must(t, err)
	if back.NumVariables() != 2 {
		t.Errorf("SaveStore(model/head) wrote %d variables, want 2", back.NumVariables())
	}
	want, got := floats(t, all, "/model/head/weights"), floats(t, back, "/model/head/weights")
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("weights[%d] = %v after a round trip, want %v", i, got[i], want[i])
		}
	}
	// A weights file is not a resumable checkpoint.
	if _, err := restoreCheckpoint(file, model.NewStore()); err == nil || !strings.Contains(err.Error(), "no training state") {
		t.Errorf("resuming from a weights file: err %v", err)
	}
	// Loading into a model whose variable has another shape is an error.
	other := model.NewStore()
	_, err = other.CreateVariable("/model/head/weights", tensors.FromShape(shapes.Make(dtypes.Float32, 2, 2)))
	must(t, err)
	if err := LoadInto(other, file); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("loading mismatched shapes: err %v", err)
	}
	if _, err := LoadStore(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("loading an empty directory: err %v", err)
	}
}

func TestPredictMatchesDirectComputationAndKeepsWeights(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, toyConfig(), toyLoss(false), newToyData(8, 4, 2), WithQuiet())
	must(t, err)
	store, err := LoadStore(dir)
	must(t, err)
	before := storeValues(t, store)
	fn := func(scope *model.Scope, views []*Node) []*Node {
		logits := toyLogits(scope.In("model"), views[0], false)
		return []*Node{logits, ReduceMean(views[0], 1, 2, 3)}
	}
	data := newToyData(10, 5, 9)
	batches, err := data.Epoch(0, 0)
	must(t, err)
	pred, err := Predict(context.Background(), goBackend(t), store, fn, batches)
	must(t, err)
	if pred.N != 10 || len(pred.Index) != 10 || len(pred.Targets[0]) != 10 || pred.Dims[0][0] != toyClasses || pred.Dims[1][0] != 3 {
		t.Fatalf("predictions: N %d, %d indices, dims %v", pred.N, len(pred.Index), pred.Dims)
	}
	for i := 0; i < pred.N; i++ {
		clip := data.clips[pred.Index[i]]
		var mean [3]float64
		for j, v := range clip {
			mean[j%3] += float64(v) / float64(len(clip)/3)
		}
		row := pred.Row(1, i)
		for c := range mean {
			if !near(float64(row[c]), mean[c], 1e-5) {
				t.Fatalf("example %d channel %d: pooled %v, want %v", i, c, row[c], mean[c])
			}
		}
		if pred.Targets[0][i] != data.labels[pred.Index[i]] {
			t.Fatalf("example %d: target %d, want %d", i, pred.Targets[0][i], data.labels[pred.Index[i]])
		}
	}
	after := storeValues(t, store)
	for p, v := range before {
		if string(after[p]) != string(v) {
			t.Errorf("Predict changed variable %s", p)
		}
	}
	// A model that needs weights the store lacks is refused.
	batches, _ = data.Epoch(0, 0)
	_, err = Predict(context.Background(), goBackend(t), model.NewStore(), fn, batches)
	if err == nil || !strings.Contains(err.Error(), "lack") {
		t.Errorf("predict without weights: err %v", err)
	}
}

// writeRaw writes a safetensors-like file from a header and data.
func writeRaw(t *testing.T, header string, data []byte, lenOverride uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.safetensors")
	n := uint64(len(header))
	if lenOverride > 0 {
		n = lenOverride
	}
	buf := binary.LittleEndian.AppendUint64(nil, n)
	buf = append(append(buf, header...), data...)
	must(t, os.WriteFile(path, buf, 0o644))
	return path
}

func TestTensorFileRejectsBadFiles(t *testing.T) {
	good := `{"/w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	cases := []struct {
		name, header string
		data         []byte
		lenOverride  uint64
		want         string
	}{
		{"empty", "", nil, 0, "8 bytes"},
		{"header longer than file", good, make([]byte, 8), 1 << 20, "header length"},
		{"not json", "{nope", nil, 0, "not JSON"},
		{"unknown dtype", `{"/w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8), 0, "unknown dtype"},
		{"range past the end", good, make([]byte, 4), 0, "outside"},
		{"range lies about shape", `{"/w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 12), 0, "does not match"},
		{"negative dim", `{"/w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, make([]byte, 8), 0, "bad shape"},
		{"huge dims", `{"/w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, make([]byte, 8), 0, "bad shape"},
		{"reversed range", `{"/w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8), 0, "outside"},
	}
	for _, c := range cases {
		path := writeRaw(t, c.header, c.data, c.lenOverride)
		_, err := LoadStore(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
	path := writeRaw(t, good, []byte{0, 0, 128, 63, 0, 0, 0, 64}, 0)
	store, err := LoadStore(path)
	must(t, err)
	if got := floats(t, store, "/w"); got[0] != 1 || got[1] != 2 {
		t.Errorf("good file read as %v, want [1 2]", got)
	}
}

func FuzzTensorFile(f *testing.F) {
	f.Add([]byte(`{"/w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), []byte{0, 0, 128, 63, 0, 0, 0, 64})
	f.Add([]byte(`{"__metadata__":{"a":"b"},"/x":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]}}`), []byte{1, 2})
	f.Fuzz(func(t *testing.T, header, data []byte) {
		path := filepath.Join(t.TempDir(), "f.safetensors")
		buf := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		buf = append(append(buf, header...), data...)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Skip()
		}
		store, err := LoadStore(path)
		if err != nil {
			return
		}
		for v := range store.IterVariables() {
			if _, err := v.Value(); err != nil {
				t.Fatalf("variable %s loaded without a value", v.Path())
			}
		}
	})
}

func TestCheckpointIsWrittenAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CheckpointFile)
	must(t, os.WriteFile(path, []byte("old"), 0o644))
	store := model.NewStore()
	_, err := store.CreateVariable("/w", tensors.FromValue([]float32{1, 2}))
	must(t, err)
	// A failing write leaves the old file and no temporary file behind.
	if err := writeAtomically(path, func(w io.Writer) error { _, _ = w.Write([]byte("partial")); return os.ErrClosed }); err == nil {
		t.Fatal("failed write returned no error")
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("failed write changed the checkpoint to %q", data)
	}
	must(t, saveCheckpoint(path, store, trainState{Step: 3}))
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after saves, want only the checkpoint", len(entries))
	}
	state, err := restoreCheckpoint(path, model.NewStore())
	must(t, err)
	if state.Step != 3 {
		t.Errorf("restored step %d, want 3", state.Step)
	}
}
