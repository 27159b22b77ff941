package main

import "errors"

// FeaturesCmd implements "vidrep features".
type FeaturesCmd struct{}

// Run executes the command.
func (c *FeaturesCmd) Run() error { return errors.New("vidrep features: not implemented yet") }
