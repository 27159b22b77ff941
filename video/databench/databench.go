// Package databench measures the data side of vidrep: clips per second and
// per CPU-second when decoding original files and when reading the prepare
// cache, peak RSS, and RSS growth across many clip reads. It generates its
// own UCF-like (MPEG-4 Part 2, 320x240, .avi) and Kinetics-like (H.264,
// 320x240, long GOP, .mp4) files with the ffmpeg CLI, and can run the OpenCV
// anchor script (bench/data_opencv.py) on the same files in the same run.
package databench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vidrep/vidrep/prepare"
	"github.com/vidrep/vidrep/video"
)

// Config sets what Run measures. Zero fields take the defaults of Defaults.
type Config struct {
	Dir       string    // where the generated files and their cache live; "" uses a temporary directory
	Videos    int       // files per kind
	Clips     int       // clips timed per method and kind
	RSSClips  int       // cache clip reads of the RSS run
	Frames    int       // frames per clip
	Stride    int       // frame stride
	ShortSide int       // decode short side
	Crop      int       // centre crop side
	Seed      uint64    // clip starts
	Anchor    string    // OpenCV anchor script; "" skips the anchor
	Python    string    // interpreter of the anchor
	Log       io.Writer // progress lines; nil discards them
}

// Defaults are the settings of the published numbers: 16-frame clips at
// stride 2, short side 128, centre crop 112, 10,000 clip reads for RSS.
var Defaults = Config{Videos: 4, Clips: 300, RSSClips: 10000, Frames: 16, Stride: 2, ShortSide: 128, Crop: 112, Seed: 1, Python: "python3"}

// Kind is a family of generated source files.
type Kind struct {
	Name    string   // as printed
	File    string   // file name pattern with one %d
	Seconds int      // duration
	Encode  []string // ffmpeg encoder arguments
}

// Kinds are the generated source files: UCF101-like XviD and Kinetics-like
// H.264 (x264 defaults, keyframe every 250 frames), both 320x240 at 25 fps
// with moving texture and noise, so bitrates are those of real clips.
var Kinds = []Kind{
	{"UCF-like MPEG-4 320x240", "ucf_%02d.avi", 7, []string{"-c:v", "mpeg4", "-vtag", "xvid", "-b:v", "500k"}},
	{"Kinetics-like H.264 320x240", "kinetics_%02d.mp4", 10, []string{"-c:v", "libx264", "-pix_fmt", "yuv420p"}},
}

// Result is one timed method on one kind of file.
type Result struct {
	Method       string  `json:"method"`
	Kind         string  `json:"kind"`
	Clips        int     `json:"clips"`
	WallS        float64 `json:"wall_s"`
	CPUS         float64 `json:"cpu_s"`
	ClipsPerS    float64 `json:"clips_per_s"`
	ClipsPerCPUS float64 `json:"clips_per_cpu_s"`
}

// Report is everything Run measured.
type Report struct {
	Config      Config   `json:"-"`
	Results     []Result `json:"results"`
	RSSClips    int      `json:"rss_clips"`
	RSSStartKB  int      `json:"rss_start_kib"` // after 10% of the RSS run (warm)
	RSSEndKB    int      `json:"rss_end_kib"`
	RSSGrowth   float64  `json:"rss_growth"`   // (end-start)/start
	PeakRSSKB   int      `json:"peak_rss_kib"` // of the whole process
	CacheMiB    float64  `json:"cache_mib"`    // size of the cache of all generated files
	PrepareS    float64  `json:"prepare_s"`    // wall time of prepare for all generated files
	AnchorError string   `json:"anchor_error,omitempty"`
}

// Run generates (or reuses) the files, prepares their cache, times raw
// decoding and cache reads per kind (and the OpenCV anchor when configured),
// then runs the RSS loop over cache reads.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = withDefaults(cfg)
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "vidrep-bench-data-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	files, err := generate(ctx, dir, cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg}
	cached, err := prepareAll(ctx, dir, files, cfg, rep)
	if err != nil {
		return nil, err
	}
	for i, k := range Kinds {
		for _, m := range []struct {
			name  string
			paths []string
		}{{"go-astiav, original file", files[i]}, {"go-astiav, prepare cache", cached[i]}} {
			r, err := timeClips(ctx, m.paths, cfg, cfg.Clips)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", m.name, k.Name, err)
			}
			r.Method, r.Kind = m.name, k.Name
			logf(cfg, "%-28s %-28s %7.1f clips/s %7.1f clips/CPU-s", r.Method, r.Kind, r.ClipsPerS, r.ClipsPerCPUS)
			rep.Results = append(rep.Results, r)
		}
		if cfg.Anchor != "" && rep.AnchorError == "" {
			r, err := runAnchor(ctx, files[i], cfg)
			if err != nil {
				rep.AnchorError = err.Error()
				logf(cfg, "OpenCV anchor skipped: %v", err)
				continue
			}
			r.Kind = k.Name
			logf(cfg, "%-28s %-28s %7.1f clips/s %7.1f clips/CPU-s", r.Method, r.Kind, r.ClipsPerS, r.ClipsPerCPUS)
			rep.Results = append(rep.Results, r)
		}
	}
	if err := rssRun(ctx, append(cached[0], cached[1]...), cfg, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

func withDefaults(c Config) Config {
	d := Defaults
	if c.Videos > 0 {
		d.Videos = c.Videos
	}
	if c.Clips > 0 {
		d.Clips = c.Clips
	}
	if c.RSSClips > 0 {
		d.RSSClips = c.RSSClips
	}
	if c.Frames > 0 {
		d.Frames = c.Frames
	}
	if c.Stride > 0 {
		d.Stride = c.Stride
	}
	if c.ShortSide > 0 {
		d.ShortSide = c.ShortSide
	}
	if c.Crop > 0 {
		d.Crop = c.Crop
	}
	if c.Seed != 0 {
		d.Seed = c.Seed
	}
	if c.Python != "" {
		d.Python = c.Python
	}
	d.Dir, d.Anchor, d.Log = c.Dir, c.Anchor, c.Log
	return d
}

func logf(cfg Config, format string, args ...any) {
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, format+"\n", args...)
	}
}

