package train

import (
	"errors"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
)

func TestRunRecordCheck(t *testing.T) {
	rec := RunRecord{"info": map[string]any{"method": "camera", "data": "/d/", "init": "no/such/relative/run"}}
	cases := []struct {
		name     string
		settings []Setting
		differ   bool
	}{
		{"same value", []Setting{{Name: "--method", Key: "info.method", Value: "camera"}}, false},
		{"another spelling of the same path", []Setting{{Name: "--data", Key: "info.data", Value: "/d", Path: true}}, false},
		{"a key the record lacks, old value unknown", []Setting{{Name: "--gap", Key: "info.gap", Value: 2}}, false},
		{"a key the record lacks, old value known", []Setting{{Name: "--gap", Key: "info.gap", Value: 2, Old: 0}}, true},
		{"another value", []Setting{{Name: "--method", Key: "info.method", Value: "rotation"}}, true},
		{"a relative path typed in another directory", []Setting{{Name: "--init", Key: "info.init", Value: "/abs/run", Path: true}}, false},
		{"an absolute path to another run", []Setting{{Name: "--data", Key: "info.data", Value: "/elsewhere", Path: true}}, true},
	}
	for _, c := range cases {
		err := rec.Check("run", c.settings...)
		var u *cli.UsageError
		if c.differ != (err != nil) {
			t.Errorf("%s: error %v, want a difference %v", c.name, err, c.differ)
		}
		if c.differ && (!errors.As(err, &u) || !errors.Is(err, ErrResumeMismatch)) {
			t.Errorf("%s: %v must be a usage error wrapping ErrResumeMismatch", c.name, err)
		}
	}
}

func TestRecordedInfoAndMismatchErrorf(t *testing.T) {
	info := RecordedInfo([]Setting{{Key: "info.method", Value: "camera"}, {Key: "config.lr", Value: 0.1}, {Key: "info.size", Value: 32}})
	if len(info) != 2 || info["method"] != "camera" || info["size"] != 32 {
		t.Errorf("RecordedInfo = %v, want the two info settings", info)
	}
	err := MismatchErrorf("cannot resume %s", "run")
	var u *cli.UsageError
	if !errors.As(err, &u) || !errors.Is(err, ErrResumeMismatch) || err.Error() != "cannot resume run" {
		t.Errorf("MismatchErrorf: %v must be a usage error wrapping ErrResumeMismatch", err)
	}
}
