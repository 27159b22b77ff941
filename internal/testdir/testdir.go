// Package testdir snapshots directories for tests that must prove a command
// left a run directory as it found it.
package testdir

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Files reads every file under dir, by path relative to dir.
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
