package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/report"
	"github.com/vidrep/vidrep/train"
)

// EvalConfig configures multi-view testing of a fine-tuned run.
type EvalConfig struct {
	DataRoot string // dataset root
	Format   string // dataset layout ("" or "auto" detects it)
	Split    int    // 1-based split (default 1)
	Ckpt     string // run directory with model.json and checkpoint.safetensors
	Clips    int    // uniformly spaced clips per video (default 10)
	Crops    int    // crops per clip: 1 or 3 (default 3)
	Out      string // where to write the results (default Ckpt/eval)
	Runtime
}

// EvalResult is the outcome of multi-view testing.
type EvalResult struct {
	Clip      Metrics           `json:"clip"`  // every view scored alone
	Video     Metrics           `json:"video"` // softmax averaged over the views of a video
	Classes   []string          `json:"classes"`
	Clips     int               `json:"clips"`
	Crops     int               `json:"crops"`
	Videos    int               `json:"videos"` // test videos scored
	Failed    int               `json:"failed"` // test videos that could not be decoded
	Preds     []VideoPrediction `json:"-"`
	WallS     float64           `json:"wall_s"`
	ClipsPerS float64           `json:"clips_per_s"` // 0 when the features were reused
	// FeaturesReused is set when a linear probe's test features came from
	// an earlier probe of the same backbone (FeatureCache): no clip was run.
	FeaturesReused bool              `json:"features_reused,omitempty"`
	Files          map[string]string `json:"files,omitempty"` // what was written, by kind
	// Warnings are the data checks' findings that did not stop the run: a
	// class without videos, test videos the run trained on (see loadChecked).
	Warnings []string `json:"warnings,omitempty"`
}

// VideoPrediction is the video-level prediction for one test video.
type VideoPrediction struct {
	Path      string  `json:"path"`
	Label     int     `json:"label"`
	Predicted int     `json:"predicted"`
	Prob      float64 `json:"prob"` // averaged probability of the predicted class
}

func (c EvalConfig) withDefaults() EvalConfig {
	if c.Split <= 0 {
		c.Split = 1
	}
	if c.Clips <= 0 {
		c.Clips = 10
	}
	if c.Crops <= 0 {
		c.Crops = 3
	}
	if c.Out == "" {
		c.Out = filepath.Join(c.Ckpt, "eval")
	}
	c.Runtime = c.Runtime.withDefaults()
	return c
}

// Evaluate tests a fine-tuned run on the test videos of a split with Clips
// uniformly spaced clips x Crops crops per video and writes eval.json,
// confusion.csv, confusion.png, per_class.csv and predictions.csv to Out.
func Evaluate(ctx context.Context, cfg EvalConfig) (*EvalResult, error) {
	cfg = cfg.withDefaults()
	net, err := loadClassifier(cfg.Ckpt, cfg.Runtime)
	if err != nil {
		return nil, err
	}
	defer net.close()
	d, split, warns, err := loadChecked(cfg.DataRoot, cfg.Format, cfg.Split, cfg.Runtime, dataCheck{strict: true, run: cfg.Ckpt})
	if err != nil {
		return nil, err
	}
	if err := sameClasses(d.Classes, net.spec.Classes, cfg.Ckpt); err != nil {
		return nil, err
	}
	res, err := net.evaluate(ctx, cfg.Runtime, d.Root, split.Test, cfg.Clips, cfg.Crops, nil)
	if err != nil {
		return nil, err
	}
	res.Warnings = warns
	return res, WriteEval(cfg.Out, res)
}

