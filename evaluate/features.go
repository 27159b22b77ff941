package evaluate

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/report"
)

// FeatureConfig selects a backbone and the videos to embed.
type FeatureConfig struct {
	DataRoot string // dataset root
	Format   string // dataset layout ("" or "auto")
	Split    int    // 1-based split (default 1)
	// Subset picks the videos: "train", "test", "all" (train then test of the
	// split, the default) or "unlabeled".
	Subset string
	// Ckpt is a run directory, a .safetensors file or "scratch" (a randomly
	// initialised backbone, seeded by Seed: the baseline of retrieval).
	Ckpt string
	// Arch and clip geometry, for a weights file or scratch (a run records them).
	Arch                 string
	Width                float64
	Widths               []int
	Frames, Stride, Size int
	Clips                int    // uniformly spaced clips per video, averaged (default 10, as VCOP)
	Crops                int    // crops per clip, averaged too (default 1: the centre)
	Seed                 uint64 // initialisation of a scratch backbone
	Runtime
}

// Features are per-video embeddings: the backbone's pooled features averaged
// over the clips and crops of each video.
type Features struct {
	IDs     []string    `json:"ids"`    // sample paths, relative to the dataset root
	Labels  []int       `json:"labels"` // class index, or dataset.Unlabeled
	Classes []string    `json:"classes"`
	X       [][]float32 `json:"-"` // [video][dim]
	Failed  int         `json:"failed"`
	WallS   float64     `json:"wall_s"`
	Clips   int         `json:"clips"`
}

func (c FeatureConfig) withDefaults() FeatureConfig {
	if c.Split <= 0 {
		c.Split = 1
	}
	if c.Subset == "" {
		c.Subset = "all"
	}
	if c.Ckpt == "" {
		c.Ckpt = "scratch"
	}
	if c.Clips <= 0 {
		c.Clips = 10
	}
	if c.Crops <= 0 {
		c.Crops = 1
	}
	c.Runtime = c.Runtime.withDefaults()
	return c
}

// featureNetwork builds the backbone a FeatureConfig names, with weights.
func (c FeatureConfig) network() (*network, error) {
	fc := FinetuneConfig{Init: c.Ckpt, Arch: c.Arch, Width: c.Width, Widths: c.Widths, Frames: c.Frames, Stride: c.Stride, Size: c.Size}
	spec, kind, err := fc.resolveSpec()
	if err != nil {
		return nil, err
	}
	net, err := newNetwork(spec, kind, "--ckpt", c.Ckpt, c.Runtime)
	if err != nil {
		return nil, err
	}
	if err := net.ensureBackbone(c.Seed); err != nil {
		net.close()
		return nil, err
	}
	return net, nil
}

// pick returns the samples a subset name selects.
func pick(d *dataset.Dataset, split dataset.Split, subset string) ([]dataset.Sample, error) {
	switch subset {
	case "train":
		return split.Train, nil
	case "test":
		return split.Test, nil
	case "all":
		return append(append([]dataset.Sample(nil), split.Train...), split.Test...), nil
	case "unlabeled":
		if len(d.Unlabeled) == 0 {
			return nil, cli.Usagef("%s has no unlabeled videos; use --subset train, test or all", d.Root)
		}
		return d.Unlabeled, nil
	}
	return nil, cli.Usagef("unknown subset %q; use train, test, all or unlabeled", subset)
}

// ExtractFeatures embeds the videos cfg selects with the backbone it names.
func ExtractFeatures(ctx context.Context, cfg FeatureConfig) (*Features, error) {
	cfg = cfg.withDefaults()
	net, err := cfg.network()
	if err != nil {
		return nil, err
	}
	defer net.close()
	dc := dataCheck{} // features scores nothing: a leak is a warning
	if cfg.Subset == "test" || cfg.Subset == "all" {
		dc.run = cfg.Ckpt
	}
	d, split, _, err := loadChecked(cfg.DataRoot, cfg.Format, cfg.Split, cfg.Runtime, dc)
	if err != nil {
		return nil, err
	}
	samples, err := pick(d, split, cfg.Subset)
	if err != nil {
		return nil, err
	}
	return net.features(ctx, cfg, d, samples)
}

// features embeds samples (clip- and crop-averaged).
func (n *network) features(ctx context.Context, cfg FeatureConfig, d *dataset.Dataset, samples []dataset.Sample) (*Features, error) {
	start := time.Now()
	pv, err := n.runViews(ctx, cfg.Runtime, d.Root, samples, cfg.Clips, cfg.Crops, false, "features")
	if err != nil {
		return nil, err
	}
	f := &Features{Classes: d.Classes, Failed: len(samples) - len(pv.Index), Clips: pv.Clips}
	for i, idx := range pv.Index {
		f.IDs = append(f.IDs, samples[idx].Path)
		f.Labels = append(f.Labels, samples[idx].Label)
		f.X = append(f.X, MeanFeatures(pv.Rows[i]))
	}
	f.WallS = time.Since(start).Seconds()
	return f, nil
}

// extractSplit embeds the train and test videos of a split with one network.
func extractSplit(ctx context.Context, cfg FeatureConfig) (trainF, testF *Features, err error) {
	cfg = cfg.withDefaults()
	net, err := cfg.network()
	if err != nil {
		return nil, nil, err
	}
	defer net.close()
	d, split, _, err := loadChecked(cfg.DataRoot, cfg.Format, cfg.Split, cfg.Runtime, dataCheck{strict: true, run: cfg.Ckpt})
	if err != nil {
		return nil, nil, err
	}
	if trainF, err = net.features(ctx, cfg, d, split.Train); err != nil {
		return nil, nil, err
	}
	testF, err = net.features(ctx, cfg, d, split.Test)
	return trainF, testF, err
}

