// Package prepare decodes every video of a dataset once, fully, and writes a
// cache that training reads fast: H.264, short side 128 (never upscaled), a
// keyframe at least every 16 frames, every frame with its own timestamp.
// Files that fail go into a quarantine report and are left out; the run
// itself succeeds. Runs are resumable: an entry is written under a temporary
// name, renamed when complete, and its sidecar JSON is written last, so a
// killed run never leaves a half-written entry that passes as done.
package prepare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/vidrep/vidrep/internal/progress"
	"github.com/vidrep/vidrep/video"
)

// Defaults of Options.
const (
	DefaultShortSide   = 128
	DefaultGOP         = 16
	DefaultTimeout     = 5 * time.Minute
	DefaultMemoryLimit = 4 << 30
)

// Options configures Run.
type Options struct {
	Root        string        // dataset root; the cache goes to <Root>/.vidrep
	Paths       []string      // sources: relative to Root, or absolute; duplicates are done once
	Workers     int           // parallel files; 0 means runtime.NumCPU()
	ShortSide   int           // cached short side (never upscaled); 0 means 128
	GOP         int           // keyframe interval of the cache; 0 means 16
	Timeout     time.Duration // per-file wall-clock (and CPU) limit; 0 means 5 minutes
	MemoryLimit int64         // per-file address-space limit in bytes; 0 means 4 GiB
	Retry       bool          // re-try files the last run quarantined even if they did not change
	FFmpeg      string        // the ffmpeg binary; "" finds "ffmpeg" on PATH
	Opener      video.Opener  // reads entries back to check them; nil means video.NewOpener()
	Progress    io.Writer     // progress lines; nil means a bar on stderr
}

// Summary counts what a run did.
type Summary struct {
	Total       int           // distinct sources listed
	OK          int           // newly cached
	Skipped     int           // already cached by an earlier run and unchanged
	Quarantined int           // failed (see <Root>/.vidrep/quarantine.json)
	Damaged     int           // cached, but ffmpeg reported decode errors (the frames that decoded were kept)
	Bytes       int64         // size of all cache entries of this dataset
	Elapsed     time.Duration // wall-clock time of the run
}

// String renders the one-line summary printed at the end of a run.
func (s Summary) String() string {
	return fmt.Sprintf("%d files: %d cached, %d already cached, %d quarantined (%d cached with decode errors); cache %s; %s",
		s.Total, s.OK, s.Skipped, s.Quarantined, s.Damaged, sizeString(s.Bytes), s.Elapsed.Round(time.Millisecond))
}

// sizeString renders a byte count in KiB, MiB or GiB.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

// outcome is what happened to one source.
type outcome int

const (
	cached outcome = iota
	skipped
	quarantined
)

// job is the shared state of one Run.
type job struct {
	opt    Options
	enc    encoder
	prevQ  map[string]Failure
	quar   *quarantineLog
	opener video.Opener
}

// Run prepares the cache of opt.Root for opt.Paths. It returns an error only
// when the run itself cannot proceed (no ffmpeg, an unwritable root, another
// prepare running, or ctx cancelled); failing files are quarantined.
func Run(ctx context.Context, opt Options) (Summary, error) {
	start := time.Now()
	j, unlock, err := newJob(opt)
	if err != nil {
		return Summary{}, err
	}
	defer unlock()
	paths := dedupe(opt.Paths)
	sum := Summary{Total: len(paths)}
	bar := newBar(opt.Progress, len(paths))
	var mu sync.Mutex
	err = forEach(ctx, paths, j.opt.Workers, func(src string) error {
		out, e, qerr := j.one(ctx, src)
		if qerr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		mu.Lock()
		defer mu.Unlock()
		switch out {
		case cached:
			sum.OK++
		case skipped:
			sum.Skipped++
		case quarantined:
			sum.Quarantined++
		}
		if e.Warning != "" && out != quarantined {
			sum.Damaged++
		}
		sum.Bytes += e.Bytes
		bar.Add(1)
		bar.SetExtra("%d quarantined", sum.Quarantined)
		return nil
	})
	bar.Finish()
	if werr := j.quar.write(); err == nil && werr != nil {
		err = fmt.Errorf("write %s: %w", QuarantinePath(opt.Root), werr)
	}
	sum.Elapsed = time.Since(start)
	return sum, err
}

