package main

import "errors"

// BenchTrainCmd implements "vidrep bench_train".
type BenchTrainCmd struct{}

// Run executes the command.
func (c *BenchTrainCmd) Run() error { return errors.New("vidrep bench_train: not implemented yet") }
