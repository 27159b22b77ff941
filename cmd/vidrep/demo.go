package main

import (
	"github.com/vidrep/vidrep/experiment"
)

// DemoCmd implements "vidrep demo": the main job on the embedded default.
type DemoCmd struct {
	Out     string `help:"Directory for the benchmark, the runs and the report (run again on it to resume)." default:"demo-out" type:"path"`
	Seeds   int    `help:"Seeds per cell (0: the demo's default, 10)." default:"0"`
	Prepare bool   `help:"Also run the prepare pass (cache and quarantine) over the generated videos."`
	JobsFlag
	RuntimeFlags
}

// Help describes what the demo does.
func (c *DemoCmd) Help() string {
	return "Generates the synthetic motion benchmark and a labeled source set, pretrains the demo's " +
		"self-supervised method once and trains the supervised source model, fine-tunes and linear-probes every " +
		"initialisation (scratch, self-supervised, supervised transfer) at each label budget with several seeds, " +
		"and writes report.html."
}

// Run executes the command.
func (c *DemoCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	d := experiment.DefaultDemo(c.Out)
	d.Version, d.Prepare = version, c.Prepare
	if c.Seeds > 0 {
		d.Experiment.Seeds = c.Seeds
	}
	d.Experiment.Runtime = c.runtime(0)
	d.Experiment.Jobs = c.Jobs
	res, err := experiment.Demo(ctx, d)
	if err != nil {
		return err
	}
	printResults(res)
	return nil
}