// newJob checks opt, fills its defaults, creates the state directory and
// takes the run lock.
func newJob(opt Options) (*job, func(), error) {
	if st, err := os.Stat(opt.Root); err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("dataset root %q is not a directory", opt.Root)
	}
	opt = withDefaults(opt)
	bin, err := exec.LookPath(opt.FFmpeg)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare needs the ffmpeg CLI (%v); install it with `make setup` or apt-get install ffmpeg", err)
	}
	if _, err := opt.Opener.Open(""); errors.Is(err, video.ErrNoDecoder) {
		return nil, nil, fmt.Errorf("prepare reads each cache entry back to check it: %w", err)
	}
	if err := os.MkdirAll(CacheDir(opt.Root), 0o755); err != nil {
		return nil, nil, fmt.Errorf("create the cache under %s: %w", opt.Root, err)
	}
	unlock, err := lockRun(filepath.Join(StateDir(opt.Root), "prepare.lock"))
	if err != nil {
		return nil, nil, err
	}
	prev, err := LoadQuarantine(opt.Root)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	j := &job{opt: opt, quar: newQuarantineLog(opt.Root), prevQ: map[string]Failure{}, opener: opt.Opener,
		enc: encoder{ffmpeg: bin, shortSide: opt.ShortSide, gop: opt.GOP, timeout: opt.Timeout, memBytes: opt.MemoryLimit}}
	for _, f := range prev.Files {
		j.prevQ[f.Source] = f
	}
	return j, unlock, nil
}

