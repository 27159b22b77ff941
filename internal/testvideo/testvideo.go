// Package testvideo makes tiny video files with the ffmpeg CLI at test time:
// clean clips in MPEG-4 Part 2 or H.264, and the hostile files a real dataset
// holds (zero-byte, truncated, text renamed .mp4, audio-only, 3-frame,
// variable frame rate). Tests that need ffmpeg are skipped when it is absent.
package testvideo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Options describes a generated video. Zero fields take the defaults:
// 16 frames, 64x48 pixels, 25 fps, H.264.
type Options struct {
	Frames int     // number of frames
	Width  int     // pixels, even
	Height int     // pixels, even
	FPS    float64 // frames per second
	Codec  string  // "h264" (libx264, yuv420p) or "mpeg4" (MPEG-4 Part 2)
	GOP    int     // keyframe interval; 0 keeps the encoder's default
	Seed   int     // varies the picture so that two files differ; 0 is fine
}

func (o Options) withDefaults() Options {
	if o.Frames <= 0 {
		o.Frames = 16
	}
	if o.Width <= 0 {
		o.Width = 64
	}
	if o.Height <= 0 {
		o.Height = 48
	}
	if o.FPS <= 0 {
		o.FPS = 25
	}
	if o.Codec == "" {
		o.Codec = "h264"
	}
	return o
}

// FFmpeg returns the path of the ffmpeg binary, skipping the test when it is
// not installed.
func FFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg CLI not found on PATH; install it (make setup) to run the video tests")
	}
	return p
}

// Run runs ffmpeg with args (quiet, overwriting outputs) and fails the test
// with ffmpeg's stderr when it fails.
func Run(t testing.TB, args ...string) {
	t.Helper()
	bin := FFmpeg(t)
	full := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)
	cmd := exec.Command(bin, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, stderr.String())
	}
}

// codecArgs returns the encoder arguments for a codec name.
func codecArgs(t testing.TB, o Options) []string {
	t.Helper()
	var a []string
	switch o.Codec {
	case "h264":
		a = []string{"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-crf", "18"}
	case "mpeg4":
		a = []string{"-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p"}
	default:
		t.Fatalf("testvideo: unknown codec %q (want h264 or mpeg4)", o.Codec)
	}
	if o.GOP > 0 {
		a = append(a, "-g", strconv.Itoa(o.GOP))
	}
	return a
}

// source returns the lavfi input of a moving test pattern for o: smooth
// colour waves that drift every frame and a bright square that moves 3 px per
// frame, so every frame differs and a wrong frame index shows; Seed shifts
// the phase so that files made with different seeds differ.
func source(o Options) string {
	s := strconv.Itoa(o.Seed % 97)
	box := "between(X,mod(N*3," + strconv.Itoa(o.Width) + "),mod(N*3," + strconv.Itoa(o.Width) + ")+7)*between(Y,H/3,H/3+7)"
	return fmt.Sprintf("nullsrc=size=%dx%d:rate=%s,format=rgb24,"+
		"geq=r='128+90*sin(X/6+N/2+%s)':g='if(%s,250,128+90*sin(Y/5-N/3))':b='128+90*sin((X+Y)/9+N/4+%s/3)'",
		o.Width, o.Height, strconv.FormatFloat(o.FPS, 'f', -1, 64), s, box, s)
}

// Make writes a video to path (container chosen by its extension: .mp4, .avi,
// .mkv, ...) and creates the parent directories.
func Make(t testing.TB, path string, opt Options) {
	t.Helper()
	o := opt.withDefaults()
	mkdirFor(t, path)
	args := []string{"-f", "lavfi", "-i", source(o), "-frames:v", strconv.Itoa(o.Frames)}
	args = append(args, codecArgs(t, o)...)
	Run(t, append(args, path)...)
}

// ZeroByte writes an empty file at path.
func ZeroByte(t testing.TB, path string) {
	t.Helper()
	writeFile(t, path, nil)
}

// TextAsVideo writes a plain text file at path (name it .mp4 to make a text
// file renamed as a video).
func TextAsVideo(t testing.TB, path string) {
	t.Helper()
	writeFile(t, path, bytes.Repeat([]byte("this is a text file, not a video\n"), 40))
}

// Truncated writes a 50-frame H.264 .mp4 (index at the front) and cuts it to
// 40% of its size, so the container opens but the stream ends early.
func Truncated(t testing.TB, path string) {
	t.Helper()
	o := Options{Frames: 50, Width: 64, Height: 48}.withDefaults()
	mkdirFor(t, path)
	tmp := path + ".full.mp4"
	args := []string{"-f", "lavfi", "-i", source(o), "-frames:v", "50"}
	args = append(args, codecArgs(t, o)...)
	Run(t, append(args, "-movflags", "+faststart", "-f", "mp4", tmp)...)
	data, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(tmp)
	writeFile(t, path, data[:len(data)*2/5])
}

