package main

import "errors"

// ExperimentCmd implements "vidrep experiment".
type ExperimentCmd struct{}

// Run executes the command.
func (c *ExperimentCmd) Run() error { return errors.New("vidrep experiment: not implemented yet") }
