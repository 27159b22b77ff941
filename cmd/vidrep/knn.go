package main

import (
	"fmt"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/report"
)

// KnnCmd implements "vidrep knn".
type KnnCmd struct {
	FeatureFlags
	K           int     `name:"k" help:"Neighbours that vote." default:"20"`
	Temperature float64 `help:"Vote weight exp(similarity/temperature), as InstDisc." default:"0.07"`
	Majority    bool    `help:"Plain majority vote instead of weighted votes."`
	Out         string  `help:"Directory for knn.json (default: the --ckpt run directory)." type:"path"`
}

// Run executes the command.
func (c *KnnCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	res, err := evaluate.KNN(ctx, evaluate.KNNConfig{FeatureConfig: c.config(), K: c.K, Temperature: c.Temperature,
		Majority: c.Majority, Out: outDir(c.Out, c.Ckpt)})
	if err != nil {
		return err
	}
	m := res.Metrics
	fmt.Printf("kNN (k=%d, temperature %g) on clip-averaged features: %d test videos\n", res.K, res.Temperature, m.N)
	t := report.NewTable("", "top-1 %", "top-5 %", "mean class %")
	t.Decimals = 1
	t.AddRow(100*m.Top1, 100*m.Top5, 100*m.MeanClass)
	fmt.Print(t.Plain())
	return nil
}
