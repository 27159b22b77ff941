package evaluate

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/train"
)

// PredictConfig configures action prediction on a user's video files.
type PredictConfig struct {
	Ckpt  string   // a fine-tuned run directory
	Files []string // video files
	TopK  int      // classes listed per prediction (default 5)
	Clips int      // uniformly spaced clips averaged for the whole-video prediction (default 10)
	// Hop is the distance in frames between the starts of two timeline
	// windows (default: one clip span, windows back to back). A video gets a
	// timeline when it holds at least MinWindows windows (default 4).
	Hop, MinWindows int
	Runtime
}

// ClassProb is one class with its probability.
type ClassProb struct {
	Class string  `json:"class"`
	Index int     `json:"index"`
	Prob  float64 `json:"prob"`
}

// Window is one step of a timeline: a clip and its top classes.
type Window struct {
	StartFrame int         `json:"start_frame"`
	EndFrame   int         `json:"end_frame"` // last source frame of the clip
	Start      float64     `json:"start_s"`
	End        float64     `json:"end_s"`
	Top        []ClassProb `json:"top"`
}

// FilePrediction is the prediction for one file, or the reason it failed.
type FilePrediction struct {
	File     string      `json:"file"`
	Frames   int         `json:"frames,omitempty"`
	FPS      float64     `json:"fps,omitempty"`
	Top      []ClassProb `json:"top,omitempty"` // whole video: softmax averaged over Clips clips
	Timeline []Window    `json:"timeline,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// predictJob is one clip to run: clip k of a file's whole-video set, or a window.
type predictJob struct {
	file   int
	start  int
	window int // -1 for a whole-video clip
}

func (c PredictConfig) withDefaults() PredictConfig {
	if c.TopK <= 0 {
		c.TopK = 5
	}
	if c.Clips <= 0 {
		c.Clips = 10
	}
	if c.MinWindows <= 0 {
		c.MinWindows = 4
	}
	c.Runtime = c.Runtime.withDefaults()
	return c
}

// Predict runs a fine-tuned run on video files. A file that cannot be read as
// a video gets an Error and the others go on; a bad checkpoint is an error.
func Predict(ctx context.Context, cfg PredictConfig) ([]FilePrediction, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Files) == 0 {
		return nil, cli.Usagef("no video files given; pass one or more VIDEO paths")
	}
	net, err := loadClassifier(cfg.Ckpt, cfg.Runtime)
	if err != nil {
		return nil, err
	}
	defer net.close()
	preds := make([]FilePrediction, len(cfg.Files))
	var jobs []predictJob
	for i, f := range cfg.Files {
		preds[i].File = f
		jobs = append(jobs, net.planFile(cfg, i, &preds[i])...)
	}
	if len(jobs) == 0 {
		return preds, nil
	}
	b := &jobBatches{cfg: cfg, spec: net.spec, jobs: jobs, preds: preds}
	fn := func(scope *model.Scope, views []*graph.Node) []*graph.Node {
		return []*graph.Node{viewsLogits(scope, net.bb, len(net.spec.Classes), views)}
	}
	out, err := train.Predict(ctx, net.backend, net.store, fn, b)
	if err != nil {
		return nil, err
	}
	collect(cfg, net.spec, jobs, out, preds)
	return preds, nil
}

// planFile probes a file and lists its clips: Clips uniform ones, and the
// timeline windows when the video is long enough.
func (n *network) planFile(cfg PredictConfig, i int, p *FilePrediction) []predictJob {
	f := cfg.Files[i]
	if st, err := os.Stat(f); err != nil {
		p.Error = fmt.Sprintf("%s: no such file", f)
		return nil
	} else if st.IsDir() {
		p.Error = fmt.Sprintf("%s: is a directory, not a video file", f)
		return nil
	}
	v, err := cfg.Opener.Open(f)
	if err != nil {
		p.Error = fileError(f, "not a video vidrep can decode", err)
		return nil
	}
	info := v.Info()
	v.Close()
	p.FPS, p.Frames = info.FPS, max(1, info.Frames)
	s := n.spec
	var jobs []predictJob
	for _, st := range loader.UniformStarts(p.Frames, s.Frames, s.Stride, cfg.Clips) {
		jobs = append(jobs, predictJob{file: i, start: st, window: -1})
	}
	span := loader.Span(s.Frames, s.Stride)
	hop := cfg.Hop
	if hop <= 0 {
		hop = span
	}
	if (p.Frames-span)/hop+1 >= cfg.MinWindows {
		for w, st := 0, 0; st+span <= p.Frames; w, st = w+1, st+hop {
			jobs = append(jobs, predictJob{file: i, start: st, window: w})
		}
	}
	return jobs
}

// fileError is one line about a file: the error itself when it names the
// file already, else "file: what: error".
func fileError(file, what string, err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if strings.Contains(msg, file) {
		return msg
	}
	return fmt.Sprintf("%s: %s: %s", file, what, msg)
}

// jobBatches reads the jobs' clips lazily, one reader open at a time. A file
// whose clips fail to decode gets an Error and its remaining jobs are skipped.
type jobBatches struct {
	cfg    PredictConfig
	spec   ModelSpec
	jobs   []predictJob
	preds  []FilePrediction
	next   int
	reader *loader.FileReader
	open   int // file index of reader
}

// Next returns the next batch of up to Runtime.Batch clips.
func (b *jobBatches) Next() (*loader.Batch, error) {
	var exs []loader.Example
	var idx []int
	for b.next < len(b.jobs) && len(exs) < b.cfg.Batch {
		j := b.jobs[b.next]
		b.next++
		if b.preds[j.file].Error != "" {
			continue
		}
		clip, err := b.read(j)
		if err != nil {
			b.preds[j.file].Error = fileError(b.cfg.Files[j.file], "decoding failed", err)
			continue
		}
		exs = append(exs, loader.Example{Views: []loader.ClipTensor{clip}})
		idx = append(idx, b.next-1)
	}
	if len(exs) == 0 {
		b.Close()
		return nil, io.EOF
	}
	return loader.Stack(exs, idx)
}

// read decodes the centre crop of one job's clip.
func (b *jobBatches) read(j predictJob) (loader.ClipTensor, error) {
	if b.reader == nil || b.open != j.file {
		b.Close()
		r, err := loader.OpenReader(b.cfg.Opener, b.cfg.Files[j.file], b.preds[j.file].Frames, decodeShortSide(b.spec.Size), loader.Loop)
		if err != nil {
			return loader.ClipTensor{}, err
		}
		b.reader, b.open = r, j.file
	}
	raw, err := b.reader.Read(j.start, b.spec.Frames, b.spec.Stride)
	if err != nil {
		return loader.ClipTensor{}, err
	}
	return loader.EvalCrops(raw, loader.AugEval(b.spec.Size))[0], nil
}

// Close releases the open reader.
func (b *jobBatches) Close() error {
	if b.reader != nil {
		b.reader.Close()
		b.reader = nil
	}
	return nil
}

// collect turns the clips' logits into per-file predictions.
func collect(cfg PredictConfig, spec ModelSpec, jobs []predictJob, out *train.Predictions, preds []FilePrediction) {
	whole := map[int][][]float32{}
	span := loader.Span(spec.Frames, spec.Stride)
	for i := 0; i < out.N; i++ {
		j := jobs[out.Index[i]]
		if preds[j.file].Error != "" {
			continue
		}
		logits := out.Row(0, i)
		if j.window < 0 {
			whole[j.file] = append(whole[j.file], logits)
			continue
		}
		p := &preds[j.file]
		w := Window{StartFrame: j.start, EndFrame: j.start + span - 1, Top: topClasses(Softmax(logits), spec.Classes, cfg.TopK)}
		if p.FPS > 0 {
			w.Start, w.End = float64(j.start)/p.FPS, float64(j.start+span)/p.FPS
		}
		p.Timeline = append(p.Timeline, w)
	}
	for f, views := range whole {
		if preds[f].Error == "" {
			preds[f].Top = topClasses(AverageViews(views), spec.Classes, cfg.TopK)
		}
	}
	for i := range preds {
		if preds[i].Error != "" {
			preds[i].Top, preds[i].Timeline = nil, nil
		}
	}
}

// topClasses lists the k most probable classes.
func topClasses(probs []float32, names []string, k int) []ClassProb {
	var out []ClassProb
	for _, c := range TopIndices(probs, k) {
		out = append(out, ClassProb{Class: names[c], Index: c, Prob: float64(probs[c])})
	}
	return out
}

// Segment is a run of consecutive timeline windows with the same top class.
type Segment struct {
	Start, End float64 // seconds
	Class      string
	Prob       float64 // mean probability of Class over the windows
	Windows    int
}

// Segments merges consecutive windows whose top class is the same.
func Segments(timeline []Window) []Segment {
	var out []Segment
	for _, w := range timeline {
		top := w.Top[0]
		if n := len(out); n > 0 && out[n-1].Class == top.Class {
			s := &out[n-1]
			s.Prob = (s.Prob*float64(s.Windows) + top.Prob) / float64(s.Windows+1)
			s.End = w.End
			s.Windows++
			continue
		}
		out = append(out, Segment{Start: w.Start, End: w.End, Class: top.Class, Prob: top.Prob, Windows: 1})
	}
	return out
}

// FormatPredictions renders predictions as readable text for a terminal: the
// top classes of each file and, for long videos, the timeline as segments of
// windows sharing their top class (the JSON keeps every window).
func FormatPredictions(preds []FilePrediction) string {
	var b strings.Builder
	for _, p := range preds {
		if p.Error != "" {
			fmt.Fprintf(&b, "%s\n  error: %s\n\n", filepath.Base(p.File), p.Error)
			continue
		}
		fmt.Fprintf(&b, "%s  (%d frames", p.File, p.Frames)
		if p.FPS > 0 {
			fmt.Fprintf(&b, ", %.1f s", float64(p.Frames)/p.FPS)
		}
		b.WriteString(")\n")
		for i, c := range p.Top {
			fmt.Fprintf(&b, "  %d. %-24s %5.1f%%\n", i+1, c.Class, 100*c.Prob)
		}
		if len(p.Timeline) > 0 {
			segs := Segments(p.Timeline)
			fmt.Fprintf(&b, "  timeline (%d windows, %d segments):\n", len(p.Timeline), len(segs))
			for _, s := range segs {
				fmt.Fprintf(&b, "    %7.2fs-%7.2fs  %-24s %5.1f%%  (%d windows)\n", s.Start, s.End, s.Class, 100*s.Prob, s.Windows)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
