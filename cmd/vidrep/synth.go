package main

import "errors"

// SynthCmd implements "vidrep synth".
type SynthCmd struct{}

// Run executes the command.
func (c *SynthCmd) Run() error { return errors.New("vidrep synth: not implemented yet") }
