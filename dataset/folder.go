package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Folder-per-class layout: <root>/<class>/<video> (videos may sit in
// subfolders of the class folder). With <root>/train/<class>/... and
// <root>/test/<class>/... (or val/ or validation/ in place of test/) those
// folders are split 1. Without them split 1 is a deterministic stratified
// split: in each class the videos are ranked by a fixed hash of their path
// and the first FolderTestPercent (at least one when the class has two or
// more videos) go to test. Classes are the class folders, sorted; a class
// folder without videos is kept so Check reports it.
//
// Unlabeled layout: a tree of video files, or unlabeled.txt at the root
// (one path a line, relative to the root or absolute), or a list file given
// in place of the root.
//
// Tree walks skip folders and files whose names start with "." (caches and
// hidden files), do not enter symbolic links to folders, and refuse a
// symbolic link to a file outside the root.

// FolderTestPercent is the share of each class the folder layout tests on
// when it has no train/ and test/ folders.
const FolderTestPercent = 20

// folderSplitSeed fixes the folder layout's stratified split.
const folderSplitSeed = 0x5eed

// folderTestDirs are the names a folder layout's test side may have.
var folderTestDirs = []string{"test", "val", "validation"}

// looksLikeFolder reports a folder-per-class tree: train/ beside a test
// folder, or at least two folders that hold videos directly.
func looksLikeFolder(root string) bool {
	if folderTestDir(root) != "" {
		return true
	}
	n := 0
	for _, sub := range subdirs(root) {
		if dirHasVideo(filepath.Join(root, sub)) {
			n++
		}
	}
	return n >= 2
}

// folderTestDir returns the test folder beside root/train, or "".
func folderTestDir(root string) string {
	if !isDir(filepath.Join(root, "train")) {
		return ""
	}
	for _, t := range folderTestDirs {
		if isDir(filepath.Join(root, t)) {
			return t
		}
	}
	return ""
}

// dirHasVideo reports a video file directly in dir.
func dirHasVideo(dir string) bool {
	ents, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, e := range ents {
		if IsVideoName(e) {
			return true
		}
	}
	return false
}

// loadFolder reads a folder-per-class tree.
func loadFolder(d *Dataset, c *confiner) error {
	if test := folderTestDir(d.Root); test != "" {
		return d.loadFolderSplit(c, test)
	}
	d.Classes = subdirs(d.Root)
	if len(d.Classes) == 0 {
		return fmt.Errorf("%s: no class folders; want <class>/<video> under the root", d.Root)
	}
	var all []Sample
	for label, class := range d.Classes {
		vids, err := walkVideos(c, class)
		if err != nil {
			return err
		}
		for _, p := range vids {
			all = append(all, Sample{Path: p, Label: label})
		}
	}
	d.Splits = []Split{stratifiedSplit(all, FolderTestPercent)}
	return nil
}

// loadFolderSplit reads train/<class>/ and <test>/<class>/.
func (d *Dataset) loadFolderSplit(c *confiner, test string) error {
	seen := map[string]bool{}
	for _, side := range []string{"train", test} {
		for _, class := range subdirs(filepath.Join(d.Root, side)) {
			if !seen[class] {
				seen[class] = true
				d.Classes = append(d.Classes, class)
			}
		}
	}
	sort.Strings(d.Classes)
	var sp Split
	for label, class := range d.Classes {
		for _, side := range []struct {
			dir string
			dst *[]Sample
		}{{"train", &sp.Train}, {test, &sp.Test}} {
			vids, err := walkVideos(c, side.dir+"/"+class)
			if err != nil {
				return err
			}
			for _, p := range vids {
				*side.dst = append(*side.dst, Sample{Path: p, Label: label})
			}
		}
	}
	d.Splits = []Split{sp}
	return nil
}

// stratifiedSplit sends the first percent of each class, ranked by a fixed
// hash of the path, to test (at least one of a class of two or more).
func stratifiedSplit(all []Sample, percent int) Split {
	byClass := map[int][]Sample{}
	for _, s := range all {
		byClass[s.Label] = append(byClass[s.Label], s)
	}
	test := map[string]bool{}
	for _, ss := range byClass {
		sort.SliceStable(ss, func(i, j int) bool {
			return pathHash(folderSplitSeed, ss[i].Path) < pathHash(folderSplitSeed, ss[j].Path)
		})
		k := (len(ss)*percent + 50) / 100
		if k == 0 && len(ss) >= 2 {
			k = 1
		}
		for _, s := range ss[:k] {
			test[s.Path] = true
		}
	}
	var sp Split
	for _, s := range all {
		if test[s.Path] {
			sp.Test = append(sp.Test, s)
		} else {
			sp.Train = append(sp.Train, s)
		}
	}
	return sp
}

// loadUnlabeled reads unlabeled.txt when the root has one, else every video
// under the root.
func loadUnlabeled(d *Dataset, c *confiner) error {
	list := filepath.Join(d.Root, UnlabeledList)
	if isFile(list) {
		return readUnlabeledList(d, c, list)
	}
	vids, err := walkVideos(c, ".")
	if err != nil {
		return err
	}
	if len(vids) == 0 {
		return fmt.Errorf("%s: no video files (%s) and no %s", d.Root, strings.Join(VideoExts, " "), UnlabeledList)
	}
	for _, p := range vids {
		d.Unlabeled = append(d.Unlabeled, Sample{Path: p, Label: Unlabeled})
	}
	return nil
}

// walkVideos lists the video files under rel (relative to the root), in
// lexical order, as clean relative paths.
func walkVideos(c *confiner, rel string) ([]string, error) {
	var out []string
	start, err := filepath.EvalSymlinks(filepath.Join(c.root, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a class on one side of a split only
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", rel, err)
	}
	if !c.inside(start, c.rootReal) {
		return nil, fmt.Errorf("%s resolves to %s, which %w", rel, start, errEscape)
	}
	err = filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if p != start && strings.HasPrefix(name, ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() || !IsVideoName(name) {
			return nil
		}
		sub, err := filepath.Rel(start, p)
		if err != nil {
			return err
		}
		r := path.Join(rel, filepath.ToSlash(sub))
		if e.Type()&fs.ModeSymlink != 0 {
			if err := c.check(r); err != nil {
				return err
			}
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", start, err)
	}
	return out, nil
}
