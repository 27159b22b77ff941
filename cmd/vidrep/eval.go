package main

import "errors"

// EvalCmd implements "vidrep eval".
type EvalCmd struct{}

// Run executes the command.
func (c *EvalCmd) Run() error { return errors.New("vidrep eval: not implemented yet") }
