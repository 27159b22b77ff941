package main

import "errors"

// KnnCmd implements "vidrep knn".
type KnnCmd struct{}

// Run executes the command.
func (c *KnnCmd) Run() error { return errors.New("vidrep knn: not implemented yet") }
