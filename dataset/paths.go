package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// VideoExts lists the file extensions (lower case, with the dot) that the
// folder and unlabeled layouts treat as videos.
var VideoExts = []string{".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".y4m"}

// IsVideoName reports whether a file name has one of VideoExts.
func IsVideoName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	for _, e := range VideoExts {
		if ext == e {
			return true
		}
	}
	return false
}

// errEscape is wrapped by every error about a path that leaves the root.
var errEscape = errors.New("escapes the dataset root")

// cleanRel turns a path read from a split or list file into a clean,
// forward-slash path relative to the dataset root. It refuses empty paths,
// absolute paths (Unix or Windows style) and paths that climb out of the
// root with "..". Backslashes are read as separators (split files written
// on Windows), so `..\x` is refused as well.
func cleanRel(p string) (string, error) {
	s := strings.ReplaceAll(p, `\`, "/")
	if strings.TrimSpace(s) == "" {
		return "", errors.New("empty path")
	}
	if strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("path %q holds a NUL byte", p)
	}
	if path.IsAbs(s) || hasDriveLetter(s) {
		return "", fmt.Errorf("path %q is absolute and %w; name files relative to the root", p, errEscape)
	}
	c := path.Clean(s)
	if c == "." {
		return "", fmt.Errorf("path %q names the root itself, not a file", p)
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q %w; name files inside the root", p, errEscape)
	}
	return c, nil
}

// hasDriveLetter reports a Windows absolute path such as C:/x.
func hasDriveLetter(s string) bool {
	return len(s) >= 2 && s[1] == ':' && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))
}

// joinRel joins clean relative parts and re-checks the result, so a label or
// id that holds "/.." cannot climb out of the root.
func joinRel(parts ...string) (string, error) {
	return cleanRel(path.Join(parts...))
}

// confiner checks on the file system that relative paths stay inside the
// root once symbolic links are followed. Directory answers are cached, so
// checking every file of a large dataset costs about one lstat per file.
type confiner struct {
	root     string           // absolute root as given
	rootReal string           // root with its own symlinks resolved
	dirs     map[string]error // checked folders
	files    map[string]error // checked files (splits list a file several times)
}

// newConfiner resolves root; it fails when root does not exist.
func newConfiner(root string) (*confiner, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("dataset root %s: %w", root, err)
	}
	return &confiner{root: abs, rootReal: real, dirs: map[string]error{".": nil}, files: map[string]error{}}, nil
}

// check reports an error when rel (clean, relative) resolves outside the
// root. Files that do not exist pass: Check reports them as missing.
func (c *confiner) check(rel string) error {
	if err, ok := c.files[rel]; ok {
		return err
	}
	err := c.checkDir(path.Dir(rel))
	if err == nil {
		err = c.checkLink(rel)
	}
	c.files[rel] = err
	return err
}

// checkDir checks a directory and its parents, with caching.
func (c *confiner) checkDir(dir string) error {
	if err, ok := c.dirs[dir]; ok {
		return err
	}
	err := c.checkDir(path.Dir(dir))
	if err == nil {
		err = c.checkLink(dir)
	}
	c.dirs[dir] = err
	return err
}

// checkLink checks one path whose parent is already known to be inside.
func (c *confiner) checkLink(rel string) error {
	full := filepath.Join(c.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	target, err := filepath.EvalSymlinks(full)
	if err != nil { // dangling: judge the link text itself
		link, lerr := os.Readlink(full)
		if lerr != nil {
			return nil
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(full), link)
		}
		if c.inside(filepath.Clean(link), c.root) {
			return nil
		}
		return fmt.Errorf("%s is a symbolic link to %s, which %w", rel, link, errEscape)
	}
	if c.inside(target, c.rootReal) {
		return nil
	}
	return fmt.Errorf("%s is a symbolic link to %s, which %w", rel, target, errEscape)
}

// inside reports whether p lies within base.
func (c *confiner) inside(p, base string) bool {
	r, err := filepath.Rel(base, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, "../") && !filepath.IsAbs(r)
}

// lineErr formats an error about one line of a dataset file.
func lineErr(file string, line int, err error) error {
	return fmt.Errorf("%s:%d: %w", file, line, err)
}

// lines splits text into lines without their line endings, dropping a
// leading UTF-8 byte order mark.
func lines(data []byte) []string {
	s := strings.TrimPrefix(string(data), "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}
