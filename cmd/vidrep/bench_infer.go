package main

// BenchInferCmd implements "vidrep bench infer": pooled features in
// evaluation mode on synthetic clips.
type BenchInferCmd struct {
	BenchModelFlags
}

// Run executes the command.
func (c *BenchInferCmd) Run() error { return c.run(false) }
