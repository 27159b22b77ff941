//go:build !noav

package video

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/asticode/go-astiav"
	"github.com/vidrep/vidrep/internal/testvideo"
)

// hasEncoder says whether the ffmpeg CLI has the named encoder.
func hasEncoder(t *testing.T, name string) bool {
	t.Helper()
	out, err := exec.Command(testvideo.FFmpeg(t), "-hide_banner", "-encoders").Output()
	return err == nil && strings.Contains(string(out), " "+name+" ")
}

// wantFrames is how many frames req gets from a video of n frames.
func wantFrames(n int, req ClipRequest) int {
	return max(0, min(req.Frames, (n-req.Start+req.Stride-1)/req.Stride))
}

// TestReadClipBFrames reads files whose frames are stored out of display
// order (B-frames) from containers with and without presentation timestamps:
// AVI packets carry only a decode timestamp, so frames are identified by
// counting the decoder's output. One Video serves every request in order:
// forward reads, backward seeks across keyframes and reads to the end.
func TestReadClipBFrames(t *testing.T) {
	testvideo.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	testvideo.Make(t, src, testvideo.Options{Frames: 40, Width: 64, Height: 48, Codec: "h264", GOP: 1})
	files := []struct {
		name    string
		encoder string   // needed ffmpeg encoder
		args    []string // encoder arguments, the input being src
	}{
		{"h264.avi", "libx264", []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "8", "-bf", "3"}},
		{"h264-bframe-keys.avi", "libx264", []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "5", "-bf", "3", "-x264-params", "open-gop=1"}},
		{"xvid.avi", "mpeg4", []string{"-c:v", "mpeg4", "-vtag", "xvid", "-q:v", "2", "-bf", "2", "-g", "9"}},
		{"xvid-packed.avi", "libxvid", []string{"-c:v", "libxvid", "-q:v", "2", "-bf", "2", "-g", "9"}},
		{"h264.mkv", "libx264", []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "8", "-bf", "3"}},
		{"vp9.webm", "libvpx-vp9", []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-crf", "10", "-b:v", "0", "-g", "8"}},
	}
	reqs := []ClipRequest{
		{Start: 0, Frames: 6, Stride: 1, ShortSide: 32},   // from the start, across the reorder delay
		{Start: 20, Frames: 5, Stride: 2, ShortSide: 32},  // forward seek
		{Start: 3, Frames: 4, Stride: 3, ShortSide: 32},   // backward seek
		{Start: 30, Frames: 20, Stride: 1, ShortSide: 32}, // to the end (short clip)
		{Start: 13, Frames: 3, Stride: 1, ShortSide: 32},  // backward seek into the middle
		{Start: 35, Frames: 5, Stride: 1, ShortSide: 0},   // the last frames at full size
		{Start: 1, Frames: 2, Stride: 9, ShortSide: 0},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			if !hasEncoder(t, f.encoder) {
				t.Skipf("the ffmpeg CLI has no %s encoder", f.encoder)
			}
			path := filepath.Join(dir, f.name)
			testvideo.Run(t, append(append([]string{"-i", src}, f.args...), "-pix_fmt", "yuv420p", path)...)
			v, err := NewOpener().Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			refs := map[int][][]byte{}
			for _, req := range reqs {
				w, h := ScaledSize(64, 48, req.ShortSide)
				if refs[w] == nil {
					refs[w], _, _ = testvideo.DecodeRGB(t, path, w, h, refFlags)
				}
				ref := refs[w]
				if n := v.Info().Frames; n != len(ref) {
					t.Fatalf("Info().Frames = %d, the ffmpeg CLI decodes %d", n, len(ref))
				}
				clip, err := v.ReadClip(req)
				if err != nil {
					t.Fatalf("%+v: %v", req, err)
				}
				checkClip(t, clip, ref, req, wantFrames(len(ref), req))
			}
			// A fresh Video whose first read lies past several keyframes.
			first := ClipRequest{Start: 33, Frames: 4, Stride: 2, ShortSide: 32}
			fresh, err := NewOpener().Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			clip, err := fresh.ReadClip(first)
			if err != nil {
				t.Fatalf("%+v: %v", first, err)
			}
			w, _ := ScaledSize(64, 48, first.ShortSide)
			checkClip(t, clip, refs[w], first, wantFrames(len(refs[w]), first))
		})
	}
}

