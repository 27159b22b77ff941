package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vidrep/vidrep/internal/cli"
)

// RunRecord is the JSON record a run directory keeps of how it was made:
// config.json (see Run and WithInfo), or another command's record such as a
// linear probe's linear.json. Numbers are kept as json.Number, so that
// integers of any size compare exactly.
type RunRecord map[string]any

// ReadRunRecord reads the record at path. A missing file gives an error that
// satisfies errors.Is(err, fs.ErrNotExist); a file that is not a JSON object
// gives a usage error naming it.
func ReadRunRecord(path string) (RunRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec RunRecord
	if err := decodeNumbers(data, &rec); err != nil || rec == nil {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return nil, cli.Usagef("%s: not a run record (%v), so the run cannot be resumed; use a new --out without --resume", path, err)
	}
	return rec, nil
}

// Lookup returns the value at a dotted key ("info.method", "config.lr") and
// whether the record holds it.
func (r RunRecord) Lookup(key string) (any, bool) {
	var v any = map[string]any(r)
	for _, part := range strings.Split(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Setting is one setting that defines a run: resuming the run must repeat
// it. RunRecord.Check compares it with the value the run recorded.
type Setting struct {
	// Name is the setting as the user gives it: a flag ("--method") or, for
	// settings only the Go API has, a field name.
	Name string
	// Key is where the record holds it, a dotted path such as "info.method"
	// or "config.lr".
	Key string
	// Value is this session's value; it is compared with the recorded one
	// after a trip through JSON (an int and the recorded number agree).
	Value any
	// Old is what a record without Key stands for: the value every run made
	// before the setting was recorded had. Nil means that value is unknown
	// (the setting could be chosen then too), and such records are not
	// checked for it.
	Old any
	// Path marks Value as a file path: another spelling of the same file
	// (a trailing slash, a relative path) is no difference.
	Path bool
	// Fix, when set, says how to repair a difference, given the recorded
	// value; the default is "rerun with <Name> <recorded value>".
	Fix func(recorded string) string
}

// RecordedInfo is the "info." part of settings, keyed as a record's info
// map, so that a command records exactly what it later checks.
func RecordedInfo(settings []Setting) map[string]any {
	info := map[string]any{}
	for _, s := range settings {
		if k, ok := strings.CutPrefix(s.Key, "info."); ok {
			info[k] = s.Value
		}
	}
	return info
}

// MismatchErrorf is a usage error, formatted as by cli.Usagef, that also
// wraps ErrResumeMismatch: for differences a command finds beyond Check's
// settings (its data, its class list).
func MismatchErrorf(format string, args ...any) error {
	return mismatchError{cli.Usagef(format, args...)}
}

// FindRecord reads the record of the run in dir: the first of names (such
// as ConfigFile) that dir holds. When it holds none, the error satisfies
// errors.Is(err, fs.ErrNotExist).
func FindRecord(dir string, names ...string) (RunRecord, error) {
	for _, name := range names {
		rec, err := ReadRunRecord(filepath.Join(dir, name))
		if !errors.Is(err, fs.ErrNotExist) {
			return rec, err
		}
	}
	return nil, fmt.Errorf("%s holds none of %v: %w", dir, names, fs.ErrNotExist)
}

// CommandSetting is the first setting of every command's list: the command
// that made the run (recorded as info.command; old is what a record without
// it stands for). Its difference says which command resumes the run.
func CommandSetting(command, old string) Setting {
	return Setting{Name: "command", Key: "info.command", Value: command, Old: old,
		Fix: func(cmd string) string { return "resume it with vidrep " + cmd }}
}

// Check compares settings, in order, with the record of the run in runDir
// and returns nil when the record holds every one of them (or lacks one
// whose Old value is unknown). Otherwise it returns a usage error naming
// runDir, the first setting that differs with both values, and the fix.
// Put the settings the user gives before those derived from them, so the
// error names the cause.
func (r RunRecord) Check(runDir string, settings ...Setting) error {
	for _, s := range settings {
		now, err := jsonValue(s.Value)
		if err != nil {
			return fmt.Errorf("resume check of %s: %w", s.Name, err)
		}
		old, ok := r.Lookup(s.Key)
		if !ok {
			if s.Old == nil {
				continue
			}
			if old, err = jsonValue(s.Old); err != nil {
				return fmt.Errorf("resume check of %s: %w", s.Name, err)
			}
		}
		if sameJSON(old, now) || (s.Path && (samePath(old, now) || lostRelativePath(old))) {
			continue
		}
		return s.mismatch(runDir, old, now)
	}
	return nil
}

// mismatch is the usage error for a setting recorded as old and given as now.
func (s Setting) mismatch(runDir string, old, now any) error {
	was, is := "with "+s.Name+" "+showJSON(old), showJSON(now)
	ob, oldBool := old.(bool)
	nb, nowBool := now.(bool)
	if oldBool && nowBool && strings.HasPrefix(s.Name, "--") {
		was, is = withFlag(ob, s.Name), withFlag(nb, s.Name)
	}
	fix := "rerun " + was
	if s.Fix != nil {
		fix = s.Fix(showJSON(old))
	}
	return mismatchError{cli.Usagef("cannot resume %s: it was made %s, now %s; %s, or use a new --out without --resume", runDir, was, is, fix)}
}

// ErrResumeMismatch is wrapped by the error Check returns when the record
// differs (the error is also a cli.UsageError), so that a caller that owns
// the run directory, such as an experiment whose own settings already
// match, can start the run over instead of failing.
var ErrResumeMismatch = errors.New("the run was made with other settings")

// mismatchError is a usage error that also wraps ErrResumeMismatch.
type mismatchError struct{ usage error }

func (e mismatchError) Error() string   { return e.usage.Error() }
func (e mismatchError) Unwrap() []error { return []error{e.usage, ErrResumeMismatch} }

// withFlag says "with --flag" or "without --flag".
func withFlag(on bool, flag string) string {
	if on {
		return "with " + flag
	}
	return "without " + flag
}

// jsonValue is v as a decoded JSON value (numbers as json.Number).
func jsonValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = decodeNumbers(data, &out)
	return out, err
}

// decodeNumbers decodes JSON data into v, numbers as json.Number, so that a
// record and a setting compare exactly (see sameNumber).
func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// sameJSON compares two decoded JSON values; numbers compare by value, so
// "1e-3" and "0.001" agree.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		return ok && sameNumber(a, b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	default: // string, bool, nil
		return a == b
	}
}

