package main

import "errors"

// PrepareCmd implements "vidrep prepare".
type PrepareCmd struct{}

// Run executes the command.
func (c *PrepareCmd) Run() error { return errors.New("vidrep prepare: not implemented yet") }