// loadClassifier loads a run with a classification head.
func loadClassifier(ckpt string, rt Runtime) (*network, error) {
	if st, err := os.Stat(ckpt); err != nil || !st.IsDir() {
		return nil, cli.Usagef("--ckpt %s: no such run directory; give the --out directory of a vidrep finetune run", ckpt)
	}
	if _, err := os.Stat(filepath.Join(ckpt, train.CheckpointFile)); err != nil {
		return nil, cli.Usagef("--ckpt %s: no %s in it; give the --out directory of a finished vidrep finetune run", ckpt, train.CheckpointFile)
	}
	spec, err := ReadModelSpec(ckpt)
	if err != nil {
		return nil, err
	}
	if len(spec.Classes) == 0 || spec.Arch == "" {
		return nil, cli.Usagef("--ckpt %s: the run has no classification head (no classes in %s); fine-tune it first with vidrep finetune --init %s", ckpt, ModelFile, ckpt)
	}
	spec = spec.withClipDefaults()
	bb, err := spec.Backbone()
	if err != nil {
		return nil, err
	}
	store, err := train.LoadStore(ckpt, BackboneScope, HeadScope)
	if err != nil {
		return nil, err
	}
	backend, owned, err := rt.openBackend()
	if err != nil {
		return nil, err
	}
	return &network{backend: backend, owned: owned, store: store, spec: spec, bb: bb}, nil
}

// sameClasses checks that a dataset has the classes a head was trained on.
func sameClasses(data, head []string, ckpt string) error {
	if len(data) != len(head) {
		return fmt.Errorf("the dataset has %d classes but %s was trained on %d; evaluate on the dataset it was fine-tuned on", len(data), ckpt, len(head))
	}
	for i := range data {
		if data[i] != head[i] {
			return fmt.Errorf("class %d is %q in the dataset but %q in %s; evaluate on the dataset it was fine-tuned on", i, data[i], head[i], ckpt)
		}
	}
	return nil
}

// loadSplit loads a dataset and one of its splits.
func loadSplit(root, format string, n int) (*dataset.Dataset, dataset.Split, error) {
	if root == "" {
		return nil, dataset.Split{}, cli.Usagef("no dataset given; pass --data DIR")
	}
	if format == "" {
		format = "auto"
	}
	d, err := dataset.Load(root, format)
	if err != nil {
		return nil, dataset.Split{}, err
	}
	split, err := d.Split(n)
	if err != nil {
		return nil, dataset.Split{}, err
	}
	if len(split.Train) == 0 || len(split.Test) == 0 {
		return nil, dataset.Split{}, fmt.Errorf("%s: split %d has %d train and %d test videos; both must be non-empty", root, n, len(split.Train), len(split.Test))
	}
	return d, split, nil
}

// evaluate runs multi-view testing of the network on samples. With a
// linear probe fitted on the frozen backbone, the probe is applied to the
// backbone's features (see viewLogits).
func (n *network) evaluate(ctx context.Context, rt Runtime, root string, samples []dataset.Sample, clips, crops int, probe *LinearModel) (*EvalResult, error) {
	start := time.Now()
	pv, reused, err := n.viewLogits(ctx, rt, root, samples, clips, crops, probe)
	if err != nil {
		return nil, err
	}
	labels := make([]int, len(pv.Index))
	for i, idx := range pv.Index {
		labels[i] = samples[idx].Label
	}
	clip, vid, err := MultiView(pv.Rows, labels, len(n.spec.Classes))
	if err != nil {
		return nil, err
	}
	res := &EvalResult{Clip: clip, Video: vid, Classes: n.spec.Classes, Clips: clips, Crops: max(1, crops),
		Videos: len(pv.Index), Failed: len(samples) - len(pv.Index)}
	for i, idx := range pv.Index {
		avg := AverageViews(pv.Rows[i])
		p := Argmax(avg)
		res.Preds = append(res.Preds, VideoPrediction{Path: samples[idx].Path, Label: labels[i], Predicted: p, Prob: float64(avg[p])})
	}
	res.WallS = time.Since(start).Seconds()
	if res.WallS > 0 && !reused {
		res.ClipsPerS = float64(pv.Clips) / res.WallS
	}
	res.FeaturesReused = reused
	return res, nil
}