// NPY encodes the features as a NumPy .npy file (float32, shape [videos, dim]).
func (f *Features) NPY() []byte { return EncodeNPY(f.X) }

// Write writes base.npy (the embeddings), base.ids.txt (one video path per
// line, in row order) and base.json (ids, labels and class names).
func (f *Features) Write(base string) error {
	if err := report.WriteFile(base+".npy", f.NPY()); err != nil {
		return err
	}
	if err := report.WriteFile(base+".ids.txt", []byte(strings.Join(f.IDs, "\n")+"\n")); err != nil {
		return err
	}
	return report.WriteJSON(base+".json", f)
}

// EncodeNPY encodes rows (all of one length) as a version 1.0 .npy file of
// little-endian float32 in C order.
func EncodeNPY(rows [][]float32) []byte {
	dim := 0
	if len(rows) > 0 {
		dim = len(rows[0])
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(rows), dim)
	// magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	buf := make([]byte, 4)
	for _, r := range rows {
		for _, v := range r {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(v))
			b.Write(buf)
		}
	}
	return b.Bytes()
}

// RetrieveConfig configures the VCOP retrieval protocol.
type RetrieveConfig struct {
	FeatureConfig
	Ks  []int  // cut-offs (default 1, 5, 10, 20, 50)
	Out string // a directory for retrieval.json, or a path ending in .json ("" writes nothing)
}

// RetrieveResult holds R@k of the test videos querying the train videos.
type RetrieveResult struct {
	Recall  []RecallAt `json:"recall"`
	Queries int        `json:"queries"`
	Gallery int        `json:"gallery"`
	Clips   int        `json:"clips_per_video"`
	Ckpt    string     `json:"ckpt"`
	WallS   float64    `json:"wall_s"`
}

// At returns R@k, or NaN when k was not computed.
func (r *RetrieveResult) At(k int) float64 {
	for _, x := range r.Recall {
		if x.K == k {
			return x.Recall
		}
	}
	return math.NaN()
}

// Retrieve runs the VCOP retrieval protocol: every video is embedded as the
// mean of its clips' features (10 uniformly spaced clips by default), each
// test video queries the train videos by cosine similarity, and a query hits
// at k when any of its k nearest train videos has its class.
func Retrieve(ctx context.Context, cfg RetrieveConfig) (*RetrieveResult, error) {
	start := time.Now()
	if len(cfg.Ks) == 0 {
		cfg.Ks = []int{1, 5, 10, 20, 50}
	}
	cfg.FeatureConfig = cfg.FeatureConfig.withDefaults()
	trainF, testF, err := extractSplit(ctx, cfg.FeatureConfig)
	if err != nil {
		return nil, err
	}
	rec, err := Retrieval(testF.X, trainF.X, testF.Labels, trainF.Labels, cfg.Ks)
	if err != nil {
		return nil, err
	}
	res := &RetrieveResult{Recall: rec, Queries: len(testF.X), Gallery: len(trainF.X), Clips: cfg.Clips, Ckpt: cfg.Ckpt,
		WallS: time.Since(start).Seconds()}
	if cfg.Out != "" {
		return res, report.WriteJSON(jsonPath(cfg.Out, "retrieval.json"), res)
	}
	return res, nil
}

// jsonPath is out itself when it names a .json file, else out/name.
func jsonPath(out, name string) string {
	if strings.HasSuffix(strings.ToLower(out), ".json") {
		return out
	}
	return filepath.Join(out, name)
}

// KNNConfig configures kNN classification on frozen features.
type KNNConfig struct {
	FeatureConfig
	K           int     // neighbours (default 20)
	Temperature float64 // vote temperature (default 0.07, as InstDisc)
	Majority    bool    // plain majority vote instead of exp(sim/T) weights
	Out         string  // a directory for knn.json, or a path ending in .json ("" writes nothing)
}

// KNNResult holds the kNN classification of the test videos by the train videos.
type KNNResult struct {
	Metrics     Metrics  `json:"metrics"`
	Classes     []string `json:"classes"`
	K           int      `json:"k"`
	Temperature float64  `json:"temperature"`
	Ckpt        string   `json:"ckpt"`
	WallS       float64  `json:"wall_s"`
}

// KNN classifies each test video (clip-averaged feature) by a weighted vote
// of its K most cosine-similar train videos (see KNNScores).
func KNN(ctx context.Context, cfg KNNConfig) (*KNNResult, error) {
	start := time.Now()
	if cfg.K <= 0 {
		cfg.K = 20
	}
	if cfg.Temperature <= 0 {
		cfg.Temperature = 0.07
	}
	temp := cfg.Temperature
	if cfg.Majority {
		temp = 0
	}
	cfg.FeatureConfig = cfg.FeatureConfig.withDefaults()
	trainF, testF, err := extractSplit(ctx, cfg.FeatureConfig)
	if err != nil {
		return nil, err
	}
	m, err := KNNClassify(testF.X, trainF.X, testF.Labels, trainF.Labels, len(trainF.Classes), cfg.K, temp)
	if err != nil {
		return nil, err
	}
	res := &KNNResult{Metrics: m, Classes: trainF.Classes, K: cfg.K, Temperature: temp, Ckpt: cfg.Ckpt, WallS: time.Since(start).Seconds()}
	if cfg.Out != "" {
		return res, report.WriteJSON(jsonPath(cfg.Out, "knn.json"), res)
	}
	return res, nil
}
