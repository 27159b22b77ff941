// Package synth writes the synthetic motion benchmark: real video files in
// the UCF101 layout whose classes differ only in how an object moves.
//
// Every class draws the appearance of a clip (scene, object shape, colours,
// textures, distractors, occluder, camera shake, noise) from the same
// distributions, and every motion keeps the per-frame distribution of the
// object's position, angle and size the same at every frame index (the world
// wraps around like a torus, angles are uniform, and growing or shrinking
// objects follow a sawtooth over a fixed log-size range). So no single frame
// tells the class; only motion does. Groups gXX are scenes shared by all
// classes, and the three splits test on disjoint blocks of groups, as in
// UCF101.
package synth

import (
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/vidrep/vidrep/internal/cli"
)

// Codecs the benchmark can be written with: "h264" (.mp4, libx264) and
// "mpeg4" (.avi, XviD-tagged MPEG-4 part 2 like UCF101's files).
var Codecs = []string{"h264", "mpeg4"}

// Nuisance sets the class-independent variation of the clips.
type Nuisance struct {
	Distractors int     `json:"distractors"` // most moving distractor objects per clip (each clip draws 0..Distractors)
	Shake       float64 `json:"shake"`       // camera shake: standard deviation of the camera offset, as a fraction of the frame side
	Noise       float64 `json:"noise"`       // standard deviation of per-pixel Gaussian noise, in 0..255 units
	Occlusion   float64 `json:"occlusion"`   // probability that a clip has an occluding bar in front of the scene
	SpeedMin    float64 `json:"speed_min"`   // smallest speed multiplier of a motion (1 is the nominal speed)
	SpeedMax    float64 `json:"speed_max"`   // largest speed multiplier of a motion
	Background  float64 `json:"background"`  // contrast of the background texture, 0 (flat) to 1
	Texture     float64 `json:"texture"`     // contrast of the texture painted on objects, 0 (plain) to 1
	// Friction slows the main object's motion down over each clip (see
	// trajectory): 0 (the default) keeps every motion steady, so that each
	// class played backwards is another class; above 0 time has an arrow.
	Friction float64 `json:"friction,omitempty"`
}

// Config sets what Generate writes.
type Config struct {
	Out           string   `json:"-"`               // output directory
	Classes       int      `json:"classes"`         // number of motion classes, the first Classes of ClassNames
	TrainPerClass int      `json:"train_per_class"` // training clips per class in each split
	TestPerClass  int      `json:"test_per_class"`  // test clips per class in each split (at most TrainPerClass/2: the 3 splits test on disjoint groups)
	ClipsPerGroup int      `json:"clips_per_group"` // clips of one class that one group (scene) renders
	Unlabeled     int      `json:"unlabeled"`       // clips of the unlabeled pool (unlabeled/, listed in unlabeled.txt)
	Frames        int      `json:"frames"`          // frames per clip
	Size          int      `json:"size"`            // frame width and height in pixels (even)
	FPS           int      `json:"fps"`             // frame rate written in the files
	Seed          int64    `json:"seed"`            // everything is a function of the seed
	Codec         string   `json:"codec"`           // "h264" or "mpeg4"
	Workers       int      `json:"-"`               // parallel renderers/encoders (0: one per CPU)
	Nuisance      Nuisance `json:"nuisance"`        // class-independent variation
	Progress      bool     `json:"-"`               // show a progress bar (terminal) or log lines on stderr
}

// DefaultNuisance returns the default nuisance levels.
func DefaultNuisance() Nuisance {
	return Nuisance{
		Distractors: 2,
		Shake:       0.01,
		Noise:       4,
		Occlusion:   0.3,
		SpeedMin:    0.7,
		SpeedMax:    1.4,
		Background:  0.5,
		Texture:     0.6,
	}
}

// DefaultConfig returns the default benchmark: 10 classes, 24 training and
// 12 test clips per class (9 groups of 4 clips), 300 unlabeled clips of 24
// frames at 32x32 pixels, H.264, seed 1. It is sized for `make demo`.
func DefaultConfig() Config {
	return Config{
		Classes:       10,
		TrainPerClass: 24,
		TestPerClass:  12,
		ClipsPerGroup: 4,
		Unlabeled:     300,
		Frames:        24,
		Size:          32,
		FPS:           25,
		Seed:          1,
		Codec:         "h264",
		Workers:       0,
		Nuisance:      DefaultNuisance(),
	}
}