// TestCountedSeekMemo checks that the seek points found in a counted stream
// serve the next Open of the same file (a fresh Video seeks at once) and
// that a rewritten file at the same path does not reuse them.
func TestCountedSeekMemo(t *testing.T) {
	testvideo.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	testvideo.Make(t, src, testvideo.Options{Frames: 30, Width: 64, Height: 48, Codec: "h264", GOP: 1})
	path := filepath.Join(dir, "memo.avi")
	req := ClipRequest{Start: 21, Frames: 4, Stride: 2, ShortSide: 32}
	for _, gop := range []string{"6", "7"} { // the second pass rewrites the file
		testvideo.Run(t, "-i", src, "-c:v", "libx264", "-preset", "veryfast", "-g", gop, "-bf", "3", "-pix_fmt", "yuv420p", path)
		w, h := ScaledSize(64, 48, req.ShortSide)
		ref, _, _ := testvideo.DecodeRGB(t, path, w, h, refFlags)
		var learned []int
		for pass := 0; pass < 2; pass++ {
			v, err := NewOpener().Open(path)
			if err != nil {
				t.Fatal(err)
			}
			av := v.(*avVideo)
			if !av.counted {
				t.Fatal("an AVI with B-frames is not a counted stream")
			}
			if known := slices.Clone(av.keys); pass == 0 && len(known) != 0 {
				t.Fatalf("gop %s: seek points %v known before any read of a new file", gop, known)
			} else if pass == 1 && !slices.Equal(known, learned) {
				t.Fatalf("gop %s: reopened with seek points %v, the first Open found %v", gop, known, learned)
			}
			clip, err := v.ReadClip(req)
			if err != nil {
				t.Fatal(err)
			}
			checkClip(t, clip, ref, req, wantFrames(len(ref), req))
			learned = slices.Clone(av.keys)
			if len(learned) < 2 {
				t.Fatalf("gop %s: seek points %v after reading to frame 27", gop, learned)
			}
			v.Close()
		}
	}
}

// TestCountedIndex feeds countedIndex synthetic decoded frames (tag in pts)
// to cover what real decoders rarely do: leading frames output before the
// keyframe a seek went to, a keyframe that never comes, and a count that
// drifts in a corrupt stretch.
func TestCountedIndex(t *testing.T) {
	type out struct {
		tag  int64
		key  bool
		idx  int  // wanted index (for kept frames)
		keep bool // wanted keep
	}
	const n = 40
	known := map[int]anchor{8: {ts: 7, tag: 800}, 16: {ts: 15, tag: 1600}}
	cases := []struct {
		name     string
		seek     int  // seek point to await (0: decode from the start)
		first    bool // the first keyframe (tag 100) is a known seek point too
		frames   []out
		wantKeys []int
	}{
		{"from the start, placing a keyframe", 0, false, []out{{100, true, 0, true}, {300, false, 1, true}, {200, false, 2, true}, {2400, true, 3, true}}, []int{3, 8, 16}},
		{"a non-key frame with a keyframe's tag is not placed", 0, false, []out{{100, false, 0, true}, {2400, false, 1, true}}, []int{8, 16}},
		{"leading frames before the awaited keyframe", 16, false, []out{{1500, false, 0, false}, {1550, false, 0, false}, {1600, true, 16, true}, {1700, false, 17, true}}, []int{8, 16}},
		{"re-sync on a known keyframe", 0, true, []out{{100, true, 0, true}, {200, false, 1, true}, {1600, true, 16, true}, {1700, false, 17, true}}, []int{0, 8, 16}},
		{"the awaited keyframe never comes", 16, false, append(slices.Repeat([]out{{5, false, 0, false}}, maxLeading), out{5, false, n, true}), []int{8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &avVideo{counted: true, pts: make([]int64, n), await: -1, next: 0,
				anchors: map[int]anchor{}, placed: map[int64]int{}, unplaced: map[int64]anchor{2400: {ts: 23, tag: 2400}}}
			for idx, a := range known {
				v.place(idx, a)
			}
			if c.first {
				v.place(0, anchor{ts: 0, tag: 100})
			}
			if c.seek > 0 {
				v.next, v.await = c.seek, v.anchors[c.seek].tag
			}
			f := astiav.AllocFrame()
			defer f.Free()
			for i, o := range c.frames {
				f.SetPts(o.tag)
				f.SetKeyFrame(o.key)
				f.SetPictureType(astiav.PictureTypeP)
				idx, keep := v.countedIndex(f)
				if keep != o.keep || (keep && idx != o.idx) {
					t.Fatalf("frame %d (tag %d): index %d keep %v, want %d %v", i, o.tag, idx, keep, o.idx, o.keep)
				}
				if keep {
					v.next = idx + 1
				}
			}
			if !slices.Equal(v.keys, c.wantKeys) {
				t.Fatalf("seek points %v, want %v", v.keys, c.wantKeys)
			}
		})
	}
}
