package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"
)

// File names inside a run directory.
const (
	CheckpointFile = "checkpoint.safetensors"
	ConfigFile     = "config.json"
	MetricsFile    = "metrics.jsonl"
	SummaryFile    = "summary.json"
)

// Metadata keys of a checkpoint file.
const (
	metaState        = "vidrep.train_state"
	metaNonTrainable = "vidrep.non_trainable"
)

// trainState is the position of a run, saved in the checkpoint's metadata.
type trainState struct {
	Step        int     `json:"step"`          // optimizer steps done
	Epoch       int     `json:"epoch"`         // epoch in progress (0-based)
	StepInEpoch int     `json:"step_in_epoch"` // optimizer steps done within Epoch
	ElapsedS    float64 `json:"elapsed_s"`     // training time before this session
	Clips       int64   `json:"clips"`         // clips seen
	EpochLoss   float64 `json:"epoch_loss"`    // sum of step losses in Epoch
	EpochAcc    float64 `json:"epoch_acc"`     // sum of step accuracies in Epoch
	EpochSteps  int     `json:"epoch_steps"`   // steps summed in EpochLoss
}

// saveCheckpoint writes every variable of store (weights, optimizer state,
// RNG state; not the transient gradient accumulators) and state to path.
func saveCheckpoint(path string, store *model.Store, state trainState) error {
	var list []namedTensor
	var frozen []string
	for v := range store.IterVariables() {
		if underPrefix(v.Path(), stateScope+"/accum") || !v.HasValue() {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("%s: variable %s: %w", path, v.Path(), err)
		}
		list = append(list, namedTensor{name: v.Path(), value: t})
		if !v.Trainable {
			frozen = append(frozen, v.Path())
		}
	}
	stateJSON, _ := json.Marshal(state)
	frozenJSON, _ := json.Marshal(frozen)
	meta := map[string]string{metaState: string(stateJSON), metaNonTrainable: string(frozenJSON)}
	return writeTensorFile(path, meta, list)
}

// restoreCheckpoint loads every variable of the checkpoint at path into store
// (creating the missing ones) and returns the saved run position.
func restoreCheckpoint(path string, store *model.Store) (trainState, error) {
	var state trainState
	tf, err := openTensorFile(path)
	if err != nil {
		return state, fmt.Errorf("cannot resume: %w", err)
	}
	defer tf.close()
	raw, ok := tf.metadata[metaState]
	if !ok || json.Unmarshal([]byte(raw), &state) != nil || state.Step < 0 || state.Epoch < 0 || state.StepInEpoch < 0 {
		return state, fmt.Errorf("cannot resume: %s holds no training state; it is a weights file, use it to initialise a new run", path)
	}
	var nonTrainable []string
	_ = json.Unmarshal([]byte(tf.metadata[metaNonTrainable]), &nonTrainable)
	if err := loadVariables(tf, store, nil, true); err != nil {
		return state, fmt.Errorf("cannot resume: %w", err)
	}
	for _, p := range nonTrainable {
		if v := store.GetVariable(p); v != nil {
			v.SetTrainable(false)
		}
	}
	return state, nil
}

// loadVariables copies the tensors of tf under any of prefixes (all if none)
// into store; internal ones (optimizer and RNG state) only if withInternal.
func loadVariables(tf *tensorFile, store *model.Store, prefixes []string, withInternal bool) error {
	for _, name := range tf.names() {
		if (!withInternal && isInternal(name)) || !matchesAny(name, prefixes) {
			continue
		}
		t, err := tf.read(name)
		if err != nil {
			return err
		}
		if v := store.GetVariable(name); v != nil {
			if !v.Shape().Equal(t.Shape()) {
				return fmt.Errorf("%s: variable %s has shape %s in the file but %s in the model; the file belongs to another architecture",
					tf.path, name, t.Shape(), v.Shape())
			}
			if err := v.SetValue(t); err != nil {
				return err
			}
			continue
		}
		if _, err := store.CreateVariable(name, t); err != nil {
			return err
		}
	}
	return nil
}

func matchesAny(path string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if underPrefix(path, p) {
			return true
		}
	}
	return false
}

// weightsPath resolves a run directory to its checkpoint; a file is used as is.
func weightsPath(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, CheckpointFile)
	}
	return path
}

// LoadStore returns a new store holding the model weights of a run directory's
// checkpoint (or of a weights file), without optimizer or RNG state. With
// prefixes, only variables under those scopes are loaded (e.g. "backbone", so
// pretext heads are dropped).
func LoadStore(path string, prefixes ...string) (*model.Store, error) {
	store := model.NewStore()
	if err := LoadInto(store, path, prefixes...); err != nil {
		return nil, err
	}
	return store, nil
}

// LoadInto loads model weights (as LoadStore) into an existing store,
// replacing variables of the same path; a shape mismatch is an error.
func LoadInto(store *model.Store, path string, prefixes ...string) error {
	file := weightsPath(path)
	tf, err := openTensorFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: no checkpoint there; train a run first or give the path of a .safetensors weights file", path)
	}
	if err != nil {
		return err
	}
	defer tf.close()
	if len(prefixes) > 0 && len(tf.entries) > 0 && !anyUnder(tf, prefixes) {
		return fmt.Errorf("%s: no variable under %v; the file holds %s...: if it is a torchvision or timm state dict, convert it with vidrep import --arch NAME --weights %s --out RUN and use RUN",
			file, prefixes, tf.names()[0], file)
	}
	return loadVariables(tf, store, prefixes, false)
}

func anyUnder(tf *tensorFile, prefixes []string) bool {
	for name := range tf.entries {
		if matchesAny(name, prefixes) {
			return true
		}
	}
	return false
}

// SaveStore writes the model weights of store (no optimizer or RNG state)
// under any of prefixes (all if none) to a safetensors file, atomically.
func SaveStore(store *model.Store, path string, prefixes ...string) error {
	var list []namedTensor
	for v := range store.IterVariables() {
		if isInternal(v.Path()) || !v.HasValue() || !matchesAny(v.Path(), prefixes) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("%s: variable %s: %w", path, v.Path(), err)
		}
		list = append(list, namedTensor{name: v.Path(), value: t})
	}
	if len(list) == 0 {
		return fmt.Errorf("%s: the store holds no weights under %v to save", path, prefixes)
	}
	return writeTensorFile(path, map[string]string{"format": "vidrep"}, list)
}