// viewLogits returns the logits of every view of samples, and whether they
// were computed from features kept by an earlier probe of the same
// backbone. A linear probe (not nil) is applied, as it was fitted, to the
// frozen backbone's features, which rt.Features may already hold; without
// one the network's own head runs with the backbone.
func (n *network) viewLogits(ctx context.Context, rt Runtime, root string, samples []dataset.Sample, clips, crops int, probe *LinearModel) (*perView, bool, error) {
	if probe == nil {
		pv, err := n.runViews(ctx, rt, root, samples, clips, crops, true, "eval")
		return pv, false, err
	}
	feats, reused, err := n.testFeatures(ctx, rt, root, samples, clips, crops)
	if err != nil {
		return nil, false, err
	}
	out := &perView{Index: feats.Index, Rows: make([][][]float32, len(feats.Rows)), Clips: feats.Clips}
	for i, views := range feats.Rows {
		out.Rows[i] = probe.Predict(views)
	}
	return out, reused, nil
}

// WriteEval writes an EvalResult to dir: eval.json, confusion.csv (rows true
// class, columns predicted, video level), confusion.png, per_class.csv and
// predictions.csv. It records the paths in res.Files.
func WriteEval(dir string, res *EvalResult) error {
	res.Files = map[string]string{
		"json": filepath.Join(dir, "eval.json"), "confusion_csv": filepath.Join(dir, "confusion.csv"),
		"confusion_png": filepath.Join(dir, "confusion.png"), "per_class": filepath.Join(dir, "per_class.csv"),
		"predictions": filepath.Join(dir, "predictions.csv"),
	}
	if err := report.WriteJSON(res.Files["json"], res); err != nil {
		return err
	}
	if err := writeCSV(res.Files["confusion_csv"], confusionTable(res)); err != nil {
		return err
	}
	png, err := report.ConfusionPNG(res.Video.Confusion, res.Classes,
		fmt.Sprintf("video-level confusion (top-1 %.1f%%, %d clips x %d crops)", 100*res.Video.Top1, res.Clips, res.Crops))
	if err != nil {
		return err
	}
	if err := report.WriteFile(res.Files["confusion_png"], png); err != nil {
		return err
	}
	if err := writeCSV(res.Files["per_class"], perClassTable(res)); err != nil {
		return err
	}
	return writeCSV(res.Files["predictions"], predictionsTable(res))
}

func writeCSV(path string, t *report.Table) error {
	var b strings.Builder
	if err := t.WriteCSV(&b); err != nil {
		return err
	}
	return report.WriteFile(path, []byte(b.String()))
}

// confusionTable is the video-level confusion matrix with class names.
func confusionTable(res *EvalResult) *report.Table {
	t := report.NewTable("confusion (rows: true class, columns: predicted)", append([]string{"true\\predicted"}, res.Classes...)...)
	for i, row := range res.Video.Confusion {
		cells := []any{res.Classes[i]}
		for _, v := range row {
			cells = append(cells, v)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// perClassTable lists each class's support and clip- and video-level accuracy.
func perClassTable(res *EvalResult) *report.Table {
	t := report.NewTable("per-class accuracy", "class", "videos", "video_acc", "clip_acc")
	t.Decimals = 4
	for c, name := range res.Classes {
		t.Rows = append(t.Rows, []any{name, res.Video.Support[c], res.Video.PerClass[c], res.Clip.PerClass[c]})
	}
	return t
}

// predictionsTable lists every test video's prediction.
func predictionsTable(res *EvalResult) *report.Table {
	t := report.NewTable("video predictions", "path", "label", "predicted", "prob", "correct")
	t.Decimals = 4
	for _, p := range res.Preds {
		t.Rows = append(t.Rows, []any{p.Path, res.Classes[p.Label], res.Classes[p.Predicted], p.Prob, p.Label == p.Predicted})
	}
	return t
}
