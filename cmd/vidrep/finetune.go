package main

import "errors"

// FinetuneCmd implements "vidrep finetune".
type FinetuneCmd struct{}

// Run executes the command.
func (c *FinetuneCmd) Run() error { return errors.New("vidrep finetune: not implemented yet") }
