package main

import "errors"

// PretrainCmd implements "vidrep pretrain".
type PretrainCmd struct{}

// Run executes the command.
func (c *PretrainCmd) Run() error { return errors.New("vidrep pretrain: not implemented yet") }