// generate writes cfg.Videos files of each kind under dir/src (files already
// there are kept) and returns their paths per kind.
func generate(ctx context.Context, dir string, cfg Config) ([][]string, error) {
	out := make([][]string, len(Kinds))
	for i, k := range Kinds {
		for v := range cfg.Videos {
			p := filepath.Join(dir, "src", fmt.Sprintf(k.File, v))
			out[i] = append(out[i], p)
			if st, err := os.Stat(p); err == nil && st.Size() > 0 {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			logf(cfg, "generating %s", p)
			src := fmt.Sprintf("testsrc2=size=320x240:rate=25,hue=h=%d,noise=alls=8:allf=t+u", v*50)
			args := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", src,
				"-t", strconv.Itoa(k.Seconds)}, k.Encode...)
			tmp := p + ".part" + filepath.Ext(p)
			if msg, err := exec.CommandContext(ctx, "ffmpeg", append(args, tmp)...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("generate %s with ffmpeg: %v: %s", p, err, msg)
			}
			if err := os.Rename(tmp, p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// prepareAll caches every generated file with the prepare package (the real
// vidrep prepare path) and returns the cached paths per kind.
func prepareAll(ctx context.Context, dir string, files [][]string, cfg Config, rep *Report) ([][]string, error) {
	var rels []string
	for _, fs := range files {
		for _, f := range fs {
			rel, _ := filepath.Rel(dir, f)
			rels = append(rels, rel)
		}
	}
	sum, err := prepare.Run(ctx, prepare.Options{Root: dir, Paths: rels, Progress: io.Discard})
	if err != nil {
		return nil, err
	}
	if sum.Quarantined > 0 {
		return nil, fmt.Errorf("prepare quarantined %d generated files (see %s)", sum.Quarantined, prepare.QuarantinePath(dir))
	}
	rep.CacheMiB, rep.PrepareS = float64(sum.Bytes)/(1<<20), sum.Elapsed.Seconds()
	logf(cfg, "prepare: %s", sum)
	out := make([][]string, len(files))
	for i, fs := range files {
		for _, f := range fs {
			rel, _ := filepath.Rel(dir, f)
			e, ok := prepare.Lookup(dir, rel)
			if !ok {
				return nil, fmt.Errorf("no cache entry for %s after prepare", rel)
			}
			out[i] = append(out[i], e.Path)
		}
	}
	return out, nil
}

// cpuSeconds returns the user+system CPU time of this process.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// timeClips reads n clips, each from a fresh Open of the next file (as a
// loader over many videos does), at a random start, and centre-crops them.
func timeClips(ctx context.Context, paths []string, cfg Config, n int) (Result, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	crop := make([]uint8, cfg.Frames*cfg.Crop*cfg.Crop*3)
	op := video.NewOpener()
	for i := range min(10, n) { // warm the page cache and the allocator
		if err := readOne(op, paths[i%len(paths)], cfg, rng, crop); err != nil {
			return Result{}, err
		}
	}
	runtime.GC()
	c0, t0 := cpuSeconds(), time.Now()
	for i := range n {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if err := readOne(op, paths[i%len(paths)], cfg, rng, crop); err != nil {
			return Result{}, err
		}
	}
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-c0
	return Result{Clips: n, WallS: wall, CPUS: cpu, ClipsPerS: float64(n) / wall, ClipsPerCPUS: float64(n) / max(cpu, 1e-9)}, nil
}

// readOne opens path, reads one clip at a random start and centre-crops it into dst.
func readOne(op video.Opener, path string, cfg Config, rng *rand.Rand, dst []uint8) error {
	v, err := op.Open(path)
	if err != nil {
		return err
	}
	defer v.Close()
	span := (cfg.Frames-1)*cfg.Stride + 1
	start := rng.IntN(max(1, v.Info().Frames-span+1))
	c, err := v.ReadClip(video.ClipRequest{Start: start, Frames: cfg.Frames, Stride: cfg.Stride, ShortSide: cfg.ShortSide})
	if err != nil {
		return err
	}
	if c.T != cfg.Frames {
		return fmt.Errorf("%s: short clip (%d of %d frames from %d)", path, c.T, cfg.Frames, start)
	}
	return centreCrop(c, cfg.Crop, dst)
}

// centreCrop copies the central side x side square of every frame of c into dst.
func centreCrop(c *video.Clip, side int, dst []uint8) error {
	if c.W < side || c.H < side {
		return fmt.Errorf("clip %dx%d is smaller than the %d crop", c.W, c.H, side)
	}
	x0, y0 := (c.W-side)/2, (c.H-side)/2
	o := 0
	for t := range c.T {
		f := c.Frame(t)
		for y := y0; y < y0+side; y++ {
			row := f[(y*c.W+x0)*3 : (y*c.W+x0+side)*3]
			o += copy(dst[o:], row)
		}
	}
	return nil
}

// rssRun reads cfg.RSSClips clips from the cache and records the resident
// set after the first 10% (warm) and at the end, both after a GC that
// returns freed Go memory to the OS, so what remains is live memory and
// libav's C allocations.
func rssRun(ctx context.Context, paths []string, cfg Config, rep *Report) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	crop := make([]uint8, cfg.Frames*cfg.Crop*cfg.Crop*3)
	op := video.NewOpener()
	warm := max(1, cfg.RSSClips/10)
	for i := range cfg.RSSClips {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := readOne(op, paths[i%len(paths)], cfg, rng, crop); err != nil {
			return err
		}
		if i+1 == warm {
			debug.FreeOSMemory()
			rep.RSSStartKB = rssKB()
		}
	}
	debug.FreeOSMemory()
	rep.RSSEndKB, rep.RSSClips = rssKB(), cfg.RSSClips
	if rep.RSSStartKB > 0 {
		rep.RSSGrowth = float64(rep.RSSEndKB-rep.RSSStartKB) / float64(rep.RSSStartKB)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		rep.PeakRSSKB = int(ru.Maxrss)
	}
	logf(cfg, "RSS over %d cache clip reads: %d KiB after %d, %d KiB at the end (%+.1f%%), peak %d KiB",
		rep.RSSClips, rep.RSSStartKB, warm, rep.RSSEndKB, 100*rep.RSSGrowth, rep.PeakRSSKB)
	return nil
}

// rssKB returns the resident set size of this process in KiB (0 if unknown).
func rssKB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// runAnchor runs the OpenCV anchor script on the same files with the same
// clip settings and parses its JSON result.
func runAnchor(ctx context.Context, paths []string, cfg Config) (Result, error) {
	args := []string{cfg.Anchor, "--clips", strconv.Itoa(cfg.Clips), "--frames", strconv.Itoa(cfg.Frames),
		"--stride", strconv.Itoa(cfg.Stride), "--short", strconv.Itoa(cfg.ShortSide), "--crop", strconv.Itoa(cfg.Crop),
		"--seed", strconv.FormatUint(cfg.Seed, 10)}
	cmd := exec.CommandContext(ctx, cfg.Python, append(args, paths...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Result{}, fmt.Errorf("%s %s: %v: %s", cfg.Python, cfg.Anchor, err, strings.TrimSpace(stderr.String()))
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil || r.Clips == 0 {
		return Result{}, errors.Join(fmt.Errorf("unexpected anchor output %q", out), err)
	}
	return r, nil
}

// Markdown renders the results as a table and the RSS line.
func (r *Report) Markdown() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "%d-frame clips, stride %d, short side %d, centre crop %dx%d, one worker, open per clip; %d clips per row, %d files per kind.\n\n",
		c.Frames, c.Stride, c.ShortSide, c.Crop, c.Crop, c.Clips, c.Videos)
	b.WriteString("| method | files | clips/s | clips per CPU-second |\n|---|---|---|---|\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f |\n", x.Method, x.Kind, x.ClipsPerS, x.ClipsPerCPUS)
	}
	fmt.Fprintf(&b, "\nprepare of the %d files: %.1f s, cache %.2f MiB. RSS over %d cache clip reads: %d KiB after the first 10%%, %d KiB at the end (%+.1f%%); peak RSS of the whole run %d KiB.\n",
		2*c.Videos, r.PrepareS, r.CacheMiB, r.RSSClips, r.RSSStartKB, r.RSSEndKB, 100*r.RSSGrowth, r.PeakRSSKB)
	if r.AnchorError != "" {
		fmt.Fprintf(&b, "\nOpenCV anchor not run: %s\n", r.AnchorError)
	}
	return b.String()
}
