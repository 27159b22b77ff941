package main

import "errors"

// PredictCmd implements "vidrep predict".
type PredictCmd struct{}

// Run executes the command.
func (c *PredictCmd) Run() error { return errors.New("vidrep predict: not implemented yet") }