// sameNumber compares two JSON numbers exactly where both are integers, else
// as float64.
func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	if x, err := strconv.ParseInt(string(a), 10, 64); err == nil {
		if y, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return x == y
		}
	}
	if x, err := strconv.ParseUint(string(a), 10, 64); err == nil {
		if y, err := strconv.ParseUint(string(b), 10, 64); err == nil {
			return x == y
		}
	}
	x, errA := a.Float64()
	y, errB := b.Float64()
	return errA == nil && errB == nil && x == y
}

// samePath reports whether two recorded paths name the same file.
func samePath(a, b any) bool {
	x, okA := a.(string)
	y, okB := b.(string)
	return okA && okB && SamePath(x, y)
}

// SamePath reports whether x and y name the same file, however spelled
// (cleaned, relative, through a symbolic link); two empty paths do not.
func SamePath(x, y string) bool {
	if x == "" || y == "" {
		return false
	}
	if filepath.Clean(x) == filepath.Clean(y) {
		return true
	}
	fx, err := os.Stat(x)
	if err != nil {
		return false
	}
	fy, err := os.Stat(y)
	return err == nil && os.SameFile(fx, fy)
}

// lostRelativePath reports whether a recorded path is relative and names
// nothing from the current directory: it was typed in another directory, so
// whether it is the path given now cannot be told, and it is not held
// against the run.
func lostRelativePath(recorded any) bool {
	p, ok := recorded.(string)
	if !ok || p == "" || filepath.IsAbs(p) {
		return false
	}
	_, err := os.Stat(p)
	return err != nil
}

// showJSON renders a decoded JSON value for a message.
func showJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		if v == "" {
			return `""`
		}
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
