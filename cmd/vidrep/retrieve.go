package main

import "errors"

// RetrieveCmd implements "vidrep retrieve".
type RetrieveCmd struct{}

// Run executes the command.
func (c *RetrieveCmd) Run() error { return errors.New("vidrep retrieve: not implemented yet") }
