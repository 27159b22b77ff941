package dataset

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vidrep/vidrep/internal/testvideo"
)

// videoCache holds one tiny real video per container, made once per run.
var videoCache struct {
	sync.Mutex
	bytes map[string]string
}

// realVideo returns the bytes of a tiny real video for a file name's
// extension: MPEG-4 Part 2 in .avi, H.264 in .mp4/.mkv, VP8 in .webm. The
// test is skipped without ffmpeg.
func realVideo(t testing.TB, name string) string {
	t.Helper()
	ext := strings.ToLower(path.Ext(name))
	videoCache.Lock()
	defer videoCache.Unlock()
	if b, ok := videoCache.bytes[ext]; ok {
		return b
	}
	file := filepath.Join(t.TempDir(), "v"+ext)
	switch ext {
	case ".avi":
		testvideo.Make(t, file, testvideo.Options{Frames: 4, Codec: "mpeg4"})
	case ".webm":
		testvideo.Run(t, "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", "4", "-c:v", "libvpx", file)
	default:
		testvideo.Make(t, file, testvideo.Options{Frames: 4})
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if videoCache.bytes == nil {
		videoCache.bytes = map[string]string{}
	}
	videoCache.bytes[ext] = string(b)
	return string(b)
}

// writeTree writes files (path -> content) under root, making folders.
func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ucfClasses are the classes of the UCF101 fixture, in classInd order.
var ucfClasses = []string{"ApplyEyeMakeup", "Basketball", "YoYo"}

// ucfTestGroups returns the groups split k (1-based) tests on, as in the
// official lists: g01-g07, g08-g14, g15-g21.
func ucfTestGroups(k int) (lo, hi int) { return 7*k - 6, 7 * k }

// ucfName is the official file name of clip c of group g of a class.
func ucfName(class string, g, c int) string {
	return fmt.Sprintf("%s/v_%s_g%02d_c%02d.avi", class, class, g, c)
}

// makeUCF101 writes a UCF101 tree with 25 groups of 2 clips per class and
// the 3 official splits (train lists with ids, test lists without), with
// the lists under listDir ("" for the root) and videos under videoDir.
func makeUCF101(t testing.TB, root, listDir, videoDir string) {
	t.Helper()
	files := map[string]string{}
	var ind strings.Builder
	for i, c := range ucfClasses {
		fmt.Fprintf(&ind, "%d %s\r\n", i+1, c)
	}
	files[filepath.Join(listDir, "classInd.txt")] = ind.String()
	for k := 1; k <= 3; k++ {
		lo, hi := ucfTestGroups(k)
		var train, test strings.Builder
		for i, c := range ucfClasses {
			for g := 1; g <= 25; g++ {
				for clip := 1; clip <= 2; clip++ {
					name := ucfName(c, g, clip)
					files[filepath.Join(videoDir, name)] = realVideo(t, name)
					if g >= lo && g <= hi {
						fmt.Fprintf(&test, "%s\r\n", name)
					} else {
						fmt.Fprintf(&train, "%s %d\r\n", name, i+1)
					}
				}
			}
		}
		files[filepath.Join(listDir, fmt.Sprintf("trainlist%02d.txt", k))] = train.String()
		files[filepath.Join(listDir, fmt.Sprintf("testlist%02d.txt", k))] = test.String()
	}
	writeTree(t, root, files)
}

// paths returns the sorted paths of samples.
func paths(ss []Sample) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Path
	}
	sort.Strings(out)
	return out
}

// kinds returns the kinds of the report's problems, sorted.
func kinds(r Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	sort.Strings(out)
	return out
}