// Validate checks the settings; its errors are usage errors naming the flag.
func (c Config) Validate() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{c.Out == "", "--out is required: the directory to write the benchmark into"},
		{c.Classes < 2 || c.Classes > len(ClassNames), "--classes must be 2 to " + strconv.Itoa(len(ClassNames))},
		{c.TrainPerClass < 1, "--train-per-class must be at least 1"},
		{c.TestPerClass < 1, "--test-per-class must be at least 1"},
		{2*c.TestPerClass > c.TrainPerClass, "--test-per-class must be at most half of --train-per-class, so that the 3 splits test on disjoint groups"},
		{c.ClipsPerGroup < 1, "--clips-per-group must be at least 1"},
		{c.Unlabeled < 0, "--unlabeled must not be negative"},
		{c.Frames < 2 || c.Frames > 10000, "--frames must be 2 to 10000"},
		{c.Size < 16 || c.Size > 1024 || c.Size%2 != 0, "--size must be an even number of pixels from 16 to 1024"},
		{c.FPS < 1 || c.FPS > 240, "--fps must be 1 to 240"},
		{!validCodec(c.Codec), "--codec must be one of " + strings.Join(Codecs, ", ")},
		{c.Workers < 0, "--workers must not be negative (0 uses every CPU)"},
	}
	for _, ch := range checks {
		if ch.bad {
			return cli.Usagef("synth: %s", ch.msg)
		}
	}
	if err := c.Nuisance.validate(); err != nil {
		return err
	}
	return c.validateFriction()
}

// MaxFrictionSpeedup bounds --friction: the first step of a clip may be at
// most this many times the nominal step.
const MaxFrictionSpeedup = 4

// validateFriction checks that friction keeps the first step of a clip
// within MaxFrictionSpeedup times the nominal one.
func (c Config) validateFriction() error {
	limit := math.Log(MaxFrictionSpeedup) / max(1, float64(c.Frames-1)/2-1)
	if f := c.Nuisance.Friction; outside(f, 0, limit) {
		return cli.Usagef("synth: --friction must be 0 to %.3g for %d frames (larger values start a clip more than %dx faster than its nominal speed)", limit, c.Frames, MaxFrictionSpeedup)
	}
	return nil
}

// validate checks the nuisance levels.
func (n Nuisance) validate() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{n.Distractors < 0 || n.Distractors > 20, "--distractors must be 0 to 20"},
		{outside(n.Shake, 0, 0.2), "--shake must be 0 to 0.2 (a fraction of the frame side)"},
		{outside(n.Noise, 0, 100), "--noise must be 0 to 100 (pixel standard deviation)"},
		{outside(n.Occlusion, 0, 1), "--occlusion must be a probability, 0 to 1"},
		{!(n.SpeedMin > 0 && n.SpeedMin <= n.SpeedMax && n.SpeedMax <= 10), "--speed-min and --speed-max must satisfy 0 < min <= max <= 10"},
		{outside(n.Background, 0, 1), "--background must be 0 to 1"},
		{outside(n.Texture, 0, 1), "--texture must be 0 to 1"},
	}
	for _, ch := range checks {
		if ch.bad {
			return cli.Usagef("synth: %s", ch.msg)
		}
	}
	return nil
}

// outside reports whether v is not in [lo, hi]; NaN is outside every range.
func outside(v, lo, hi float64) bool { return !(v >= lo && v <= hi) }

func validCodec(c string) bool {
	for _, k := range Codecs {
		if c == k {
			return true
		}
	}
	return false
}

// Ext returns the file extension (with the dot) of the configured codec.
func (c Config) Ext() string {
	if c.Codec == "mpeg4" {
		return ".avi"
	}
	return ".mp4"
}

// workers returns the number of parallel workers to use.
func (c Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.NumCPU()
}
