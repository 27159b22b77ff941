package prepare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
)

// Failure is one quarantined file: left out of the cache and of training.
type Failure struct {
	Source      string `json:"path"`   // the path as listed
	Reason      string `json:"reason"` // one line: why it failed and what to do
	SourceSize  int64  `json:"source_size,omitempty"`
	SourceMTime int64  `json:"source_mtime,omitempty"`
}

// Changed reports whether the quarantined file at root has changed since
// prepare gave up on it (another size or modification time, or a file that
// was missing and now exists), so that its verdict no longer holds; a file
// now missing has not changed in this sense.
func (f Failure) Changed(root string) bool {
	st, err := os.Stat(sourcePath(root, f.Source))
	if err != nil {
		return false
	}
	if f.SourceSize == 0 && f.SourceMTime == 0 {
		return true // quarantined as missing, or before sizes were recorded: it is there now
	}
	return !f.matches(st)
}

// matches reports whether st, the file as it is now, is the one prepare
// quarantined (same size and modification time as recorded).
func (f Failure) matches(st os.FileInfo) bool { return sameSource(f.SourceSize, f.SourceMTime, st) }

// Quarantine is the report written to <root>/.vidrep/quarantine.json.
type Quarantine struct {
	Files []Failure `json:"quarantined"`
}

// LoadQuarantine reads root's quarantine report; a root without one gives an
// empty report.
func LoadQuarantine(root string) (Quarantine, error) {
	var q Quarantine
	data, err := os.ReadFile(QuarantinePath(root))
	if errors.Is(err, fs.ErrNotExist) {
		return q, nil
	}
	if err != nil {
		return q, err
	}
	if err := json.Unmarshal(data, &q); err != nil {
		return q, fmt.Errorf("%s: %w (delete it to re-check every file)", QuarantinePath(root), err)
	}
	return q, nil
}

// quarantineLog collects failures and rewrites the report after each one, so
// that a killed run keeps what it learned (files that time out are not
// retried on the next run unless they changed).
type quarantineLog struct {
	mu    sync.Mutex
	path  string
	files map[string]Failure
}

func newQuarantineLog(root string) *quarantineLog {
	return &quarantineLog{path: QuarantinePath(root), files: map[string]Failure{}}
}

// add records f and rewrites the report.
func (q *quarantineLog) add(f Failure) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.files[f.Source] = f
	return q.writeLocked()
}

// write rewrites the report with what was recorded (an empty list when
// nothing failed).
func (q *quarantineLog) write() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.writeLocked()
}

func (q *quarantineLog) writeLocked() error {
	out := Quarantine{Files: make([]Failure, 0, len(q.files))}
	for _, f := range q.files {
		out.Files = append(out.Files, f)
	}
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Source < out.Files[j].Source })
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(q.path, append(data, '\n'))
}