func withDefaults(opt Options) Options {
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.ShortSide <= 0 {
		opt.ShortSide = DefaultShortSide
	}
	if opt.GOP <= 0 {
		opt.GOP = DefaultGOP
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MemoryLimit <= 0 {
		opt.MemoryLimit = DefaultMemoryLimit
	}
	if opt.FFmpeg == "" {
		opt.FFmpeg = "ffmpeg"
	}
	if opt.Opener == nil {
		opt.Opener = video.NewOpener()
	}
	return opt
}

// newBar starts the progress display.
func newBar(out io.Writer, total int) *progress.Bar {
	if out == nil {
		return progress.New("prepare", total)
	}
	return progress.NewTo(out, "prepare", total, false)
}

// dedupe returns paths without repeats (after cleaning), in first-seen order.
func dedupe(paths []string) []string {
	seen := make(map[string]bool, len(paths))
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		c := filepath.Clean(p)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// forEach calls fn for every item with n workers, stopping at the first
// error or when ctx is cancelled.
func forEach(ctx context.Context, items []string, n int, fn func(string) error) error {
	ch := make(chan string)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, it := range items {
		select {
		case ch <- it:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(ch)
	wg.Wait()
	close(errc)
	if err == nil {
		err = <-errc
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// one prepares one source. The returned error is the quarantine reason (or
// the cancellation of ctx).
func (j *job) one(ctx context.Context, src string) (outcome, Entry, error) {
	st, reason := j.checkSource(src)
	if reason == "" {
		if e, ok := j.upToDate(src, st); ok {
			return skipped, e, nil
		}
		if f, ok := j.prevQ[src]; ok && !j.opt.Retry && f.matches(st) {
			return quarantined, Entry{}, j.quarantine(f, errors.New(f.Reason))
		}
		e, err := j.encode(ctx, src, st)
		if err == nil {
			return cached, e, nil
		}
		if ctx.Err() != nil {
			return quarantined, Entry{}, ctx.Err()
		}
		reason = err.Error()
	}
	f := Failure{Source: src, Reason: reason}
	if st != nil {
		f.SourceSize, f.SourceMTime = st.Size(), st.ModTime().UnixNano()
	}
	return quarantined, Entry{}, j.quarantine(f, errors.New(reason))
}

// quarantine records f and returns cause.
func (j *job) quarantine(f Failure, cause error) error {
	if err := j.quar.add(f); err != nil {
		return fmt.Errorf("write %s: %w", QuarantinePath(j.opt.Root), err)
	}
	return cause
}

// checkSource stats src and returns a quarantine reason when it cannot be a video.
func (j *job) checkSource(src string) (os.FileInfo, string) {
	if _, err := entryBase(j.opt.Root, src); err != nil {
		return nil, err.Error()
	}
	st, err := os.Stat(sourcePath(j.opt.Root, src))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, "missing: listed but not on disk"
	case err != nil:
		return nil, "cannot read: " + err.Error()
	case st.IsDir():
		return st, "is a directory, not a video file"
	case st.Size() == 0:
		return st, "empty file (0 bytes)"
	}
	return st, ""
}

// upToDate returns the finished entry of src when its source is unchanged.
func (j *job) upToDate(src string, st os.FileInfo) (Entry, bool) {
	e, ok := Lookup(j.opt.Root, src)
	return e, ok && e.matches(st)
}

// encode re-encodes src into its cache entry: video to a temporary name,
// checked by reading it back, synced, renamed; then the sidecar.
func (j *job) encode(ctx context.Context, src string, st os.FileInfo) (Entry, error) {
	base, _ := entryBase(j.opt.Root, src)
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return Entry{}, fmt.Errorf("cannot create the cache directory: %v", err)
	}
	// An old entry (its source changed) stops counting as done before its
	// video is replaced, so no kill can pair the old sidecar with a new video.
	if err := os.Remove(base + ".json"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Entry{}, fmt.Errorf("cannot replace the old cache entry: %v", err)
	}
	removeStale(base)
	tmp := base + ".mp4" + tmpMark + strconv.Itoa(os.Getpid())
	defer os.Remove(tmp)
	warn, err := j.enc.run(ctx, sourcePath(j.opt.Root, src), tmp)
	if err != nil {
		return Entry{}, err
	}
	info, err := j.readBack(tmp)
	if err != nil {
		return Entry{}, err
	}
	tst, err := os.Stat(tmp)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Source: src, Path: base + ".mp4", Frames: info.Frames, Width: info.Width, Height: info.Height,
		FPS: info.FPS, Duration: info.Duration, Bytes: tst.Size(), SourceSize: st.Size(),
		SourceMTime: st.ModTime().UnixNano(), Warning: warn}
	if err := j.commit(tmp, base, e); err != nil {
		return Entry{}, fmt.Errorf("cannot write the cache entry: %v", err)
	}
	return e, nil
}

// readBack opens a freshly written cache video with the video package and
// decodes its first and last frames.
func (j *job) readBack(path string) (video.Info, error) {
	v, err := j.opener.Open(path)
	if errors.Is(err, video.ErrNoDecoder) {
		return video.Info{}, err
	}
	if err != nil {
		return video.Info{}, fmt.Errorf("no decodable video frames (the re-encoded video is unreadable: %v)", err)
	}
	defer v.Close()
	info := v.Info()
	for _, start := range []int{0, info.Frames - 1} {
		c, err := v.ReadClip(video.ClipRequest{Start: start, Frames: 1, Stride: 1})
		if err != nil || c.T != 1 {
			return info, fmt.Errorf("no decodable video frames at frame %d of %d of the re-encoded video (%v)", start, info.Frames, err)
		}
	}
	return info, nil
}

// commit moves a checked video into place and writes its sidecar last.
func (j *job) commit(tmp, base string, e Entry) error {
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, base+".mp4"); err != nil {
		return err
	}
	return writeSidecar(base, e)
}