// AudioOnly writes a one-second AAC sine tone in an .mp4 container: a valid
// file with no video stream.
func AudioOnly(t testing.TB, path string) {
	t.Helper()
	mkdirFor(t, path)
	Run(t, "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", "-f", "mp4", path)
}

// VFRTimes are the presentation times (seconds) of the frames VFR writes:
// 10 frames 40 ms apart, then 10 frames 120 ms apart.
var VFRTimes = func() []float64 {
	ts := make([]float64, 20)
	for i := range ts {
		if i < 10 {
			ts[i] = float64(i) * 0.04
		} else {
			ts[i] = 0.36 + float64(i-9)*0.12
		}
	}
	return ts
}()

// VFR writes a variable-frame-rate H.264 .mp4 whose frame i is shown at
// VFRTimes[i].
func VFR(t testing.TB, path string) {
	t.Helper()
	o := Options{Frames: len(VFRTimes), Width: 64, Height: 48}.withDefaults()
	mkdirFor(t, path)
	// Frame N keeps its picture but moves to time VFRTimes[N]: 40 ms steps,
	// then 120 ms steps from frame 10.
	pts := "settb=1/1000,setpts='if(lt(N,10),N*40,360+(N-9)*120)'"
	args := []string{"-f", "lavfi", "-i", source(o), "-frames:v", strconv.Itoa(o.Frames),
		"-vf", pts, "-fps_mode", "vfr", "-video_track_timescale", "1000"}
	args = append(args, codecArgs(t, o)...)
	Run(t, append(args, "-f", "mp4", path)...)
}

// Kind names a hostile file made by Hostile.
type Kind string

// The hostile kinds Hostile writes.
const (
	KindZeroByte  Kind = "zero-byte"
	KindTruncated Kind = "truncated"
	KindText      Kind = "text-as-mp4"
	KindAudioOnly Kind = "audio-only"
	KindThree     Kind = "3-frame"
	KindVFR       Kind = "vfr"
)

// File is one file written by Hostile.
type File struct {
	Kind Kind
	Path string // absolute path
	Rel  string // path relative to the directory given to Hostile
	// Decodable says whether at least one frame can be decoded from it.
	Decodable bool
}

// Hostile writes one file of each hostile kind under dir/sub and returns them
// in a fixed order.
func Hostile(t testing.TB, dir, sub string) []File {
	t.Helper()
	specs := []struct {
		kind Kind
		name string
		ok   bool
		make func(testing.TB, string)
	}{
		{KindZeroByte, "v_zero.mp4", false, ZeroByte},
		{KindTruncated, "v_truncated.mp4", true, Truncated},
		{KindText, "v_text.mp4", false, TextAsVideo},
		{KindAudioOnly, "v_audio.mp4", false, AudioOnly},
		{KindThree, "v_three.avi", true, func(t testing.TB, p string) { Make(t, p, Options{Frames: 3, Codec: "mpeg4"}) }},
		{KindVFR, "v_vfr.mp4", true, VFR},
	}
	out := make([]File, 0, len(specs))
	for _, s := range specs {
		rel := filepath.Join(sub, s.name)
		p := filepath.Join(dir, rel)
		s.make(t, p)
		out = append(out, File{Kind: s.kind, Path: p, Rel: rel, Decodable: s.ok})
	}
	return out
}

// DecodeRGB decodes every frame of path with the ffmpeg CLI, scaled to w x h
// (0, 0 keeps the size) with the given swscale flags ("" = "bilinear"), and
// returns one packed RGB24 []byte per frame with the frame size used.
// Frames are neither dropped nor duplicated (passthrough timing).
func DecodeRGB(t testing.TB, path string, w, h int, flags string) (frames [][]byte, fw, fh int) {
	t.Helper()
	bin := FFmpeg(t)
	if flags == "" {
		flags = "bilinear"
	}
	if w == 0 || h == 0 {
		w, h = probeSize(t, path)
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-i", path, "-an",
		"-fps_mode", "passthrough", "-sws_flags", flags,
		"-vf", fmt.Sprintf("scale=%d:%d", w, h), "-pix_fmt", "rgb24", "-f", "rawvideo", "-"}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v\n%s", path, err, stderr.String())
	}
	n := w * h * 3
	for off := 0; off+n <= len(raw); off += n {
		frames = append(frames, raw[off:off+n])
	}
	return frames, w, h
}

// probeSize returns a video's width and height with ffprobe.
func probeSize(t testing.TB, path string) (int, int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var w, h int
	if _, err := fmt.Sscanf(string(bytes.TrimSpace(out)), "%dx%d", &w, &h); err != nil {
		t.Fatalf("ffprobe %s: unexpected output %q", path, out)
	}
	return w, h
}

func mkdirFor(t testing.TB, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	mkdirFor(t, path)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
