package main

import "errors"

// DemoCmd implements "vidrep demo".
type DemoCmd struct{}

// Run executes the command.
func (c *DemoCmd) Run() error { return errors.New("vidrep demo: not implemented yet") }
