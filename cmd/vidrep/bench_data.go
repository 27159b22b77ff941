package main

import "errors"

// BenchDataCmd implements "vidrep bench_data".
type BenchDataCmd struct{}

// Run executes the command.
func (c *BenchDataCmd) Run() error { return errors.New("vidrep bench_data: not implemented yet") }
