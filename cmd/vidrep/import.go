package main

import "errors"

// ImportCmd implements "vidrep import".
type ImportCmd struct{}

// Run executes the command.
func (c *ImportCmd) Run() error { return errors.New("vidrep import: not implemented yet") }
