package main

import "errors"

// ExportCmd implements "vidrep export".
type ExportCmd struct{}

// Run executes the command.
func (c *ExportCmd) Run() error { return errors.New("vidrep export: not implemented yet") }
