package main

import "errors"

// BenchInferCmd implements "vidrep bench_infer".
type BenchInferCmd struct{}

// Run executes the command.
func (c *BenchInferCmd) Run() error { return errors.New("vidrep bench_infer: not implemented yet") }
